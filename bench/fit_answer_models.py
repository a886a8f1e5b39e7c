"""Fit the answerer's two models on question sets: which sentence answers
(rag/generation/sentence_choice.json), then whether the passages answer at all
(rag/generation/answerability.json).

    python bench/fit_answer_models.py --augment \
        --set eval/questions.jsonl=index/sample --set ../shared/eval/dev.jsonl=index/seeds \
        --set ../shared/eval/crud_dev.jsonl=index/crud6k \
        --set eval/adversarial/seeds.tune.jsonl=index/seeds --set eval/adversarial/crud.tune.jsonl=index/crud6k \
        --cache /tmp/fitcache

Every question is retrieved through the real pipeline (the façade's retrieve step, default
settings) and assessed by the extractive generator: the same code computes the features at
fit and at query time.

**Sentence choice**: over the best-scored candidate sentences of each answerable question
whose evidence was retrieved, label = the sentence states the gold answer; a logistic model
(balanced) is cross-validated by question, and written only when its out-of-fold top-1
accuracy (the chosen sentence states the answer) beats the model in the file (shipped: the
hand-set order — agreement, then score with span, predicate and specifics bonuses — which the
learned one has not beaten: .740 against .765 over 311 questions).

**Answerability**, with the fitted choice: label = the question is answerable.  A scikit-learn logistic regression
(standardised features, balanced classes) is cross-validated with ``--folds`` folds by
question; the threshold is the highest at which the out-of-fold false-refusal rate over the
answerable questions stays ≤ ``--max-false-refusal``, both with every set weighing the same and
over all answerable rows together.  Both models are then refitted on all
rows and written as JSON.  Prints a JSON summary (out-of-fold figures per set).  ``--cache DIR``
keeps each set's retrieved passages between runs (pickles, local only).
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from rag.assistant import Assistant
from rag.evaluation.metrics import contains_gold
from rag.evaluation.questions import Question, load_questions
from rag.evaluation.relevance import hit_rank
from rag.generation.answerability import FEATURES, MODEL_FILE, READER_FEATURES, READER_MODEL_FILE, load_model
from rag.generation.candidates import (
    CHOICE_FEATURES,
    CHOICE_FILE,
    READER_CHOICE_FEATURES,
    READER_CHOICE_FILE,
    load_choice_model,
)
from rag.generation.extractive import CANDIDATES, ExtractiveGenerator
from rag.logistic import LogisticModel
from rag.settings import Settings
from rag.text.asked import read_question


def retrieved(spec: str, cache: Path | None, augment: bool, seed: int) -> list[tuple]:
    """(question, hits, origin id) for every question of a ``questions=index`` spec, and with
    ``augment`` one unanswerable twin (bench/perturb.py) of each answerable question where a
    change applies, retrieved the same way."""
    qfile, index = spec.split("=", 1)
    name = Path(qfile).name + "." + Path(index).name + (f".aug{seed}" if augment else "") + ".pkl"
    key = cache / name if cache else None
    if key and key.is_file():
        return pickle.loads(key.read_bytes())
    bot = Assistant(Settings.load(index=Path(index)))
    questions = load_questions(qfile)
    rows = [(q, bot.retrieve(q.question).hits, q.id) for q in questions]
    if augment:
        from perturb import pool_of, twin

        pool, rng = pool_of(q.question for q in questions), random.Random(seed)
        for q, hits, _ in list(rows):
            text = "\n".join(f"{h.article.headline}{h.article.text}" for h in hits)
            made = twin(q.question, text, pool, rng) if q.answerable else None
            if made:
                change, question = made
                fake = Question(id=f"{q.id}~{change}", question=question, type=q.type)
                rows.append((fake, bot.retrieve(question).hits, q.id))
    bot.close()
    if key:
        key.parent.mkdir(parents=True, exist_ok=True)
        key.write_bytes(pickle.dumps(rows))
    return rows


def features_of(
    specs: list[str],
    cache: Path | None,
    gen: ExtractiveGenerator,
    k: int,
    augment: bool = False,
    seed: int = 16,
    names: tuple[str, ...] = FEATURES,
) -> list[dict]:
    """One row per question the model decides on; ``found``: its evidence is in the top ``k``."""
    out = []
    for spec in specs:
        for q, hits, origin in retrieved(spec, cache, augment, seed):
            hits = hits[:k]
            asked = read_question(q.question)
            if not asked.intent.chinese or asked.intent.kind == "paper_issue":
                continue  # decided without the model
            found = gen.assess(asked, hits) if hits else None
            out.append(
                {
                    "set": spec.split("=")[0],
                    "id": q.id,
                    "group": f"{spec}:{origin}",
                    "synthetic": "~" in q.id,
                    "kind": asked.intent.kind,
                    "y": int(q.answerable),
                    "found": bool(q.answerable and hit_rank(q, hits)),
                    # with --reader, a question the reader does not read (a comparison) is decided
                    # by the model without it: not a row of this one
                    "x": [found.features[f] for f in names] if found and set(names) <= set(found.features) else None,
                }
            )
    return out


def fit(x: np.ndarray, y: np.ndarray, c: float, weight: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=1000)
    model.fit((x - mean) / scale, y, sample_weight=weight)
    return mean, scale, model


def as_model(features: tuple[str, ...], mean, scale, model, threshold: float, meta: dict) -> LogisticModel:
    """A fitted scikit-learn logistic regression as the product's JSON model."""
    return LogisticModel(
        features,
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(float(v) for v in model.coef_[0]),
        float(model.intercept_[0]),
        threshold,
        meta,
    )


