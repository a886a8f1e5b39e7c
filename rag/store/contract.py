"""What everything above the store needs from an index, as one typed contract.

Retrievers, the retrieval pipeline, the façade and the UI use an index only through
``SearchStore``: search (dense and lexical, each with its filters), fetch (chunks with their
articles, one article) and catalog (facets, per-paper/date listings, sources, counts); the
ingest, ``rag migrate`` and ``rag delete`` write through ``ArchiveStore``.
``rag.store.Index`` (SQLite + FAISS + bm25s in one folder) implements both;
``rag.store.milvus.MilvusStore`` (Milvus: a server or milvus-lite) is the second implementation
and nothing above changes; rag.store.factory picks one by the ``store`` setting.

Chunk ids are integers; ``allowed`` is whatever ``chunk_ids_matching`` returned (None: no
filter), handed back to the searches unread: a sorted id array for the embedded store, a
boolean expression evaluated inside the search for Milvus.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rag.models import Article, Chunk, Filters, Source

Scored = list[tuple[int, float]]  # (chunk id, score), best first
Allowed = Any  # chunk_ids_matching's answer, opaque to callers (None: every chunk)


class PassageEncoder(Protocol):
    """What the store needs of an embedding model to re-embed passages (``repair``): the store
    names no embeddings module; rag.embeddings' models satisfy this."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class SearchStore(Protocol):
    path: Path
    dim: int  # vector dimension; 0 for a lexical-only index
    model_id: str  # the embedding model the vectors were made with
    manifest: dict[str, str]

    @property
    def lexical_only(self) -> bool: ...

    # ---- search ----------------------------------------------------------------------------
    def vector_search(self, query: np.ndarray, depth: int, allowed: Allowed = None) -> Scored:
        """Up to ``depth`` chunks by cosine with the (1, dim) L2-normalised query vector."""
        ...

    def vector_scores(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        """Cosine of the query with the stored vectors of ``ids`` (ids without one left out)."""
        ...

    def lexical_search(self, query: str, depth: int, allowed: Allowed = None) -> Scored:
        """Up to ``depth`` chunks with a positive BM25 score for the query text."""
        ...

    def lexical_scores(self, query: str, ids: Sequence[int]) -> dict[int, float]:
        """BM25 scores of ``ids`` (0.0 when no query term matches; unknown ids left out)."""
        ...

    def query_tokens(self, query: str) -> list[str]:
        """The query's distinct terms that the lexical index knows, in query order."""
        ...

    def chunk_ids_matching(self, filters: Filters | None) -> Allowed: ...

    def require_vectors(self) -> None:
        """Raise IndexDamagedError when dense search cannot work."""
        ...

    def refresh(self) -> bool:
        """See what another process committed since (True when something changed)."""
        ...

    def replaced(self) -> bool:
        """The index was rebuilt or replaced under this handle: open it again (True)."""
        ...

    def verify_files(self) -> list[str]:
        """A full check of what is stored against its recorded checksums (slow: ``rag stats``,
        ``rag repair``); one line per damaged part, empty when sound."""
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
        """(id, headline, paper, date, page, section) of a paper's and/or a date's articles (a date with
        ``%`` is a LIKE pattern)."""
        ...

    def source_by_path(self, path: str) -> Source | None: ...

    def source_by_sha(self, sha256: str) -> Source | None: ...

    def find_source(self, given: str, resolved: str) -> str | list[str]:
        """The stored path of a source given by path or unique file name, else the matches."""
        ...

    def stats(self) -> dict[str, Any]: ...

    def problems(self) -> list[str]: ...


@runtime_checkable
class ArchiveStore(SearchStore, Protocol):
    """A store the ingest writes to.  Writes between ``begin`` (the writer lock) and
    ``commit_search_indexes`` form one batch; a batch killed half way leaves the store as it
    was before it or, where the backend has no transactions, in a state the next writer
    completes without duplicates (see rag.store.milvus.writing)."""

    @property
    def bm25_behind(self) -> bool: ...

    @property
    def missing_vectors(self) -> np.ndarray: ...

    def begin(self) -> None: ...

    def release(self) -> None: ...

    def add_source(self, source: Source) -> int: ...

    def set_source_status(self, source_id: int, status: str) -> None: ...

    def add_articles(
        self,
        source_id: int,
        articles: Sequence[Article],
        chunks_per_article: Sequence[Sequence[Chunk]],
        vectors: np.ndarray | None,
    ) -> list[int]: ...

    def delete_source(self, path: str) -> int: ...

    def retag_source(self, path: str, paper: str | None, date: str | None) -> int:
        """Set paper and/or date (None: keep) on the source's articles; returns how many."""
        ...

    def doc_ids_of_source(self, source_id: int) -> set[str]: ...

    def existing_doc_ids(self, doc_ids: list[str]) -> set[str]: ...

    def commit_search_indexes(self, bm25: bool = True) -> None: ...

    def rollback(self) -> None: ...

    def batch(self, bm25: bool = True) -> AbstractContextManager[Any]: ...

    def repair(self, embedder: Any = None) -> dict[str, Any]: ...

    def relearn_lexicon(self) -> int: ...

    def close(self) -> None: ...
