"""How many retrieval misses of a crud_dev report are the gold story under another id? Prints JSON.

    python bench/gold_duplicates.py eval/reports/crud-all-bm25/report.json [--k 5]

CRUD-RAG holds the same news item several times (different sites, ids and dates). A question whose
gold article is not in the top k may still have the evidence there, from a copy: a top-k passage
counts as a copy when ≥ 80 % of its character 4-grams occur in the gold article.  The metric
(gold id only) is left as is; this script says how much of a drop with archive size is copies.
"""

from __future__ import annotations

import argparse
import json
import lzma
import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"


def grams(text: str, n: int = 4) -> set[str]:
    text = "".join(text.split())
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("report", type=Path)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--questions", type=Path, default=SHARED / "eval" / "crud_dev.jsonl")
    p.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "crud_rag" / "news.jsonl.xz")
    a = p.parse_args(argv)
    report = json.loads(a.report.read_text("utf-8"))
    gold = {}
    for line in a.questions.open(encoding="utf-8"):
        if line.strip():
            q = json.loads(line)
            gold[q["id"]] = q.get("gold_doc_ids") or []
    wanted = {g for ids in gold.values() for g in ids}
    texts = {}
    with lzma.open(a.corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec["id"] in wanted:
                texts[rec["id"]] = grams(rec["text"])
    misses = [q for q in report["questions"] if q["answerable"] and not (q["rank"] and q["rank"] <= a.k)]
    copies = []
    for q in misses:
        gold_grams = set().union(*(texts.get(g, set()) for g in gold.get(q["id"], [])))
        for h in q["hits"][: a.k]:
            g = grams(h["text"])
            if g and len(g & gold_grams) / len(g) >= 0.8:
                copies.append({"id": q["id"], "rank": h["rank"], "doc_id": h["doc_id"]})
                break
    print(
        json.dumps(
            {
                "report": str(a.report),
                "k": a.k,
                "answerable": sum(q["answerable"] for q in report["questions"]),
                "misses": len(misses),
                "misses_with_a_copy_of_gold_in_top_k": len(copies),
                "hit@k_counting_copies": round(
                    1 - (len(misses) - len(copies)) / max(1, sum(q["answerable"] for q in report["questions"])), 3
                ),
                "examples": copies[:5],
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
