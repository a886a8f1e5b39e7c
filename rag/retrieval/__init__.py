"""Retrievers over an index: ``make_retriever("dense" | "bm25" | "hybrid", index, embedder)``."""

from __future__ import annotations

from collections.abc import Mapping

from rag.retrieval.base import BaseReranker, Reranker, Retriever, candidate_depth, make_hits
from rag.retrieval.bm25 import BM25Retriever
from rag.retrieval.dense import DenseRetriever
from rag.retrieval.hybrid import HybridRetriever, rrf_fuse
from rag.settings import Settings
from rag.store.contract import SearchStore

RETRIEVERS = ("dense", "bm25", "hybrid")


def make_retriever(
    name: str,
    index: SearchStore,
    embedder=None,
    *,
    rrf_k: int = Settings.rrf_k,
    weights: Mapping[str, float] | None = None,
) -> Retriever:
    """Build a retriever by name; ``embedder`` may be None for ``bm25``."""
    key = (name or "").strip().lower()
    if key not in RETRIEVERS:
        raise ValueError(f"unknown retriever {name!r}; valid: {', '.join(RETRIEVERS)}")
    if key == "bm25":
        return BM25Retriever(index)
    if embedder is None:
        raise ValueError(f"the {key} retriever needs an embedder")
    if key == "dense":
        return DenseRetriever(index, embedder)
    return HybridRetriever(DenseRetriever(index, embedder), BM25Retriever(index), rrf_k, weights)


__all__ = [
    "RETRIEVERS",
    "BM25Retriever",
    "BaseReranker",
    "DenseRetriever",
    "HybridRetriever",
    "Reranker",
    "Retriever",
    "candidate_depth",
    "make_hits",
    "make_retriever",
    "rrf_fuse",
]
