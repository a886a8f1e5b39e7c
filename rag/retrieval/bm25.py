"""Lexical retrieval: the store's BM25 (bm25s over jieba tokens in the embedded store, the
engine's BM25 in Milvus), filters applied inside the search."""

from __future__ import annotations

from collections.abc import Sequence

from rag.models import Filters, Hit
from rag.retrieval.base import make_hits
from rag.store.contract import Allowed, SearchStore


class BM25Retriever:
    name = "bm25"

    def __init__(self, index: SearchStore) -> None:
        self.index = index

    def query_tokens(self, query: str) -> list[str]:
        """Distinct query tokens that occur in the vocabulary, in query order."""
        return self.index.query_tokens(query)

    def candidates(self, query: str, depth: int, allowed: Allowed = None) -> list[tuple[int, float]]:
        """Up to ``depth`` ``(chunk id, score)`` pairs with a positive score, best first."""
        return self.index.lexical_search(query, depth, allowed)

    def score_ids(self, query: str, wanted: Sequence[int]) -> dict[int, float]:
        """BM25 scores of the given chunk ids (0.0 when no query term matches)."""
        return self.index.lexical_scores(query, wanted)

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        allowed = self.index.chunk_ids_matching(filters)
        ranked = self.candidates(query, k, allowed)
        return make_hits(self.index, ranked, {cid: {"bm25": s, "bm25_rank": r} for r, (cid, s) in enumerate(ranked, 1)})
