"""The retrieval contract: a query in, ranked hits out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from rag.models import Filters, Hit
from rag.store.contract import SearchStore


class Retriever(Protocol):
    name: str

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        """Return at most ``k`` hits, best first, ranks starting at 1."""
        ...


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
