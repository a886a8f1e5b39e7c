"""Fit the learned ranker (rag/retrieval/ranker_{hybrid,bm25}.json) with k-fold cross-validation
by question, and print held-out numbers against today's default.  Prints JSON.

    python bench/fit_ranker.py [--write] [--folds 5] [--cache /tmp/ranker-cache]

Question sets and their roles (each over the index its articles are in):

* ``crud_dev`` (crud6k), ``dev`` (seeds), ``sample`` (sample): split into k folds by question;
  fold f is scored by a model fitted on the other folds (plus the training-only sets), so every
  number printed for them is held out;
* ``adversarial seeds.tune`` / ``crud.tune``: training only;
* ``adversarial seeds.report`` / ``crud.report``: never trained on, scored by the model fitted on
  everything else (the model that ``--write`` saves).

For each question the product's own retrieve step runs once with a capturing second stage
(stated filters, the first stage at the ranker's depth) and the candidates are kept; the
features are then computed by rag.retrieval.features exactly as at query time, and every
variant is scored through the product's collapse (rag.retrieval.diversity) and the evaluation
harness's relevance rules.  ``before`` is the retrieve step before issue 17 (answer-type
rescoring, up to two hits per article), run as such; ``first_stage``, ``answer_type`` (today's
default) and ``learned`` order the same candidates and collapse them as the default does.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import RANKING_SETS, ROOT, SHARED, machine

from rag.assistant import Assistant
from rag.evaluation.questions import load_questions
from rag.evaluation.relevance import hit_at, hit_rank, mrr
from rag.logistic import LogisticModel
from rag.retrieval.diversity import collapse
from rag.retrieval.features import DENSE_FEATURES, FEATURES, candidate_features
from rag.retrieval.pipeline import PipelineOptions, RetrievalPipeline
from rag.retrieval.ranker import DEPTH, model_path
from rag.retrieval.rerank import AnswerTypeReranker, BaseReranker
from rag.settings import Settings
from rag.text.asked import read_question

SETS = RANKING_SETS
# --scale: crud_dev again over 20,032 articles (hybrid) and all 63,603 (a lexical-only index:
# BM25), in crud_dev's folds (a question is never trained on at one size and scored at another)
SCALE = {
    "hybrid": (("crud_dev_20k", SHARED / "eval" / "crud_dev.jsonl", ROOT / "index" / "crud20k", "folds:crud_dev"),),
    "bm25": (("crud_dev_63k", SHARED / "eval" / "crud_dev.jsonl", ROOT / "index" / "crud-all", "folds:crud_dev"),),
}
TODAY = dict(reranker="answer-type", per_article=2, passages=1)  # the retrieve step before issue 17


class Capture(BaseReranker):
    """A second stage that keeps what it was given (the question's retrieval text and the hits)."""

    name, depth = "capture", DEPTH

    def __init__(self) -> None:
        self.query, self.hits = "", []

    def rerank(self, question, hits):
        self.query, self.hits = question.text, list(hits)
        return list(hits)


@dataclass
class Item:
    set: str
    qid: str
    question: object
    query: str
    hits: list
    today: int | None  # rank under today's default retrieve step
    rows: np.ndarray = field(default=None)
    labels: np.ndarray = field(default=None)


def capture(name: str, path: Path, index: Path, channel: str) -> list[Item]:
    settings = Settings.load(index=index, **TODAY)
    bot = Assistant(settings)
    options = PipelineOptions.from_settings(settings)
    grab = Capture()
    wide = RetrievalPipeline(bot.index, bot.retriever(channel), grab, replace(options, per_article=0, near_dup=1.0))
    items = []
    for q in load_questions(path):
        if not q.answerable:
            continue
        asked = read_question(q.question)
        today = hit_rank(q, bot.pipeline(channel).run(asked, 10).hits)
        wide.run(asked, 10)
        items.append(Item(name, q.id, q, grab.query, grab.hits, today))
    bot.close()
    return items


def load(cache: Path, channel: str, sets) -> dict[str, list[Item]]:
    out = {}
    for name, path, index, _ in sets:
        file = cache / f"{name}.{channel}.pkl"
        if file.exists():
            items = [Item(*fields) for fields in pickle.loads(file.read_bytes())]
        else:
            t0 = time.perf_counter()
            items = capture(name, path, index, channel)
            file.write_bytes(pickle.dumps([(i.set, i.qid, i.question, i.query, i.hits, i.today) for i in items]))
            print(f"captured {name} ({channel}): {len(items)} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        for it in items:
            it.rows = candidate_features(read_question(it.query), it.hits)
            if channel == "bm25":
                it.rows[:, [FEATURES.index(f) for f in DENSE_FEATURES]] = 0.0
            it.labels = np.array([hit_rank(it.question, [h]) == 1 for h in it.hits], dtype=np.int8)
        out[name] = items
    return out


def rank_with(item: Item, scores) -> int | None:
    """The rank of the first relevant article when the candidates are ordered by ``scores``
    and collapsed as the default retrieve step does (one hit per article, two passages)."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    hits = [item.hits[i] for i in order]
    return hit_rank(item.question, collapse(hits, 10, 1, 0.8, 900, 2))


def pairs(items: list[Item], mean, scale, per_question: int = 60, seed: int = 5):
    """Feature differences (relevant − not relevant, and the reverse) within each question, the
    irrelevant side from other articles; every question weighs the same."""
    rng = np.random.default_rng(seed)
    xs, ys, ws = [], [], []
    for it in items:
        pos = np.flatnonzero(it.labels)
        if not len(pos) or len(pos) == len(it.labels):
            continue
        gold_articles = {it.hits[i].chunk.article_id for i in pos}
        neg = np.array([i for i in range(len(it.hits)) if it.hits[i].chunk.article_id not in gold_articles])
        if not len(neg):
            continue
        a = rng.choice(pos, per_question)
        b = rng.choice(neg, per_question)
        d = ((it.rows[a] - mean) / scale) - ((it.rows[b] - mean) / scale)
        xs += [d, -d]
        ys += [np.ones(per_question), np.zeros(per_question)]
        ws += [np.full(2 * per_question, 1.0 / per_question)]
    return np.vstack(xs), np.concatenate(ys), np.concatenate(ws)


def fit(items: list[Item], c: float) -> LogisticModel:
    """A linear pairwise model (logistic loss on feature differences, RankNet-style)."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([it.rows for it in items])
    mean, scale = x.mean(0), x.std(0)
    scale[scale < 1e-9] = 1.0
    dx, dy, dw = pairs(items, mean, scale)
    model = LogisticRegression(C=c, max_iter=2000, fit_intercept=False).fit(dx, dy, sample_weight=dw)
    y = np.concatenate([it.labels for it in items])
    return LogisticModel(
        FEATURES,
        tuple(map(float, mean)),
        tuple(map(float, scale)),
        tuple(map(float, model.coef_[0])),
        0.0,
        meta={"positives": int(y.sum()), "rows": len(y), "questions": len(items), "C": c},
    )


def summary(ranks: list) -> dict:
    return {
        "n": len(ranks),
        "hit@1": round(hit_at(ranks, 1), 3),
        "hit@5": round(hit_at(ranks, 5), 3),
        "mrr": round(mrr(ranks), 3),
    }


def evaluate(sets: dict[str, list[Item]], roles, folds: int, c: float, seed: int = 17) -> dict:
    """Held-out ranks per set and variant (``roles``: (name, _, _, role) as in SETS)."""
    rng = np.random.default_rng(seed)
    fold_of = {}
    for name, _, _, role in roles:
        if role == "folds":
            ids = [it.qid for it in sets[name]]
            perm = rng.permutation(len(ids))
            fold_of.update({(name, ids[j]): i % folds for i, j in enumerate(perm)})
    for name, _, _, role in roles:
        if role.startswith("folds:"):  # the same questions over another index: the same folds
            fold_of.update({(name, it.qid): fold_of[(role[6:], it.qid)] for it in sets[name]})
    train_only = [it for name, _, _, role in roles if role == "train" for it in sets[name]]
    in_folds = [it for name, _, _, role in roles if role.startswith("folds") for it in sets[name]]
    ranks: dict[str, dict[str, list]] = {}
    at = AnswerTypeReranker()  # the default second stage: the first 30 rescored

    def record(variant, item, rank):
        ranks.setdefault(item.set, {}).setdefault(variant, []).append(rank)

    def score_all(model, items):
        for it in items:
            learned = model.logits(it.rows)
            record("before", it, it.today)
            record("first_stage", it, rank_with(it, -np.arange(len(it.hits))))
            record("answer_type", it, rank_with(it, at_scores(at, it)))
            record("learned", it, rank_with(it, learned))

    for f in range(folds):
        held = [it for it in in_folds if fold_of[(it.set, it.qid)] == f]
        train = [it for it in in_folds if fold_of[(it.set, it.qid)] != f] + train_only
        score_all(fit(train, c), held)
    final = fit(in_folds + train_only, c)
    score_all(final, [it for name, _, _, role in roles if role == "report" for it in sets[name]])
    table = {s: {v: summary(r) for v, r in by.items()} for s, by in ranks.items()}
    return {"table": table, "model": final}


def at_scores(at: AnswerTypeReranker, item: Item) -> list[float]:
    head = item.hits[: at.top]
    extra = at.sentence_score(read_question(item.query), head)
    scores = [1.0 / (at.prior_k + i) + at.weight * e for i, e in enumerate(extra, 1)]
    return scores + [-float(i) for i in range(len(item.hits) - len(head))]  # the rest as they were


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--c", type=float, default=1.0)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/ranker-cache"))
    ap.add_argument("--channels", default="hybrid,bm25")
    ap.add_argument("--write", action="store_true", help="save the models fitted on all training questions")
    ap.add_argument("--scale", action="store_true", help="crud_dev also at 20k / 63k articles (measurement only)")
    args = ap.parse_args()
    if args.scale and args.write:
        ap.error("--scale measures; the shipped models are fitted without it")
    args.cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report = {"machine": machine(), "folds": args.folds, "C": args.c, "channels": {}}
    for channel in args.channels.split(","):
        roles = SETS + (SCALE[channel] if args.scale else ())
        sets = load(args.cache, channel, roles)
        result = evaluate(sets, roles, args.folds, args.c)
        model = result["model"]
        report["channels"][channel] = {
            "held_out": result["table"],
            "coef": dict(zip(FEATURES, (round(x, 3) for x in model.coef), strict=True)),
        }
        if args.write:
            meta = {**model.meta, "channel": channel, "sets": [s[0] for s in SETS if s[3] != "report"]}
            data = replace(model, meta=meta).to_json()
            model_path(channel).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
