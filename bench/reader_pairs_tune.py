"""Reader pairs from the adversarial tuning halves (issue 32: "your adversarial tune half may
join"): for each question, the sentences the reader reads at answer time — the extractive
generator's ``READ`` candidates the feature-only choice model ranks first, over the passages
the façade retrieves — labelled 1 where an answerable question's gold answer is in the
sentence, 0 otherwise (every sentence of an unanswerable question is 0: written by people, one
change away from an answerable one).  Appended to a pairs file of bench/reader_pairs.py, in
folds 1–4 only (fold 0 stays the CRUD held-out fold)::

    python bench/reader_pairs_tune.py build/reader/pairs-v2.jsonl build/reader/pairs-v3.jsonl \\
        --set eval/adversarial/seeds.tune.jsonl=index/seeds \\
        --set eval/adversarial/crud.tune.jsonl=index/crud6k --repeat 4

The report halves, dev and eval/questions never join.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fit_answer_models import retrieved

from rag.evaluation.metrics import contains_gold
from rag.generation.answerability import load_model
from rag.generation.candidates import load_choice_model
from rag.generation.extractive import CANDIDATES, READ, ExtractiveGenerator
from rag.reader import pair_text
from rag.settings import Settings
from rag.text.asked import read_question


def fold_of(question_id: str) -> int:
    """1–4 from a hash of the question's origin (a twin joins its original's fold)."""
    return 1 + int(hashlib.sha1(question_id.encode()).hexdigest(), 16) % 4


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pairs", type=Path, help="the pairs of bench/reader_pairs.py")
    ap.add_argument("out", type=Path)
    ap.add_argument("--set", action="append", required=True, help="questions.jsonl=index (tuning halves only)")
    ap.add_argument("--repeat", type=int, default=4, help="times each pair is written (they are few)")
    ap.add_argument("--cache", type=Path, default=Path("build/fitcache"))
    args = ap.parse_args(argv)
    if any("report" in spec for spec in args.set):
        sys.exit("error: the report halves are never trained on")
    gen = ExtractiveGenerator(threshold=0.0, model=load_model(), choice=load_choice_model())
    made, counts = [], {"questions": 0, "pairs": 0, "positive": 0}
    for spec in args.set:
        rows = [json.loads(line) for line in Path(spec.split("=")[0]).read_text("utf-8").splitlines() if line.strip()]
        origin_of = {r["id"]: r.get("_from") or r["id"] for r in rows}
        for q, hits, _ in retrieved(spec, args.cache, True, 16):
            if "~" in q.id or not hits:
                continue  # the machine-made twins of the fit cache: the CRUD pairs have theirs
            asked = read_question(q.question)
            if not asked.intent.chinese or asked.intent.kind in ("comparison", "paper_issue"):
                continue  # the reader reads neither
            hits = hits[: Settings().k]
            pool = gen.rank(asked, hits)[:CANDIDATES]
            candidates = sorted(gen.candidates(asked, pool, hits), key=lambda c: -gen.base_choice.logit(c.features))
            counts["questions"] += 1
            for c in candidates[:READ]:
                s = c.scored.sentence
                label = int(q.answerable and contains_gold(s.text, q.answer, q.aliases))
                kind = "tune-answer" if label else ("tune-unanswerable" if not q.answerable else "tune-other")
                row = {
                    "id": q.id,
                    "fold": fold_of(origin_of.get(q.id, q.id)),
                    "question": q.question,
                    "passage": pair_text(s.text, s.hit.article.headline, s.hit.article.date),
                    "label": label,
                    "kind": kind,
                }
                made.append(row)
                counts["pairs"] += 1
                counts["positive"] += label
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.pairs, args.out)
    with args.out.open("a", encoding="utf-8") as f:
        for _ in range(args.repeat):
            for row in made:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(json.dumps({**counts, "repeat": args.repeat}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
