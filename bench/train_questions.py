"""Answerable questions for fitting the answer models, drawn from the training split
(``../shared/train/crud_qa_train.jsonl``, CRUD-RAG, Apache-2.0, disjoint by item from every set
the product is measured on): those whose answer is printed verbatim in an article of the given
index, with that article as gold.  Written as a question set (the harness's JSONL)::

    python bench/train_questions.py index/crud6k build/answer-train/crud_train.jsonl --n 600

A fixed seed draws one question per item (no item weighs more than another), ``--n`` of them.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
from pathlib import Path

TRAIN = Path(__file__).resolve().parents[2] / "shared" / "train" / "crud_qa_train.jsonl"


def indexed_ids(index: Path) -> set[str]:
    """The doc ids of the articles an index holds."""
    with sqlite3.connect(f"file:{index / 'rag.sqlite'}?mode=ro", uri=True) as db:
        return {row[0] for row in db.execute("SELECT DISTINCT doc_id FROM articles")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--train", type=Path, default=TRAIN)
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--seed", type=int, default=32)
    args = ap.parse_args(argv)
    held = indexed_ids(args.index)
    by_item: dict[str, list[dict]] = {}
    for line in args.train.open(encoding="utf-8"):
        row = json.loads(line)
        gold = [d for d in row["answer_doc_ids"] if d in held]
        if gold and row["answer"].strip():
            by_item.setdefault(row["item"], []).append({**row, "gold": gold})
    rng = random.Random(args.seed)
    picked = [rng.choice(rows) for _, rows in sorted(by_item.items())]
    rng.shuffle(picked)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for row in picked[: args.n]:
            out = {"id": row["id"], "question": row["question"], "answer": row["answer"], "gold_doc_ids": row["gold"]}
            f.write(json.dumps(out, ensure_ascii=False) + "\n")
    print(json.dumps({"items_with_an_indexed_answer": len(by_item), "written": min(args.n, len(picked))}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
