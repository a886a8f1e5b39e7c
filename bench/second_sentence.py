"""When should an answer show a second sentence?  Over the answerable questions of the tuning
sets (those the answer models are fitted on; never the adversarial report halves), compare rules
that pick it: how many answers get one, how many of those sentences state the gold answer, and
how many answers it rescues (the chosen sentence lacks the answer, the second states it)::

    python bench/second_sentence.py --set ../shared/eval/crud_dev.jsonl=index/crud6k \\
        --set ../shared/eval/dev.jsonl=index/seeds --set eval/questions.jsonl=index/sample \\
        --set eval/adversarial/crud.tune.jsonl=index/crud6k \\
        --set eval/adversarial/seeds.tune.jsonl=index/seeds --cache build/fitcache

Rules: ``score`` (the former one: a sentence scoring ≥ 0.6 of the chosen one that covers a
question word better; with a span, one that holds the asked kind), ``margin<m`` (the choice
model's runner-up when its logit is within m of the chosen one's), ``gain>=g`` (a sentence scoring
≥ 0.6 of the chosen one that covers ≥ g of the question's weighted words the chosen one lacks)
either of the two (``gain>=g|margin<m``), and ``shipped`` (rag.generation.shapes.second_sentence:
gain ≥ 0.3, else margin < 0.1).
Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fit_answer_models import retrieved

from rag.evaluation.metrics import contains_gold
from rag.evaluation.relevance import hit_rank
from rag.generation.answerability import load_model
from rag.generation.candidates import Assessment, load_choice_model
from rag.generation.extractive import ExtractiveGenerator
from rag.generation.shapes import continuation, second_sentence
from rag.settings import Settings
from rag.text.asked import read_question
from rag.text.sentences import END_MARK

SHAPED = ("multipart", "comparison", "yesno", "paper_issue")  # answers shaped otherwise


def by_score(found: Assessment, ratio: float = 0.6) -> str:
    """The rule before issue 35: close in score, a content word covered better."""
    best = found.best
    for c in found.ranked:
        if c.score < ratio * best.score:
            break
        if c.sentence.norm == best.sentence.norm or (found.span and not c.holds):
            continue
        if any(v > best.own[t] for t, v in c.own.items()) and END_MARK.search(c.sentence.text):
            return c.sentence.text
    return ""


def by_gain(found: Assessment, gain: float) -> str:
    return "".join(s.text for s in second_sentence(found, gain=gain, margin=0.0))  # no runner-up: margins are ≥ 0


def by_margin(found: Assessment, margin: float) -> str:
    return "".join(s.text for s in second_sentence(found, gain=float("inf"), margin=margin))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", action="append", required=True, help="questions.jsonl=index folder (repeat)")
    ap.add_argument("--cache", type=Path)
    ap.add_argument("--margins", default="0.02,0.05,0.1,0.15,0.25")
    ap.add_argument("--gains", default="0.1,0.2,0.3,0.4")
    args = ap.parse_args(argv)
    gen = ExtractiveGenerator(threshold=0.0, model=load_model(), choice=load_choice_model())
    rules = {
        "score": by_score,
        **{f"margin<{m}": (lambda f, m=float(m): by_margin(f, m)) for m in args.margins.split(",")},
        **{f"gain>={g}": (lambda f, g=float(g): by_gain(f, g)) for g in args.gains.split(",")},
        **{
            f"gain>={g}|margin<{m}": (
                lambda f, g=float(g), m=float(m): "".join(s.text for s in second_sentence(f, gain=g, margin=m))
            )
            for g in args.gains.split(",")
            for m in args.margins.split(",")
        },
        "shipped": lambda f: "".join(s.text for s in second_sentence(f)),
    }
    tally = {name: {"answers": 0, "with_second": 0, "second_states_gold": 0, "rescued": 0} for name in rules}
    for spec in args.set:
        for q, hits, _ in retrieved(spec, args.cache, True, 16):
            hits = hits[: Settings().k]
            if "~" in q.id or not q.answerable or not hits or not hit_rank(q, hits):
                continue
            asked = read_question(q.question)
            if asked.intent.kind in SHAPED or not asked.intent.chinese:
                continue
            found = gen.assess(asked, hits)
            if found is None or continuation(found):
                continue
            first = contains_gold(found.best.sentence.text + found.span, q.answer, q.aliases)
            for name, rule in rules.items():
                second, t = rule(found), tally[name]
                t["answers"] += 1
                if second:
                    states = contains_gold(second, q.answer, q.aliases)
                    t["with_second"] += 1
                    t["second_states_gold"] += states
                    t["rescued"] += states and not first
    json.dump(tally, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
