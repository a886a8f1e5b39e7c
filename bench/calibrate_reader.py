"""The refusal curve of the reader *alone* (issue 32) over the adversarial tuning halves: each
question asked through the whole product with the sentence the reader finds likeliest, and
refused when the reader's probability for it is below a threshold — the share of unanswerable
questions refused and of answerable ones refused wrongly at each threshold, and the highest
threshold whose false refusals stay ≤ ``--max-false``.  This is why the reader is a feature of
the answerability model rather than the decision (docs/reader.md).

    python bench/calibrate_reader.py

``--set questions=index`` (repeatable) measures other sets the same way (e.g. the report halves,
to compare two readers on questions neither was fitted on: the ``auc`` between answerable and
unanswerable questions, and the curve); the threshold it prints is then for reading only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from rag.assistant import Assistant
from rag.evaluation.questions import load_questions
from rag.generation.extractive import CANDIDATES, ExtractiveGenerator
from rag.reader import MODEL_DIR, Reader
from rag.settings import Settings
from rag.text.asked import read_question

ROOT = Path(__file__).resolve().parents[1]
TUNE = (("eval/adversarial/seeds.tune.jsonl", "index/seeds"), ("eval/adversarial/crud.tune.jsonl", "index/crud6k"))


def probabilities(questions: str, index: str, reader: Reader) -> list[tuple[bool, float]]:
    """(answerable, the reader's best probability over the sentences it reads) per question."""
    bot = Assistant(Settings.load(index=Path(index)))
    gen = ExtractiveGenerator(threshold=0.0, reader=reader)
    out = []
    for q in load_questions(Path(questions)):
        asked = read_question(q.question)
        hits = bot.retrieve(q.question).hits
        found = gen.assess(asked, hits) if hits and asked.intent.chinese else None
        read = gen.candidates(asked, found.ranked[:CANDIDATES], hits) if found else []
        out.append((q.answerable, max((c.features.get("reader", 0.0) for c in read), default=0.0)))
    return out


def curve(rows: list[tuple[bool, float]], steps: int = 101) -> list[dict]:
    good = np.array([p for a, p in rows if a])
    bad = np.array([p for a, p in rows if not a])
    return [
        {
            "threshold": round(t, 3),
            "refused_unanswerable": round(float((bad < t).mean()), 4) if len(bad) else None,
            "false_refusals": round(float((good < t).mean()), 4) if len(good) else None,
        }
        for t in np.linspace(0, 1, steps)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=MODEL_DIR)
    ap.add_argument("--max-false", type=float, default=0.05)
    ap.add_argument("--set", action="append", help="questions.jsonl=index (default: the tuning halves)")
    args = ap.parse_args()
    reader = Reader(args.model)
    rows = []
    for questions, index in [tuple(spec.split("=", 1)) for spec in args.set or []] or TUNE:
        if not (ROOT / index / "rag.sqlite").exists():
            sys.exit(f"error: build {index} first (make eval-adversarial builds both)")
        rows += probabilities(str(ROOT / questions), str(ROOT / index), reader)
    points = curve(rows)
    ok = [p for p in points if p["false_refusals"] is not None and p["false_refusals"] <= args.max_false]
    chosen = max(ok, key=lambda p: p["threshold"])
    from sklearn.metrics import roc_auc_score

    fit = {
        "rule": f"highest threshold with false refusals <= {args.max_false} on the tuning halves",
        "sets": args.set or ["the tuning halves"],
        "auc": round(float(roc_auc_score([a for a, _ in rows], [p for _, p in rows])), 4),
        "questions": len(rows),
        "answerable": sum(a for a, _ in rows),
        "chosen": chosen,
        "curve": points[::5],
    }
    print(json.dumps(fit, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
