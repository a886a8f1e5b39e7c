"""Second-stage rescoring of the first-stage candidates, behind one ``Reranker`` protocol.

* ``AnswerTypeReranker`` (offline, milliseconds): moves up passages whose best sentence
  covers the question's content words (IDF-weighted over the candidates, as the extractive
  answerer weighs them) *and* holds what the question asks for (a number with the asked
  unit, a date, a person with a role, a place).  The first-stage order stays the prior:
  ``score = 1/(prior_k + rank) + weight × sentence score``.
* ``LearnedReranker`` (rag.retrieval.ranker): a logistic model over each candidate's
  features, fitted by bench/fit_ranker.py; an option, not the default (it does not beat
  answer-type on every set's held-out folds: docs/retrieval.md).
* ``ReaderReranker`` (``reranker = "reader"``): the trained reader (rag.reader) reads each of
  the top 20 passages' two best-covering sentences against the question; a passage scores
  its best sentence's probability, the first-stage order a small prior.
* ``CrossEncoderReranker``: any sentence-transformers ``CrossEncoder`` id or local folder
  (``reranker = "cross-encoder:/models/bge-reranker"``), loaded offline.

``make_reranker("")`` is None: no rescoring.  ``answer-type`` is the default because
``rag eval`` shows it helps on both dev sets (docs/retrieval.md, "what each step buys");
weight 0.08 with prior 1/(10 + rank) was the best of 0.01–0.3 on crud_dev.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.models import Hit
from rag.retrieval.base import BaseReranker, Reranker, reorder
from rag.text.asked import Question
from rag.text.normalize import compact
from rag.text.sentences import sentence_spans
from rag.text.terms import coverage, sentence_coverage, term_weights


class AnswerTypeReranker(BaseReranker):
    name = "answer-type"

    def __init__(self, weight: float = 0.08, prior_k: int = 10, top: int = 30) -> None:
        self.weight, self.prior_k, self.top = weight, prior_k, top
        self.depth = top  # the first stage fetches at least this many

    def sentence_score(self, question: Question, hits: Sequence[Hit]) -> list[float]:
        """Per hit: the best sentence's weighted content-word coverage, halved when it does
        not hold what the question asks for."""
        terms = question.terms
        asks = [a for a in question.asks if a.kind != "list"]
        if not terms:
            return [0.0] * len(hits)
        weights = term_weights(terms, [compact(f"{h.article.headline}\n{h.chunk.text}") for h in hits])
        out = []
        for h in hits:
            best, typed = sentence_coverage(terms, weights, compact(h.chunk.text), asks, question.compact)
            out.append(max(typed, 0.5 * best) if asks else best)
        return out

    def rerank(self, question: Question, hits: Sequence[Hit]) -> list[Hit]:
        head, tail = list(hits[: self.top]), list(hits[self.top :])
        if len(head) < 2:
            return list(hits)
        extra = self.sentence_score(question, head)
        scores = [1.0 / (self.prior_k + i) + self.weight * e for i, e in enumerate(extra, 1)]
        return reorder(head, tail, scores, self.name)


class CrossEncoderReranker(BaseReranker):
    name = "cross-encoder"

    def __init__(self, model: str, top: int = 30, batch_size: int = 16) -> None:
        from sentence_transformers import CrossEncoder

        try:
            self.model = CrossEncoder(model, local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any loading failure becomes one clear line
            raise ValueError(
                f"cannot load the cross-encoder {model!r} offline ({exc}); give a "
                "local folder or a model already in the Hugging Face cache"
            ) from None
        self.top, self.batch_size = top, batch_size

    def rerank(self, question: Question, hits: Sequence[Hit]) -> list[Hit]:
        head, tail = list(hits[: self.top]), list(hits[self.top :])
        if not head:
            return []
        pairs = [(question.text, f"{h.article.headline}\n{h.chunk.text}") for h in head]
        scores = [float(s) for s in self.model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)]
        return reorder(head, tail, scores, self.name)


class ReaderReranker(BaseReranker):
    name = "reader"

    def __init__(self, top: int = 20, per_passage: int = 2, weight: float = 0.2, prior_k: int = 10) -> None:
        from rag.reader import shared_reader

        reader = shared_reader()
        if reader is None:
            raise ValueError("the reader's weights are missing or damaged (see the log): use another reranker")
        self.reader, self.top, self.per_passage, self.weight, self.prior_k = reader, top, per_passage, weight, prior_k
        self.depth = top

    def _sentences(self, question: Question, hit: Hit, weights: dict[str, float]) -> list[str]:
        from rag.reader import pair_text

        spans = sentence_spans(hit.chunk.text, min_chars=4)
        texts = [hit.chunk.text[a:b] for a, b in spans] or [hit.chunk.text]
        texts.sort(key=lambda s: -coverage(question.terms, weights, compact(s)) if weights else 0.0)
        return [pair_text(s, hit.article.headline, hit.article.date) for s in texts[: self.per_passage]]

    def rerank(self, question: Question, hits: Sequence[Hit]) -> list[Hit]:
        head, tail = list(hits[: self.top]), list(hits[self.top :])
        if len(head) < 2:
            return list(hits)
        terms = question.terms
        weights = term_weights(terms, [compact(h.chunk.text) for h in head]) if terms else {}
        texts = [self._sentences(question, h, weights) for h in head]
        probs = self.reader.probabilities(question.text, [t for ts in texts for t in ts])
        best, at = [], 0
        for ts in texts:
            best.append(max(probs[at : at + len(ts)]))
            at += len(ts)
        scores = [1.0 / (self.prior_k + i) + self.weight * p for i, p in enumerate(best, 1)]
        return reorder(head, tail, scores, self.name)


def make_reranker(spec: str) -> Reranker | None:
    """``""``/``none`` → None; ``answer-type``; ``learned`` (rag.retrieval.ranker);
    ``cross-encoder:<id or folder>``."""
    key = (spec or "").strip()
    if key.lower() in ("", "none", "off"):
        return None
    if key.lower() == "answer-type":
        return AnswerTypeReranker()
    if key.lower() == "reader":
        return ReaderReranker()
    if key.lower() == "learned":
        from rag.retrieval.ranker import LearnedReranker

        return LearnedReranker()
    if key.lower().startswith("cross-encoder:") and key.split(":", 1)[1].strip():
        return CrossEncoderReranker(key.split(":", 1)[1].strip())
    raise ValueError(
        f"unknown reranker {spec!r}; valid: none, answer-type, learned, reader, cross-encoder:<model id or folder>"
    )


__all__ = ["AnswerTypeReranker", "BaseReranker", "CrossEncoderReranker", "Reranker", "make_reranker"]
