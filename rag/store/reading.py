"""Reading an index: fetch, filter and catalog (a part of :class:`rag.store.Index`).  Every
method runs one of rag.store.queries under the index's lock; nothing here writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.models import Article, Chunk, Filters, Source
from rag.store import queries, writes
from rag.store.base import IndexState
from rag.store.search_files import BM25_DIR, INDEX_FILES


class Reading(IndexState):
    def chunks_by_ids(self, ids: Sequence[int] | np.ndarray) -> list[tuple[Chunk, Article]]:
        """(Chunk, Article) pairs in the order of ``ids``; unknown ids are skipped."""
        with self._lock:
            return queries.chunks_by_ids(self._conn, ids)

    def article(self, article_id: int) -> Article | None:
        with self._lock:
            return queries.article(self._conn, article_id)

    def chunk_ids_matching(self, filters: Filters | None) -> np.ndarray | None:
        """Sorted chunk ids passing ``filters`` (dates inclusive); None when there is no filter."""
        with self._lock:
            return queries.chunk_ids_matching(self._conn, filters)

    def facets(self) -> dict[str, list[str]]:
        """Papers and sections of the archive (cached until the next commit)."""
        key = self.manifest.get("generation")
        if getattr(self, "_facets", (None, None))[0] != key or key is None:
            with self._lock:
                self._facets = (key, queries.facets(self._conn))
        return self._facets[1]

    def catalog(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return queries.catalog(self._conn)

    def articles_on(
        self, paper: str | None, date: str | None, limit: int = 500
    ) -> list[tuple[int, str, str, str, str, str]]:
        with self._lock:
            return queries.articles_on(self._conn, paper, date, limit)

    def source_by_sha(self, sha256: str) -> Source | None:
        return self._source("sha256", sha256)

    def source_by_path(self, path: str) -> Source | None:
        return self._source("path", str(path))

    def _source(self, column: str, value: str) -> Source | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {writes.SOURCE_COLS} FROM sources WHERE {column} = ? ORDER BY id DESC LIMIT 1", (value,)
            ).fetchone()
        return writes.source_from_row(row) if row else None

    def find_source(self, given: str, resolved: str) -> str | list[str]:
        with self._lock:
            return queries.find_source_path(self._conn, given, resolved)

    def doc_ids_of_source(self, source_id: int) -> set[str]:
        with self._lock:
            return queries.doc_ids_of_source(self._conn, source_id)

    def existing_doc_ids(self, doc_ids: list[str]) -> set[str]:
        """Which of ``doc_ids`` the index holds."""
        with self._lock:
            return queries.existing_doc_ids(self._conn, doc_ids)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            out = queries.counts(self._conn)
        mine = [self.path / n for n in INDEX_FILES] + list((self.path / BM25_DIR).rglob("*"))
        size = sum(f.stat().st_size for f in mine if f.is_file())  # uploads and a Milvus copy are not the index
        out.update(
            vectors=int(self.vectors.ntotal),
            vector_index=self.vectors.kind,
            bm25_docs=len(self.bm25_state[1]),
            manifest=dict(self.manifest),
            size_bytes=size,
            path=str(self.path),
        )
        return out

    def export(self, batch: int = 500):
        """Every source with its articles, chunks and stored vectors, for copying the index
        elsewhere (``rag migrate``): yields ``(Source, batches)``, each batch ``(articles,
        chunks per article, vectors)`` of up to ``batch`` articles (vectors None when lexical-only)."""
        with self._lock:
            sources = [writes.source_from_row(r) for r in queries.all_sources(self._conn)]
        for source in sources:
            yield source, self._export_source(int(source.id or 0), batch)

    def _export_source(self, source_id: int, batch: int):
        with self._lock:
            articles = queries.articles_of_source(self._conn, source_id)
        for i in range(0, len(articles), batch):
            part = articles[i : i + batch]
            with self._lock:
                chunks = queries.chunks_of_articles(self._conn, [int(a.id or 0) for a in part])
            per: dict[int, list[Chunk]] = {}
            for c in chunks:
                per.setdefault(c.article_id, []).append(c)
            lists = [per.get(int(a.id or 0), []) for a in part]
            ids = np.array([c.id for cs in lists for c in cs], dtype=np.int64)
            yield part, lists, None if self.dim == 0 else self.vectors.vectors_of(ids)
