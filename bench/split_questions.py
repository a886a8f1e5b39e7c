"""Split a question set once into a tuning half and a report half (fixed seed).

    python bench/split_questions.py eval/adversarial/seeds.jsonl eval/adversarial/crud.jsonl

An unanswerable question made from an answerable one (``_from``) goes to the same half as its
origin, so nothing tuned on one half has a near-twin in the other.  Writes ``NAME.tune.jsonl``
and ``NAME.report.jsonl`` beside each file and prints the counts as JSON.  Run once, commit the
halves, never re-split: report only the report half.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SEED = 16


def split(path: Path, seed: int = SEED) -> dict:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_id = {r["id"]: r for r in rows}

    def root(r: dict) -> str:
        while r.get("_from") in by_id and r["_from"] != r["id"]:
            r = by_id[r["_from"]]
        return r["id"]

    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(root(r), []).append(r)
    names = sorted(groups)
    random.Random(seed).shuffle(names)
    tune = set(names[: len(names) // 2])
    counts = {}
    for half, keep in (("tune", lambda g: g in tune), ("report", lambda g: g not in tune)):
        chosen = [r for g in names if keep(g) for r in groups[g]]
        chosen.sort(key=lambda r: r["id"])
        out = path.with_suffix(f".{half}.jsonl")
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chosen), encoding="utf-8")
        counts[half] = {"rows": len(chosen), "unanswerable": sum(not r.get("answer") for r in chosen)}
    return counts


if __name__ == "__main__":
    print(json.dumps({p: split(Path(p)) for p in sys.argv[1:]}, ensure_ascii=False))
