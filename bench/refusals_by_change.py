"""Unanswerable questions refused, per kind of one-change (``_perturbation``: year, place, person …),
for one or more ``rag eval`` runs of the same question set (issue 32's closing table).

    python bench/refusals_by_change.py eval/adversarial/seeds.report.jsonl RUN_A RUN_B
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path


def refused_by_change(questions: Path, run: Path) -> dict[str, tuple[int, int]]:
    change = {}
    for line in questions.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            change[row["id"]] = row.get("_perturbation") or "?"
    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for q in report["questions"]:
        if not q["answerable"]:
            out[change.get(q["id"], "?")][0] += int(q["refused"])
            out[change.get(q["id"], "?")][1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("runs", type=Path, nargs="+")
    args = ap.parse_args()
    tables = {str(r): refused_by_change(args.questions, r) for r in args.runs}
    changes = sorted({c for t in tables.values() for c in t})
    print("| change | n | " + " | ".join(Path(r).name for r in tables) + " |")
    print("|---|---:|" + "---:|" * len(tables))
    for c in changes:
        n = next(t[c][1] for t in tables.values() if c in t)
        cells = [f"{t[c][0]}/{t[c][1]}" if c in t else "—" for t in tables.values()]
        print(f"| {c} | {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
