"""What everything above the store needs from an index, as one typed contract.

Retrievers, the retrieval pipeline, the façade and the UI use an index only through
``SearchStore``: search (dense and lexical, each with filters as an id set), fetch (chunks with
their articles, one article) and catalog (facets, per-paper/date listings, sources, counts).
``rag.store.Index`` (SQLite + FAISS + bm25s in one folder) implements it; another backend (a
distributed engine) implements the same methods and nothing above changes.  Chunk ids are
integers; ``allowed`` is a sorted id array from ``chunk_ids_matching`` (None: no filter).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rag.models import Article, Chunk, Filters, Source

Scored = list[tuple[int, float]]  # (chunk id, score), best first


@runtime_checkable
class SearchStore(Protocol):
    path: Path
    dim: int  # vector dimension; 0 for a lexical-only index
    model_id: str  # the embedding model the vectors were made with
    manifest: dict[str, str]

    @property
    def lexical_only(self) -> bool: ...

    # ---- search ----------------------------------------------------------------------------
    def vector_search(self, query: np.ndarray, depth: int, allowed: np.ndarray | None = None) -> Scored:
        """Up to ``depth`` chunks by cosine with the (1, dim) L2-normalised query vector."""
        ...

    def vector_scores(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        """Cosine of the query with the stored vectors of ``ids`` (ids without one left out)."""
        ...

    def lexical_search(self, query: str, depth: int, allowed: np.ndarray | None = None) -> Scored:
        """Up to ``depth`` chunks with a positive BM25 score for the query text."""
        ...

    def lexical_scores(self, query: str, ids: Sequence[int]) -> dict[int, float]:
        """BM25 scores of ``ids`` (0.0 when no query term matches; unknown ids left out)."""
        ...

    def query_tokens(self, query: str) -> list[str]:
        """The query's distinct terms that the lexical index knows, in query order."""
        ...

    def chunk_ids_matching(self, filters: Filters | None) -> np.ndarray | None: ...

    def require_vectors(self) -> None:
        """Raise IndexDamagedError when dense search cannot work."""
        ...

    def refresh(self) -> bool:
        """See what another process committed since (True when something changed)."""
        ...

    # ---- fetch -----------------------------------------------------------------------------
    def chunks_by_ids(self, ids: Sequence[int] | np.ndarray) -> list[tuple[Chunk, Article]]: ...

    def article(self, article_id: int) -> Article | None: ...

    # ---- catalog ---------------------------------------------------------------------------
    def facets(self) -> dict[str, list[str]]:
        """``{"papers": [...], "sections": [...]}``."""
        ...

    def catalog(self) -> list[tuple[str, str, int]]:
        """(paper, date, article count), newest first."""
        ...

    def articles_on(
        self, paper: str | None, date: str | None, limit: int = 500
    ) -> list[tuple[int, str, str, str, str, str]]:
        """(id, headline, paper, date, page, section) of a paper's and/or a date's articles."""
        ...

    def source_by_path(self, path: str) -> Source | None: ...

    def source_by_sha(self, sha256: str) -> Source | None: ...

    def find_source(self, given: str, resolved: str) -> str | list[str]:
        """The stored path of a source given by path or unique file name, else the matches."""
        ...

    def stats(self) -> dict[str, Any]: ...

    def problems(self) -> list[str]: ...
