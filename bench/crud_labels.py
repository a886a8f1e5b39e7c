"""How much of a crud_dev report's misses are the labels' doing? Prints JSON.

    python bench/crud_labels.py eval/reports/crud/report.json [--index index/crud6k]

crud_dev's gold articles are those that contain the answer string, not necessarily the article
a question was written from.  Each question is put in one group by its gold article: "unrelated"
when the best gold article holds under 30 % of the question's content words (rag.text.terms,
unweighted), "underspecified" when the question has under three content words, else "rest";
hit@5 and MRR are printed per group from the report's ranks.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.evaluation.questions import load_questions
from rag.text.normalize import compact
from rag.text.terms import content_terms, coverage

SHARED = Path(__file__).resolve().parents[2] / "shared"
UNRELATED = 0.3


def group_of(question: str, gold_texts: list[str]) -> str:
    terms = content_terms(question)
    flat = {t: 1.0 for t in terms}
    best = max((coverage(terms, flat, t) for t in gold_texts), default=0.0) if terms else 0.0
    if best < UNRELATED:
        return "unrelated"
    return "underspecified" if len(terms) < 3 else "rest"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("report", type=Path)
    p.add_argument("--index", type=Path, default=Path("index/crud6k"))
    p.add_argument("--questions", type=Path, default=SHARED / "eval" / "crud_dev.jsonl")
    a = p.parse_args(argv)
    for path in (a.report, a.index / "rag.sqlite", a.questions):
        if not path.exists():
            print(f"error: {path} not found", file=sys.stderr)
            return 2
    ranks = {q["id"]: q["rank"] for q in json.loads(a.report.read_text(encoding="utf-8"))["questions"]}
    con = sqlite3.connect(a.index / "rag.sqlite")
    groups: dict[str, list] = {"unrelated": [], "underspecified": [], "rest": []}
    for q in load_questions(a.questions):
        if q.id not in ranks or not q.gold_doc_ids:
            continue
        marks = ",".join("?" * len(q.gold_doc_ids))
        rows = con.execute(f"SELECT headline, text FROM articles WHERE doc_id IN ({marks})", q.gold_doc_ids)
        groups[group_of(q.question, [compact(h + t) for h, t in rows])].append(ranks[q.id])
    out = {
        name: {
            "questions": len(r),
            "hit@5": round(sum(1 for x in r if x and x <= 5) / max(1, len(r)), 3),
            "mrr": round(sum(1 / x for x in r if x) / max(1, len(r)), 3),
        }
        for name, r in groups.items()
    }
    print(json.dumps({"report": str(a.report), "index": str(a.index), "groups": out}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
