"""Did two evaluation runs give the same outputs?  Question by question: the answer, its short
span, refusal and reason, every citation and every retrieved passage (rank, score, text,
article) — everything but timings.  Prints JSON; exit 1 when any question differs.

    python bench/same_outputs.py RUN_A RUN_B   (an `rag eval --out` folder or its report.json)

A refactoring that claims "behaviour unchanged" runs the same question set before and after and
shows ``"differing": []`` here, beside `rag eval compare` (which compares the aggregate metrics).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

OUTPUT_KEYS = ("answer", "short", "refused", "reason", "citations", "hits", "error", "rank")


def load(run: Path) -> dict[str, dict]:
    path = run / "report.json" if run.is_dir() else run
    data = json.loads(path.read_text(encoding="utf-8"))
    return {q["id"]: q for q in data["questions"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_a", type=Path)
    p.add_argument("run_b", type=Path)
    args = p.parse_args(argv)
    a, b = load(args.run_a), load(args.run_b)
    differing = {
        qid: [k for k in OUTPUT_KEYS if a[qid].get(k) != b[qid].get(k)]
        for qid in sorted(a.keys() & b.keys())
        if any(a[qid].get(k) != b[qid].get(k) for k in OUTPUT_KEYS)
    }
    print(
        json.dumps(
            {
                "a": str(args.run_a),
                "b": str(args.run_b),
                "questions": len(a.keys() & b.keys()),
                "only_in_a": sorted(a.keys() - b.keys()),
                "only_in_b": sorted(b.keys() - a.keys()),
                "differing": differing,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    return 1 if differing or a.keys() != b.keys() else 0


if __name__ == "__main__":
    sys.exit(main())