def out_of_fold(
    x: np.ndarray, y: np.ndarray, weight: np.ndarray, groups: np.ndarray, folds: int, c: float, seed: int
) -> np.ndarray:
    """Probabilities from models that never saw the question (nor its twin: folds by group)."""
    from sklearn.model_selection import StratifiedGroupKFold

    p = np.zeros(len(y))
    for train, test in StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(x, y, groups):
        mean, scale, model = fit(x[train], y[train], c, weight[train])
        p[test] = model.predict_proba((x[test] - mean) / scale)[:, 1]
    return p


def choose_threshold(p: np.ndarray, weight: np.ndarray, max_false_refusal: float) -> float:
    """The highest threshold whose weighted share of refused answerable rows (``p`` below it)
    stays within the limit; with every question set weighing the same, no one set decides."""
    order = np.argsort(p)
    refused = np.cumsum(weight[order]) / weight.sum()  # share refused at a threshold just above p[i]
    ok = np.nonzero(refused <= max_false_refusal)[0]
    return float(p[order][ok[-1] + 1]) if len(ok) and ok[-1] + 1 < len(p) else float(p[order][0])


def fit_choice(args) -> tuple[LogisticModel, dict]:
    """The sentence-choice model, fitted on which candidate sentences state the gold answer."""
    # candidates' features do not depend on the choice (the reader reads the feature-only order's first)
    gen = ExtractiveGenerator(threshold=0.0, reader=args.reader_model, model=load_model(), choice=load_choice_model())
    names = READER_CHOICE_FEATURES if args.reader_model else CHOICE_FEATURES
    x, y, groups, before = [], [], [], []
    for spec in args.set:
        for q, hits, _ in retrieved(spec, args.cache, args.augment, args.seed):
            hits = hits[: args.k]
            if "~" in q.id or not q.answerable or not hits or not hit_rank(q, hits):
                continue
            asked = read_question(q.question)
            pool = gen.rank(asked, hits)[:CANDIDATES]
            candidates = gen.candidates(asked, pool, hits)
            if args.reader_model and any("reader" not in c.features for c in candidates):
                continue  # not read (a comparison): the feature-only choice model decides it
            labels = [int(contains_gold(c.scored.sentence.text, q.answer, q.aliases)) for c in candidates]
            if not any(labels):
                continue  # no single sentence states it: nothing to learn here
            group = f"{spec}:{q.id}"
            start = len(y)
            for c, label in zip(candidates, labels, strict=True):
                x.append([c.features[f] for f in names])
                y.append(label)
                groups.append(group)
            hand = max(range(len(candidates)), key=lambda i: gen.base_choice.logit(candidates[i].features))
            before.append((start, len(y), labels[hand]))
    xa, ya, ga = np.array(x, dtype=float), np.array(y), np.array(groups)
    weight = np.ones(len(ya))
    p = out_of_fold(xa, ya, weight, ga, args.folds, args.c, args.seed)
    learned = [int(ya[a + int(np.argmax(p[a:b]))]) for a, b, _ in before]
    mean, scale, model = fit(xa, ya, args.c, weight)
    meta = {
        "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sets": args.set,
        "questions": len(before),
        "candidates": len(ya),
        "top1_hand_set": round(sum(b for *_, b in before) / len(before), 3),
        "top1_learned_out_of_fold": round(sum(learned) / len(learned), 3),
    }
    return as_model(names, mean, scale, model, 0.5, meta), meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", action="append", required=True, help="questions.jsonl=index folder (repeat)")
    ap.add_argument("--out", type=Path, help=f"default {MODEL_FILE.name} ({READER_MODEL_FILE.name} with --reader)")
    ap.add_argument("--choice-out", type=Path, help=f"default {CHOICE_FILE.name} ({READER_CHOICE_FILE.name})")
    ap.add_argument("--reader", action="store_true", help="the models with the reader's feature (rag.reader)")
    ap.add_argument("--k", type=int, default=Settings().k, help="passages the answer reads")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    ap.add_argument("--max-false-refusal", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--cache", type=Path)
    ap.add_argument("--augment", action="store_true", help="add one-change unanswerable twins (bench/perturb.py)")
    args = ap.parse_args(argv)
    args.reader_model = None
    if args.reader:
        from rag.reader import Reader

        args.reader_model = Reader()
    args.out = args.out or (READER_MODEL_FILE if args.reader else MODEL_FILE)
    args.choice_out = args.choice_out or (READER_CHOICE_FILE if args.reader else CHOICE_FILE)
    names = READER_FEATURES if args.reader else FEATURES

    choice, choice_meta = fit_choice(args)
    if choice_meta["top1_learned_out_of_fold"] > choice_meta["top1_hand_set"]:
        args.choice_out.write_text(json.dumps(choice.to_json(), ensure_ascii=False, indent=1) + "\n", "utf-8")
        choice_meta["kept"] = "learned"
    else:  # the order it would replace is as good: keep it
        choice = load_choice_model()
        choice_meta["kept"] = "hand-set (the learned one is not better)"
        if args.reader:  # the reader's feature then weighs nothing in the choice: written so
            hand = load_choice_model()
            choice = LogisticModel(
                READER_CHOICE_FEATURES,
                (*hand.mean, 0.0),
                (*hand.scale, 1.0),
                (*hand.coef, 0.0),
                hand.intercept,
                0.5,
                choice_meta,
            )
            args.choice_out.write_text(json.dumps(choice.to_json(), ensure_ascii=False, indent=1) + "\n", "utf-8")
    gen = ExtractiveGenerator(threshold=0.0, choice=choice, reader=args.reader_model, model=load_model())
    rows = features_of(args.set, args.cache, gen, args.k, args.augment, args.seed, names)
    # trained on what the passages can decide: unanswerable questions, and answerable ones whose
    # evidence is among the k passages read (the rest cannot be answered from them anyway)
    usable = [r for r in rows if r["x"] is not None and (r["y"] == 0 or r["found"])]
    x = np.array([r["x"] for r in usable], dtype=float)
    y = np.array([r["y"] for r in usable])
    sets = np.array([r["set"] + ("~" if r["synthetic"] else "") for r in usable])
    groups = np.array([r["group"] for r in usable])
    share = {s: (sets == s).sum() for s in set(sets)}
    weight = np.array([len(usable) / (len(share) * share[s]) for s in sets])  # every set weighs the same
    p = out_of_fold(x, y, weight, groups, args.folds, args.c, args.seed)
    # ≤ the limit with every set weighing the same, and over all answerable rows as they come (the
    # first alone let the large CRUD sets run to 9 % out of fold while the small ones stayed under)
    threshold = min(
        choose_threshold(p[y == 1], weight[y == 1], args.max_false_refusal),
        choose_threshold(p[y == 1], np.ones(int(y.sum())), args.max_false_refusal),
    )
    mean, scale, model = fit(x, y, args.c, weight)

    def rates(mask: np.ndarray) -> dict:
        pos, neg = mask & (y == 1), mask & (y == 0)
        return {
            "n": int(mask.sum()),
            "false_refusal": round(float((p[pos] < threshold).mean()), 3) if pos.any() else None,
            "refusal_of_unanswerable": round(float((p[neg] < threshold).mean()), 3) if neg.any() else None,
        }

    meta = {
        "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sets": args.set,
        "k": args.k,
        "rows": len(usable),
        "answerable_with_evidence": int(y.sum()),
        "unanswerable": int((1 - y).sum()),
        "synthetic_unanswerable": sum(r["synthetic"] for r in usable),
        "left_out_answerable_without_evidence": sum(r["y"] == 1 and not r["found"] for r in rows),
        "folds": args.folds,
        "C": args.c,
        "max_false_refusal": args.max_false_refusal,
        "augment": args.augment,
        "out_of_fold": {"all": rates(np.ones(len(y), bool)), **{s: rates(sets == s) for s in dict.fromkeys(sets)}},
    }
    fitted = as_model(names, mean, scale, model, round(threshold, 4), meta)
    args.out.write_text(json.dumps(fitted.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    coefs = dict(zip(names, (round(c, 3) for c in fitted.coef), strict=True))
    summary = {"sentence_choice": choice_meta, "answerability": {**meta, "threshold": fitted.threshold, "coef": coefs}}
    json.dump(summary, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
