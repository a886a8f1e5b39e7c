"""Write a CRUD-RAG subset for evaluation: every gold article of a question set plus N distractors.

    python bench/crud_subset.py OUT.jsonl [--questions ../shared/eval/crud_dev.jsonl]
        [--corpus ../shared/corpus/crud_rag/news.jsonl.xz] [--distractors 6000] [--seed 13]

The corpus is streamed (never held in memory); distractors are a seeded reservoir
sample of the non-gold articles, so the same arguments always give the same file.
Prints a JSON summary. The output is other people's text: keep it out of the repo
(``index/`` is git-ignored).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rag.evaluation.subset import gold_ids, write_subset

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--questions", type=Path, default=SHARED / "eval" / "crud_dev.jsonl")
    p.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "crud_rag" / "news.jsonl.xz")
    p.add_argument("--distractors", type=int, default=6000)
    p.add_argument("--seed", type=int, default=13)
    a = p.parse_args(argv)
    for path in (a.questions, a.corpus):
        if not path.exists():
            print(f"error: {path} not found", file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    summary = write_subset(a.corpus, gold_ids(a.questions), a.distractors, a.seed, a.out)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
