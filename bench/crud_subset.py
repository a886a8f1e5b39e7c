"""Write a CRUD-RAG subset for evaluation: every gold article of a question set plus N distractors.

    python bench/crud_subset.py OUT.jsonl [--questions ../shared/eval/crud_dev.jsonl]
        [--corpus ../shared/corpus/crud_rag/news.jsonl.xz] [--distractors 6000] [--seed 13]
        [--exclude EARLIER.jsonl] [--no-gold]

``--exclude`` + ``--no-gold`` write more distractors for an index that already holds an earlier
subset (how the 20,032-article crud index grew from the 6,432-article one).

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

from rag.evaluation.subset import gold_ids, subset_ids, write_subset

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--questions", type=Path, default=SHARED / "eval" / "crud_dev.jsonl")
    p.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "crud_rag" / "news.jsonl.xz")
    p.add_argument("--distractors", type=int, default=6000)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--exclude", type=Path, help="leave out the articles of this earlier subset")
    p.add_argument("--no-gold", action="store_true", help="distractors only")
    a = p.parse_args(argv)
    for path in (a.questions, a.corpus) + ((a.exclude,) if a.exclude else ()):
        if not path.exists():
            print(f"error: {path} not found", file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    exclude = subset_ids(a.exclude) if a.exclude else set()
    summary = write_subset(
        a.corpus, gold_ids(a.questions), a.distractors, a.seed, a.out, exclude=exclude, with_gold=not a.no_gold
    )
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
