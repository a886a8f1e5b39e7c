"""Reading an index: fetch, filter and catalog (a part of :class:`rag.store.Index`).  Every
method runs one of rag.store.queries on this thread's read connection (``_read``: the last
commit, without waiting for a writer; a thread in the middle of a write reads its own);
nothing here writes."""

from __future__ import annotations

import contextlib
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
        with self._read() as conn:
            return queries.chunks_by_ids(conn, ids)

    def article(self, article_id: int) -> Article | None:
        with self._read() as conn:
            return queries.article(conn, article_id)

    def chunk_ids_matching(self, filters: Filters | None) -> np.ndarray | None:
        """Sorted chunk ids passing ``filters`` (dates inclusive); None when there is no filter."""
        with self._read() as conn:
            return queries.chunk_ids_matching(conn, filters)

    def facets(self) -> dict[str, list[str]]:
        """Papers and sections of the archive (cached until the next commit)."""
        key = self.manifest.get("generation")
        if getattr(self, "_facets", (None, None))[0] != key or key is None:
            with self._read() as conn:
                self._facets = (key, queries.facets(conn))
        return self._facets[1]

    def catalog(self) -> list[tuple[str, str, int]]:
        with self._read() as conn:
            return queries.catalog(conn)

    def articles_on(
        self, paper: str | None, date: str | None, limit: int = 500
    ) -> list[tuple[int, str, str, str, str, str]]:
        with self._read() as conn:
            return queries.articles_on(conn, paper, date, limit)

    def source_by_sha(self, sha256: str) -> Source | None:
        return self._source("sha256", sha256)

    def source_by_path(self, path: str) -> Source | None:
        return self._source("path", str(path))

    def _source(self, column: str, value: str) -> Source | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {writes.SOURCE_COLS} FROM sources WHERE {column} = ? ORDER BY id DESC LIMIT 1", (value,)
            ).fetchone()
        return writes.source_from_row(row) if row else None

    def find_source(self, given: str, resolved: str) -> str | list[str]:
        with self._read() as conn:
            return queries.find_source_path(conn, given, resolved)

    def doc_ids_of_source(self, source_id: int) -> set[str]:
        with self._read() as conn:
            return queries.doc_ids_of_source(conn, source_id)

    def existing_doc_ids(self, doc_ids: list[str]) -> set[str]:
        """Which of ``doc_ids`` the index holds."""
        with self._read() as conn:
            return queries.existing_doc_ids(conn, doc_ids)

    def stats(self) -> dict[str, Any]:
        with self._read() as conn:
            out = queries.counts(conn)
        state = self._state_here()
        out.update(
            vectors=int(state.vectors.ntotal),
            vector_index=state.vectors.kind,
            bm25_docs=len(state.bm25_state[1]),
            manifest=dict(state.manifest),
            size_bytes=self._size_on_disk(),
            path=str(self.path),
        )
        return out

    def _size_on_disk(self) -> int:
        """Bytes of the index files (uploads and a Milvus copy are not the index); a file a
        writer swaps meanwhile is counted as it is found, or not at all."""
        size = 0
        for _ in range(3):
            try:
                mine = [self.path / n for n in INDEX_FILES] + list((self.path / BM25_DIR).rglob("*"))
                break
            except FileNotFoundError:  # bm25/ renamed while listed
                mine = [self.path / n for n in INDEX_FILES]
        for f in mine:
            with contextlib.suppress(FileNotFoundError):
                size += f.stat().st_size if f.is_file() else 0
        return size

    def export(self, batch: int = 500):
        """Every source with its articles, chunks and stored vectors, for copying the index
        elsewhere (``rag migrate``): yields ``(Source, batches)``, each batch ``(articles,
        chunks per article, vectors)`` of up to ``batch`` articles (vectors None when lexical-only)."""
        with self._read() as conn:
            sources = [writes.source_from_row(r) for r in queries.all_sources(conn)]
        for source in sources:
            yield source, self._export_source(int(source.id or 0), batch)

    def _export_source(self, source_id: int, batch: int):
        with self._read() as conn:
            articles = queries.articles_of_source(conn, source_id)
        for i in range(0, len(articles), batch):
            part = articles[i : i + batch]
            with self._read() as conn:
                chunks = queries.chunks_of_articles(conn, [int(a.id or 0) for a in part])
            per: dict[int, list[Chunk]] = {}
            for c in chunks:
                per.setdefault(c.article_id, []).append(c)
            lists = [per.get(int(a.id or 0), []) for a in part]
            ids = np.array([c.id for cs in lists for c in cs], dtype=np.int64)
            yield part, lists, None if self.dim == 0 else self.vectors.vectors_of(ids)
