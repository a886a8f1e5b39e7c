"""``index/<name>/``: rag.sqlite (sources, articles, chunks, manifest) + vectors.faiss + bm25/.

Writes go into one SQLite transaction that stays open until :meth:`Index.commit_search_indexes`
(or the :meth:`Index.batch` context), which writes bm25/ and vectors.faiss atomically and then
updates the manifest and commits.  A crash before that commit leaves the previous state; a crash
between the file renames and the commit is repaired on the next open (see ``_reconcile``).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import faiss
import numpy as np

from rag.models import Article, Chunk, Filters, Source
from rag.store import files, queries
from rag.store.errors import IndexMismatchError, IndexNotFoundError, IndexStoreError
from rag.store.schema import (
    DDL, SCHEMA_VERSION, check_manifest, connect, now, read_manifest, write_manifest,
)
from rag.tokenize import DEFAULT_TOKENIZER, Tokenizer, make_tokenizer

log = logging.getLogger(__name__)

SQLITE, VECTORS, BM25_DIR = "rag.sqlite", "vectors.faiss", "bm25"
_SOURCE_COLS = "id, path, sha256, size, encoding, status, error"


class Index:
    """One index folder. Build it with :meth:`create_or_open` / :meth:`open`, not the constructor."""

    def __init__(self, path: Path, conn, manifest: dict[str, str]) -> None:
        self.path = Path(path)
        self._conn = conn
        self._lock = threading.RLock()
        self.manifest = manifest
        self.dim = int(manifest["dim"])
        self.model_id = manifest["model_id"]
        self.tokenizer: Tokenizer = make_tokenizer(manifest.get("tokenizer", DEFAULT_TOKENIZER))
        self._faiss_dirty = self._bm25_dirty = False
        self._closed = False
        self._load_files()

    # ---- opening -------------------------------------------------------------------------
    @staticmethod
    def exists(path: str | Path) -> bool:
        return (Path(path) / SQLITE).is_file()

    @classmethod
    def create(cls, path: str | Path, manifest: Mapping[str, Any]) -> "Index":
        """Create a new, empty index; ``manifest`` needs at least ``model_id`` and ``dim``."""
        path = Path(path)
        if cls.exists(path):
            raise IndexStoreError(f"an index already exists at {path}")
        missing = {"model_id", "dim"} - set(manifest)
        if missing:
            raise ValueError(f"manifest lacks {', '.join(sorted(missing))}")
        values = {"query_prefix": "", "document_prefix": "", "chunker_version": "",
                  "tokenizer": DEFAULT_TOKENIZER, **{k: str(v) for k, v in manifest.items()},
                  "schema_version": str(SCHEMA_VERSION), "created_at": now()}
        values["dim"] = str(int(values["dim"]))
        cls.remove(path)  # leftovers of an index whose rag.sqlite is gone
        path.mkdir(parents=True, exist_ok=True)
        conn = connect(path / SQLITE)
        conn.executescript(DDL)
        conn.execute("BEGIN IMMEDIATE")
        write_manifest(conn, values)
        index = cls(path, conn, values)
        index._faiss_dirty = index._bm25_dirty = True
        index.commit_search_indexes()
        return index

    @classmethod
    def open(cls, path: str | Path, manifest: Mapping[str, Any] | None = None) -> "Index":
        """Open an existing index, refusing one built with another model/dim/chunker/schema."""
        path = Path(path)
        if not cls.exists(path):
            raise IndexNotFoundError(
                f"no index at {path} ({path / SQLITE} is missing): build one with "
                f"`rag ingest FILES --index {path}` or choose another --index"
            )
        conn = connect(path / SQLITE)
        try:
            have = read_manifest(conn)
        except Exception as exc:
            conn.close()
            raise IndexMismatchError(f"{path / SQLITE} is not a readable index ({exc})") from exc
        try:
            check_manifest(path, have, manifest)
        except IndexMismatchError:
            conn.close()
            raise
        index = cls(path, conn, have)
        index._reconcile()
        return index

    @classmethod
    def create_or_open(
        cls, path: str | Path, manifest: Mapping[str, Any], rebuild: bool = False
    ) -> "Index":
        """Open the index at ``path`` (checked against ``manifest``) or create it; ``rebuild``
        deletes an existing one first."""
        if rebuild:
            cls.remove(path)
        if cls.exists(path):
            return cls.open(path, manifest)
        return cls.create(path, manifest)

    @staticmethod
    def remove(path: str | Path) -> None:
        """Delete the index files in ``path`` (other files there are left alone)."""
        path = Path(path)
        for name in (SQLITE, SQLITE + "-wal", SQLITE + "-shm", VECTORS, VECTORS + ".tmp"):
            (path / name).unlink(missing_ok=True)
        for name in (BM25_DIR, BM25_DIR + ".tmp", BM25_DIR + ".old"):
            shutil.rmtree(path / name, ignore_errors=True)
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()

    def _load_files(self) -> None:
        self.vectors: faiss.Index = files.read_faiss(self.path / VECTORS, self.dim)
        self.bm25, self.bm25_ids = files.load_bm25(self.path / BM25_DIR)

    def _reconcile(self) -> None:
        """Bring FAISS and BM25 back in line with SQLite after an interrupted commit."""
        with self._lock:
            if self._consistent(queries.all_chunk_ids(self._conn)):
                return
            self._begin()  # waits for a concurrent writer, then looks again
            self._load_files()
            ids = queries.all_chunk_ids(self._conn)
            if self._consistent(ids):
                self._conn.execute("COMMIT")
                return
            stored = files.faiss_ids(self.vectors)
            extra = np.setdiff1d(stored, ids)
            if len(extra):
                self.vectors.remove_ids(extra)
            missing = np.setdiff1d(ids, stored)
            if len(missing):
                marks = ",".join("?" * len(missing))
                bad = self._conn.execute(
                    f"SELECT DISTINCT a.source_id FROM chunks c JOIN articles a ON a.id = c.article_id "
                    f"WHERE c.id IN ({marks})", missing.tolist()).fetchall()
                log.warning("%s: %d chunks had no vectors; dropping their %d source(s) so that they "
                            "are ingested again", self.path, len(missing), len(bad))
                self._conn.executemany("DELETE FROM sources WHERE id = ?", bad)
            self._faiss_dirty = self._bm25_dirty = True
            self.commit_search_indexes()

    def _consistent(self, ids: np.ndarray) -> bool:
        return np.array_equal(np.sort(files.faiss_ids(self.vectors)), ids) and np.array_equal(
            self.bm25_ids, ids)

    # ---- writing -------------------------------------------------------------------------
    def _begin(self) -> None:
        if not self._conn.in_transaction:
            self._conn.execute("BEGIN IMMEDIATE")

    @property
    def pending(self) -> bool:
        """True while there are writes not yet committed by :meth:`commit_search_indexes`."""
        return self._conn.in_transaction

    def source_by_sha(self, sha256: str) -> Source | None:
        return self._source("sha256", sha256)

    def source_by_path(self, path: str) -> Source | None:
        return self._source("path", str(path))

    def _source(self, column: str, value: str) -> Source | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_SOURCE_COLS} FROM sources WHERE {column} = ? ORDER BY id DESC LIMIT 1",
                (value,)).fetchone()
        if not row:
            return None
        id_, path, sha, size, enc, status, error = row
        return Source(path=path, sha256=sha, size=size, encoding=enc, status=status, error=error,
                      id=id_)

    def add_source(self, source: Source) -> int:
        """Record an input file; sets and returns ``source.id``."""
        with self._lock:
            self._begin()
            cur = self._conn.execute(
                "INSERT INTO sources(path, name, sha256, size, encoding, status, error, ingested_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (str(source.path), os.path.basename(str(source.path)), source.sha256, source.size,
                 source.encoding, source.status, source.error, now()))
            source.id = int(cur.lastrowid)
            return source.id

    def add_articles(
        self,
        source_id: int,
        articles: Sequence[Article],
        chunks_per_article: Sequence[Sequence[Chunk]],
        vectors: np.ndarray | None,
    ) -> list[int]:
        """Insert articles, their chunks and one vector per chunk (rows = chunks flattened).

        Sets ``id`` on every Article and Chunk (and ``Chunk.article_id``); returns article ids.
        All or nothing for this call; persisted by the next :meth:`commit_search_indexes`.
        """
        if len(articles) != len(chunks_per_article):
            raise ValueError(f"{len(articles)} articles but {len(chunks_per_article)} chunk lists")
        n = sum(len(cs) for cs in chunks_per_article)
        vectors = np.zeros((0, self.dim)) if n == 0 and vectors is None else np.asarray(vectors)
        if n == 0 and vectors.size == 0:
            vectors = vectors.reshape(0, self.dim)
        if vectors.shape != (n, self.dim):
            raise ValueError(f"expected vectors of shape ({n}, {self.dim}), got {vectors.shape}")
        vectors = np.array(vectors, dtype=np.float32, order="C", copy=True)
        faiss.normalize_L2(vectors)
        with self._lock:
            self._begin()
            self._check_doc_ids([a.doc_id for a in articles])
            self._conn.execute("SAVEPOINT add_articles")
            try:
                ids, chunk_ids = self._insert(source_id, articles, chunks_per_article)
            except BaseException:
                self._conn.execute("ROLLBACK TO add_articles")
                self._conn.execute("RELEASE add_articles")
                raise
            self._conn.execute("RELEASE add_articles")
            if n:
                self.vectors.add_with_ids(vectors, np.asarray(chunk_ids, dtype=np.int64))
                self._faiss_dirty = self._bm25_dirty = True
        for art, aid, chunks in zip(articles, ids, chunks_per_article):
            art.id = aid
            for c in chunks:
                c.article_id = aid
        return ids

    def _check_doc_ids(self, doc_ids: list[str]) -> None:
        dupes = sorted(d for d, n in Counter(doc_ids).items() if n > 1)
        for i in range(0, len(doc_ids), 500):
            part = doc_ids[i : i + 500]
            dupes += [r[0] for r in self._conn.execute(
                f"SELECT doc_id FROM articles WHERE doc_id IN ({','.join('?' * len(part))})", part)]
        if dupes:
            raise IndexStoreError(f"doc_id already in the index or repeated: {', '.join(dupes[:5])}")

    def _insert(self, source_id, articles, chunks_per_article) -> tuple[list[int], list[int]]:
        ids, chunk_ids = [], []
        for art, chunks in zip(articles, chunks_per_article):
            cur = self._conn.execute(
                "INSERT INTO articles(source_id, doc_id, headline, paper, date, page, section, "
                'byline, dateline, text, start, "end") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                (source_id, art.doc_id, art.headline, art.paper, art.date, art.page, art.section,
                 art.byline, art.dateline, art.text, art.start, art.end))
            aid = int(cur.lastrowid)
            ids.append(aid)
            for c in chunks:
                tokens = " ".join(self.tokenizer(f"{art.headline}\n{c.text}"))
                cur = self._conn.execute(
                    'INSERT INTO chunks(article_id, position, text, start, "end", tokens) '
                    "VALUES (?, ?, ?, ?, ?, ?)", (aid, c.position, c.text, c.start, c.end, tokens))
                c.id = int(cur.lastrowid)
                chunk_ids.append(c.id)
        return ids, chunk_ids

    def delete_source(self, path: str) -> int:
        """Remove every source row with this path, with its articles, chunks and vectors.
        Returns the number of chunks removed."""
        with self._lock:
            self._begin()
            rows = self._conn.execute(
                "SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id "
                "JOIN sources s ON s.id = a.source_id WHERE s.path = ?", (str(path),)).fetchall()
            self._conn.execute("DELETE FROM sources WHERE path = ?", (str(path),))
            if rows:
                self.vectors.remove_ids(np.array([r[0] for r in rows], dtype=np.int64))
                self._faiss_dirty = self._bm25_dirty = True
            return len(rows)

    def commit_search_indexes(self) -> None:
        """Rebuild bm25/ from the stored tokens, write vectors.faiss, update the manifest, commit."""
        with self._lock:
            self._begin()
            if self._bm25_dirty:
                rows = self._conn.execute("SELECT id, tokens FROM chunks ORDER BY id").fetchall()
                ids = np.array([r[0] for r in rows], dtype=np.int64)
                bm25 = files.build_bm25([r[1].split() for r in rows])
                files.write_bm25(self.path / BM25_DIR, bm25, ids)
                self.bm25, self.bm25_ids = bm25, ids
            if self._faiss_dirty:
                files.write_faiss(self.vectors, self.path / VECTORS)
            chunks = self._conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            update = {"updated_at": now(), "chunks": chunks}
            write_manifest(self._conn, update)
            self._conn.execute("COMMIT")
            self.manifest.update({k: str(v) for k, v in update.items()})
            self._faiss_dirty = self._bm25_dirty = False

    def rollback(self) -> None:
        """Discard uncommitted writes and reload the committed search files."""
        with self._lock:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._load_files()
            self._faiss_dirty = self._bm25_dirty = False

    @contextmanager
    def batch(self) -> Iterator["Index"]:
        """``with index.batch(): ...`` commits the search indexes on success, rolls back on error."""
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit_search_indexes()

    def close(self) -> None:
        """Close the database; uncommitted writes are discarded (with a warning). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._conn.in_transaction:
                log.warning("%s: discarding uncommitted changes (call commit_search_indexes())",
                            self.path)
                self._conn.execute("ROLLBACK")
            self._conn.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reading -------------------------------------------------------------------------
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

    def stats(self) -> dict[str, Any]:
        with self._lock:
            out = queries.counts(self._conn)
        size = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        out.update(vectors=int(self.vectors.ntotal), bm25_docs=int(len(self.bm25_ids)),
                   manifest=dict(self.manifest), size_bytes=size, path=str(self.path))
        return out
