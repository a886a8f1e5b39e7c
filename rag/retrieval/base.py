"""The retrieval contracts: a first stage (query text in, ranked hits out) and a second stage
(a read question and the first stage's hits in, the same hits reordered out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from rag.models import Filters, Hit
from rag.store.contract import SearchStore
from rag.text.asked import Question


class Retriever(Protocol):
    """A first stage: matches the question's retrieval text (``Question.query.text``)."""

    name: str

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        """Return at most ``k`` hits, best first, ranks starting at 1."""
        ...


class Reranker(Protocol):
    """A second stage, with every capability the pipeline and the façade read."""

    name: str
    depth: int  # first-stage candidates it wants to read (the pipeline fetches at least this many; 0: no wish)

    def rerank(self, question: Question, hits: Sequence[Hit]) -> list[Hit]:
        """The same hits, best first, ranks renumbered 1..n."""
        ...

    def explain(self, hit: Hit) -> dict[str, float]:
        """Why ``hit`` ranks where it does (each part of its score); {} when it cannot say."""
        ...


class BaseReranker:
    """The defaults of :class:`Reranker` for plugins and the built-ins: no depth wish, no explanation."""

    name = ""
    depth = 0

    def explain(self, hit: Hit) -> dict[str, float]:
        return {}


def candidate_depth(k: int) -> int:
    """How many candidates a first-stage retriever returns before fusion or reranking."""
    return max(k * 4, 50)


def make_hits(
    index: SearchStore,
    ranked: Sequence[tuple[int, float]],
    scores: Mapping[int, Mapping[str, float]] | None = None,
) -> list[Hit]:
    """Hits for ``(chunk id, score)`` pairs, best first; ranks are 1-based and contiguous.

    Chunks no longer in the index (e.g. deleted since the search files were loaded) are skipped.
    """
    pairs = {c.id: (c, a) for c, a in index.chunks_by_ids([cid for cid, _ in ranked])}
    hits: list[Hit] = []
    for cid, score in ranked:
        if cid not in pairs:
            continue
        chunk, article = pairs[cid]
        extra = dict(scores.get(cid, {})) if scores else {}
        hits.append(
            Hit(
                chunk=chunk,
                article=article,
                score=float(score),
                rank=len(hits) + 1,
                scores={k: float(v) for k, v in extra.items()},
            )
        )
    return hits


def reorder(head: Sequence[Hit], tail: Sequence[Hit], scores: Sequence[float], name: str) -> list[Hit]:
    """``head`` sorted by ``scores`` (recorded under ``name``), then ``tail`` as it was."""
    order = sorted(range(len(head)), key=lambda i: (-scores[i], i))
    ranked = [
        replace(head[i], rank=r, scores={**head[i].scores, name: float(scores[i])}) for r, i in enumerate(order, 1)
    ]
    return ranked + [replace(h, rank=len(ranked) + i) for i, h in enumerate(tail, 1)]
