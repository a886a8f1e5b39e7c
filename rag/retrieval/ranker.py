"""The learned second stage: a logistic model over each candidate's features
(rag.retrieval.features), fitted by bench/fit_ranker.py on questions of four sets with k-fold
cross-validation by question, stored as plain JSON beside this file — one model per first
stage (``ranker_hybrid.json``, ``ranker_bm25.json``; a dense-only first stage uses the
hybrid one with its BM25 features at 0).  The model scores passages; the pipeline's collapse
then keeps each article's best, so the ranking is of articles.

``explain`` gives each feature's share of a hit's score (``rag search --explain``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rag.logistic import LogisticModel, read_model
from rag.models import Hit
from rag.retrieval.base import BaseReranker, reorder
from rag.retrieval.features import FEATURES, candidate_features
from rag.text.asked import Question

MODEL_DIR = Path(__file__).parent
DEPTH = 100  # first-stage candidates the model rescores


def model_path(channel: str) -> Path:
    return MODEL_DIR / f"ranker_{channel}.json"


class LearnedReranker(BaseReranker):
    name = "learned"

    def __init__(self, models: dict[str, LogisticModel] | None = None, depth: int = DEPTH) -> None:
        self.models = models or {c: read_model(str(model_path(c)), FEATURES) for c in ("hybrid", "bm25")}
        self.depth = depth

    def model_for(self, hits: Sequence[Hit]) -> LogisticModel:
        """The hybrid model when the candidates carry dense scores, else the BM25 one."""
        dense = any("dense" in h.scores for h in hits)
        return self.models["hybrid" if dense else "bm25"]

    def rerank(self, question: Question, hits: Sequence[Hit]) -> list[Hit]:
        """The candidates by the model's score; each keeps its feature values in ``scores``
        (``feature:<name>``) for :meth:`explain`."""
        head, tail = list(hits[: self.depth]), list(hits[self.depth :])
        if len(head) < 2:
            return list(hits)
        rows = candidate_features(question, head)
        head = [
            replace(h, scores={**h.scores, **{f"feature:{f}": float(v) for f, v in zip(FEATURES, row, strict=True)}})
            for h, row in zip(head, rows, strict=True)
        ]
        return reorder(head, tail, self.model_for(head).logits(rows).tolist(), self.name)

    def explain(self, hit: Hit) -> dict[str, float]:
        """Each feature's contribution to the hit's score (relative to the fitted mean, so
        comparing two hits' contributions says why one won), the largest first; empty when
        the hit was not ranked by this model."""
        if any(f"feature:{f}" not in hit.scores for f in FEATURES):
            return {}
        values = {f: hit.scores[f"feature:{f}"] for f in FEATURES}
        model = self.models["hybrid" if "dense" in hit.scores else "bm25"]
        parts = model.contributions(values)
        return dict(sorted(parts.items(), key=lambda p: -abs(p[1])))
