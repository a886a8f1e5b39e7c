"""Dense retrieval: cosine similarity with the question's vector, filters as an id pre-filter."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import faiss
import numpy as np

from rag.embeddings.base import Embedder
from rag.models import Filters, Hit
from rag.retrieval.base import make_hits
from rag.store.contract import Allowed, SearchStore

_CACHE = 64


class DenseRetriever:
    name = "dense"

    def __init__(self, index: SearchStore, embedder: Embedder) -> None:
        if int(embedder.dim) != index.dim:
            raise ValueError(
                f"embedder {embedder.model_id} gives {embedder.dim}-d vectors, the index at "
                f"{index.path} holds {index.dim}-d vectors of {index.model_id}"
            )
        self.index = index
        self.embedder = embedder
        self._cache: dict[str, np.ndarray] = {}

    def query_vector(self, query: str) -> np.ndarray:
        """The L2-normalised (1, dim) query vector; the last few are cached."""
        vec = self._cache.get(query)
        if vec is None:
            vec = np.array(self.embedder.embed_query(query), dtype=np.float32).reshape(1, -1)
            faiss.normalize_L2(vec)
            if len(self._cache) >= _CACHE:
                with contextlib.suppress(StopIteration, RuntimeError):  # another thread did the same
                    self._cache.pop(next(iter(self._cache)), None)  # drop the oldest
            self._cache[query] = vec
        return vec

    def candidates(self, query: str, depth: int, allowed: Allowed = None) -> list[tuple[int, float]]:
        """Up to ``depth`` ``(chunk id, cosine)`` pairs, best first, among the ``allowed`` chunks."""
        return self.index.vector_search(self.query_vector(query), depth, allowed)

    def score_ids(self, query: str, ids: Sequence[int]) -> dict[int, float]:
        """Cosine of the query with the stored vectors of ``ids`` (ids without a vector left out)."""
        return self.index.vector_scores(self.query_vector(query), ids)

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        allowed = self.index.chunk_ids_matching(filters)
        ranked = self.candidates(query, k, allowed)
        scores = {cid: {"dense": s, "dense_rank": r} for r, (cid, s) in enumerate(ranked, 1)}
        return make_hits(self.index, ranked, scores)
