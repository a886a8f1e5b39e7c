"""Hybrid retrieval: reciprocal rank fusion (RRF) of the dense and BM25 candidate lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rag.models import Filters, Hit
from rag.retrieval.base import candidate_depth, make_hits
from rag.retrieval.bm25 import BM25Retriever
from rag.retrieval.dense import DenseRetriever
from rag.settings import Settings

DEFAULT_WEIGHTS = {"dense": Settings.rrf_weight_dense, "bm25": Settings.rrf_weight_bm25}


def rrf_fuse(
    rankings: Mapping[str, Sequence[int]],
    k: int = Settings.rrf_k,
    weights: Mapping[str, float] | None = None,
) -> list[tuple[int, float]]:
    """Fuse ranked id lists: ``score(d) = Σ weight_r / (k + rank_r(d))`` with 1-based ranks.

    Ties go to the id with the better best rank, then the smaller id.  Returns ``(id, score)``
    pairs, best first.
    """
    fused: dict[int, float] = {}
    best: dict[int, int] = {}
    for name, ids in rankings.items():
        w = 1.0 if weights is None else float(weights.get(name, 1.0))
        for rank, cid in enumerate(ids, start=1):
            fused[cid] = fused.get(cid, 0.0) + w / (k + rank)
            best[cid] = min(best.get(cid, rank), rank)
    return sorted(fused.items(), key=lambda p: (-p[1], best[p[0]], p[0]))


class HybridRetriever:
    """Dense + BM25, fused with RRF; each hit's ``scores`` holds dense, bm25 and rrf, and the
    hit's rank in each channel's list (``dense_rank``, ``bm25_rank``; absent when not in it)."""

    name = "hybrid"

    def __init__(
        self,
        dense: DenseRetriever,
        bm25: BM25Retriever,
        rrf_k: int = Settings.rrf_k,
        weights: Mapping[str, float] | None = None,
        depth: int | None = None,
    ) -> None:
        self.dense, self.bm25 = dense, bm25
        self.index = dense.index
        self.rrf_k = rrf_k
        self.weights = {**DEFAULT_WEIGHTS, **(weights or {})}
        self.depth = depth

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        if k <= 0:
            return []
        allowed = self.index.chunk_ids_matching(filters)
        depth = self.depth or candidate_depth(k)
        lists = {
            "dense": self.dense.candidates(query, depth, allowed),
            "bm25": self.bm25.candidates(query, depth, allowed),
        }
        fused = rrf_fuse({name: [cid for cid, _ in found] for name, found in lists.items()}, self.rrf_k, self.weights)[
            : k + 10
        ]  # a few spare for deleted chunks
        scores: dict[int, dict[str, float]] = {cid: {} for cid, _ in fused}
        ids = list(scores)
        for name, retriever in (("dense", self.dense), ("bm25", self.bm25)):
            got = dict(lists[name])
            missing = [cid for cid in ids if cid not in got]
            got.update(retriever.score_ids(query, missing) if missing else {})
            ranks = {cid: r for r, (cid, _) in enumerate(lists[name], 1)}
            for cid in ids:
                if cid in got:
                    scores[cid][name] = got[cid]
                if cid in ranks:
                    scores[cid][f"{name}_rank"] = ranks[cid]
        for cid, s in fused:
            scores[cid]["rrf"] = s
        return make_hits(self.index, fused, scores)[:k]
