"""``index/<name>/``: rag.sqlite (sources, articles, chunks, manifest) + vectors.faiss + bm25/.

Writes go into one SQLite transaction that stays open until :meth:`Index.commit_search_indexes`
(or the :meth:`Index.batch` context), which writes bm25/ and vectors.faiss under staged names,
commits SQLite with the next generation, then moves them into place (rag.store.files): a crash
before the commit leaves the previous state, one after it the new state (readers read the staged
files; the next writer moves them into place).

One writer at a time: every write transaction holds ``write.lock`` (rag.store.lock) from its
``BEGIN`` to its ``COMMIT``, and reloads every in-memory structure another process changed
before writing.  Readers never take the lock and never write: a damaged or missing file is
reported (``problems``) and fixed only by an explicit :meth:`repair`.

Many threads may read one Index at once (rag.store.sharing): each through a SQLite connection
of its own, and over the published search state, which a write or a reload (:meth:`refresh`)
replaces whole when it is done.  A write transaction belongs to the thread that began it.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.models import Article, Chunk, Source
from rag.store import files, health, writes
from rag.store.batching import Batches
from rag.store.errors import IndexDamagedError, IndexNotFoundError, IndexReadOnlyError, IndexStoreError
from rag.store.lock import WriteLock
from rag.store.reading import Reading
from rag.store.schema import (
    LEXICON_DDL,
    REGIONS_DDL,
    check_manifest,
    checkpoint,
    connect,
    connect_reader,
    create_database,
    manifest_generation,
    new_manifest,
    now,
    read_manifest,
    writable,
    write_manifest,
)
from rag.store.search_files import BM25_DIR, INDEX_FILES, SQLITE, VECTORS, SearchFiles
from rag.store.sharing import ReadConnections
from rag.store.words import ArchiveWords, archive_tokenizer, save_tokenizer_state

log = logging.getLogger(__name__)


def _connect_checked(path: Path) -> tuple[sqlite3.Connection, dict[str, str]]:
    """A connection to ``path``'s rag.sqlite and its manifest, after checking the folder, the
    file, the tables and the manifest keys (IndexDamagedError names what is wrong)."""
    health.check_folder(path)
    health.check_sqlite_file(path / SQLITE)
    conn = None
    try:
        conn = connect(path / SQLITE)
        health.check_tables(conn, path / SQLITE)
        have = read_manifest(conn)
        health.check_manifest_keys(have, path / SQLITE)
        return conn, have
    except BaseException as exc:
        if conn is not None:
            conn.close()
        if isinstance(exc, sqlite3.DatabaseError):
            raise health.damaged(path / SQLITE, exc) from None
        raise


class Index(SearchFiles, Reading, ArchiveWords, Batches):
    """One index folder. Build it with :meth:`create_or_open` / :meth:`open`, not the constructor."""

    def __init__(self, path: Path, conn, manifest: dict[str, str], write_lock: WriteLock | None = None) -> None:
        self._init_state()
        self.path = Path(path)
        self._conn = conn
        self.read_only = not writable(self.path)
        self._readers = ReadConnections(self.path / SQLITE, connect_reader)
        self._lock = threading.RLock()
        self.write_lock = write_lock or WriteLock(self.path)
        self.manifest = manifest
        self.dim = int(manifest["dim"])
        self.model_id = manifest["model_id"]
        self.tokenizer = archive_tokenizer(self.path, conn, manifest)
        self._faiss_dirty = self._bm25_dirty = self._bm25_kept = False
        self._closed = self._repairing = False
        self.missing_vectors, self.stray_vectors = np.zeros(0, dtype=np.int64), 0
        self._identity = files.file_identity(self.path / SQLITE)
        self._load_files()

    def replaced(self) -> bool:
        """rag.sqlite is no longer the file this index opened (``rag ingest --rebuild``, a copy
        restored over it): whoever holds this index should open the folder again."""
        return files.file_identity(self.path / SQLITE) != self._identity

    # ---- opening -------------------------------------------------------------------------
    @staticmethod
    def exists(path: str | Path) -> bool:
        return (Path(path) / SQLITE).is_file()

    @staticmethod
    def peek(path: str | Path) -> dict[str, str]:
        """The manifest of the index at ``path``, checked (IndexDamagedError names a damaged
        rag.sqlite), without opening its search files."""
        conn, have = _connect_checked(Path(path))
        conn.close()
        return have

    @classmethod
    def create(cls, path: str | Path, manifest: Mapping[str, Any], wait: float | None = None, on_wait=None) -> Index:
        """Create a new, empty index; ``manifest`` needs at least ``model_id`` and ``dim``."""
        path = Path(path)
        health.check_folder(path)
        path.mkdir(parents=True, exist_ok=True)
        with WriteLock(path, wait, on_wait) as lock:
            return cls._create(path, manifest, lock)

    @classmethod
    def _create(cls, path: Path, manifest: Mapping[str, Any], lock: WriteLock) -> Index:
        """Create the index files while ``lock`` is held."""
        values = new_manifest(manifest)
        if cls.exists(path):
            raise IndexStoreError(f"an index already exists at {path}")
        cls.remove(path)  # leftovers of an index whose rag.sqlite is gone
        create_database(path / SQLITE, values)
        conn = connect(path / SQLITE)
        index = cls(path, conn, values, lock)
        index.begin()
        write_manifest(conn, values)
        index._faiss_dirty = index._bm25_dirty = True
        index.commit_search_indexes()
        return index

    @classmethod
    def open(
        cls, path: str | Path, manifest: Mapping[str, Any] | None = None, wait: float | None = None, on_wait=None
    ) -> Index:
        """Open an existing index, refusing one built with another model/dim/chunker/schema
        and naming any damaged file.  Opening never writes."""
        path = Path(path)
        health.check_folder(path)
        if not cls.exists(path):
            raise IndexNotFoundError(
                f"no index at {path} ({path / SQLITE} is missing): build one with "
                f"`rag ingest FILES --index {path}` or choose another --index"
            )
        conn, have = _connect_checked(path)
        try:
            check_manifest(path, have, manifest)
            if not any(row[1] == "regions" for row in conn.execute("PRAGMA table_info(articles)")):
                conn.execute(REGIONS_DDL)  # the one upgrade at opening: indexes from before page regions
            index = cls(path, conn, have, WriteLock(path, wait, on_wait))
        except Exception as exc:
            conn.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise health.damaged(path / SQLITE, exc) from None
            raise
        index._reconcile()
        return index

    @classmethod
    def create_or_open(
        cls,
        path: str | Path,
        manifest: Mapping[str, Any],
        rebuild: bool = False,
        wait: float | None = None,
        on_wait=None,
    ) -> Index:
        """Open the index at ``path`` (checked against ``manifest``) or create it; ``rebuild``
        deletes an existing one first (under the write lock)."""
        path = Path(path)
        health.check_folder(path)
        if rebuild or not cls.exists(path):
            path.mkdir(parents=True, exist_ok=True)
            with WriteLock(path, wait, on_wait) as lock:  # a busy writer finishes first
                if rebuild:
                    cls.remove(path)
                if not cls.exists(path):
                    return cls._create(path, manifest, lock)
        return cls.open(path, manifest, wait, on_wait)

    @staticmethod
    def remove(path: str | Path) -> None:
        """Delete the index files in ``path`` (other files there are left alone)."""
        files.remove_all(Path(path), INDEX_FILES, [BM25_DIR])

    # ---- writing -------------------------------------------------------------------------
    def _begin(self) -> None:
        """Start the write transaction: take the writer lock (waiting for another writer), then
        reload whatever another process committed since this one last looked."""
        if self._conn.in_transaction:
            return
        if self.read_only:
            raise IndexReadOnlyError(f"{self.path} is read-only: this index can be searched but not written to")
        self.write_lock.acquire()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute(LEXICON_DDL)  # (gone from an index whose lexicon table was dropped)
            self._stage_start()  # what this write changes is published by its commit
            self._settle_files()  # a commit a crash cut short: finished or undone
            self._catch_up()
            if self.vectors_damaged and not self._repairing:
                raise IndexDamagedError(self.problems()[0])
        except BaseException:
            self._end("ROLLBACK")
            raise

    def _end(self, statement: str, publish: bool = False, then=None) -> None:
        """COMMIT or ROLLBACK, then ``then()`` (still holding the lock), publish the state this
        write built (``publish``) or drop it, and let the next writer in."""
        try:
            if self._conn.in_transaction:
                self._conn.execute(statement)
                if statement == "COMMIT":  # into rag.sqlite itself: a folder at rest needs no -wal
                    checkpoint(self._conn, self.path)
            if then is not None:
                then()
            self._stage_end(publish)
        finally:
            self._stage_end(publish=False)  # (after a failed COMMIT)
            self.write_lock.release()

    def release(self) -> None:
        """End a transaction that wrote nothing (after ``begin()`` to look): lets the next
        writer in without reloading the search files (what it caught up with is kept)."""
        with self._lock:
            self._end("ROLLBACK", publish=True)

    def begin(self) -> None:
        """Take the writer lock now (see ``_begin``): the caller then sees every committed
        change of other writers before it decides what to write."""
        with self._lock:
            self._begin()

    @property
    def bm25_behind(self) -> bool:
        """True when committed chunks are not yet in the BM25 index (a deferred rebuild)."""
        return self._bm25_dirty

    @property
    def pending(self) -> bool:
        """True while there are writes not yet committed by :meth:`commit_search_indexes`."""
        return self._conn.in_transaction

    def set_source_status(self, source_id: int, status: str) -> None:
        """``ok`` once every record of the file is in, ``partial`` while an ingest runs."""
        with self._lock:
            self._begin()
            writes.set_source_status(self._conn, source_id, status)

    def add_source(self, source: Source) -> int:
        """Record an input file; sets and returns ``source.id``."""
        with self._lock:
            self._begin()
            source.id = writes.insert_source(self._conn, source)
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
        vectors = files.batch_vectors(articles, chunks_per_article, vectors, self.dim)
        with self._lock:
            self._begin()
            self._learn_words(articles)
            tokens = [
                " ".join(self.tokenizer(f"{a.headline}\n{c.text}"))
                for a, cs in zip(articles, chunks_per_article)
                for c in cs
            ]
            writes.check_doc_ids(self._conn, [a.doc_id for a in articles])
            self._conn.execute("SAVEPOINT add_articles")
            try:
                ids, chunk_ids = writes.insert_articles(self._conn, source_id, articles, chunks_per_article, tokens)
            except BaseException:
                self._conn.execute("ROLLBACK TO add_articles")
                raise
            finally:
                self._conn.execute("RELEASE add_articles")
            if chunk_ids:
                if vectors is not None:
                    self._own_vectors().add(vectors, chunk_ids)
                self._faiss_dirty = self._bm25_dirty = True
        flat = iter(chunk_ids)
        for art, aid, chunks in zip(articles, ids, chunks_per_article):
            art.id = aid
            for c in chunks:
                c.article_id, c.id = aid, next(flat)
        return ids

    def delete_source(self, path: str) -> int:
        """Remove every source row with this path, with its articles, chunks and vectors.
        Returns the number of chunks removed."""
        with self._lock:
            self._begin()
            ids = writes.chunk_ids_of_sources(self._conn, "s.path = ?", [str(path)])
            self._conn.execute("DELETE FROM sources WHERE path = ?", (str(path),))
            if len(ids):
                self._own_vectors().remove(ids)
                self._faiss_dirty = self._bm25_dirty = True
            return len(ids)

    def retag_source(self, path: str, paper: str | None, date: str | None) -> int:
        """Set the paper and/or the date (None: keep) of every article of the source at ``path``;
        returns how many were changed.  Persisted by the next :meth:`commit_search_indexes`."""
        with self._lock:
            self._begin()
            return writes.retag_source(self._conn, str(path), paper, date)

    def commit_search_indexes(self, bm25: bool = True) -> None:
        """Rebuild bm25/ from the stored tokens, write vectors.faiss, update the manifest, commit.

        ``bm25=False`` defers the BM25 rebuild (a full pass over all chunks) to a later commit:
        use it for all but the last batch of a long ingest.  Until then BM25 searches miss the
        new chunks; an index closed in that state gets its bm25/ rebuilt when next opened.
        """
        with self._lock:
            self._begin()
            generation = manifest_generation(read_manifest(self._conn)) + 1
            digests: dict[str, str] = {}  # of the files this commit writes (``verify_files``)
            # the files are written under staged names, moved into place once SQLite committed
            # (rag.store.files): a crash at any point leaves the old state or the new one
            if self._bm25_dirty and bm25:
                stale = read_manifest(self._conn)
                if stale.get("tokens_stale") == "1":
                    words = json.loads(stale.get("tokens_stale_words") or '"*"')
                    writes.retokenize(self._conn, self.tokenizer, None if words == "*" else words)
                    write_manifest(self._conn, {"tokens_stale": "0", "tokens_stale_words": ""})
                self._rebuild_bm25(write_to=files.staged(self.path, BM25_DIR, generation))
                self.bm25_problem = ""  # written whole by this commit
                digests["bm25_sha256"] = files.digest_of(files.staged(self.path, BM25_DIR, generation))
            # flat while small, IVF beyond IVF_MIN vectors (also for an index built before)
            reorganized = (
                not self.lexical_only and self.vectors.reorganize_needed() and self._own_vectors().reorganize()
            )
            if (self._faiss_dirty or reorganized) and not self.lexical_only:
                self.vectors.write(files.staged(self.path, VECTORS, generation))
                self.stray_vectors = 0  # written without them
                digests["vectors_sha256"] = ""  # known again at the run's last commit (below)
            unknown = "vectors_sha256" in digests or not read_manifest(self._conn).get("vectors_sha256")
            if bm25 and unknown and not self.lexical_only:  # once a run, not each batch: it reads the file whole
                written = files.current(self.path, VECTORS, generation)
                if written.exists():
                    digests["vectors_sha256"] = files.digest_of(written)
            chunks = self._conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            behind = str(os.getpid()) if self._bm25_dirty and not bm25 else ""  # readers: a deferred build
            update = {"updated_at": now(), "chunks": chunks, "generation": generation, "bm25_deferred_by": behind}
            update |= digests
            write_manifest(self._conn, update)
            self.manifest = {**self.manifest, **{k: str(v) for k, v in update.items()}}
            self._end("COMMIT", publish=True, then=lambda: self._promote(generation))
            if bm25:  # the end of an ingest (not each deferred batch): openers skip re-tuning the lexicon
                save_tokenizer_state(self.path, self.tokenizer, self.manifest)
            self._faiss_dirty = False
            self._bm25_dirty = self._bm25_dirty and not bm25

    def rollback(self) -> None:
        """Discard uncommitted writes and reload the committed search files."""
        with self._lock:
            self._end("ROLLBACK")
            with self._rebuilding():
                self._load_files()
                self._faiss_dirty = self._bm25_dirty = False
                self._reconcile()  # earlier deferred batches may still need their BM25 build

    def close(self) -> None:
        """Close the database; uncommitted writes are discarded (with a warning). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._conn.in_transaction:
                log.warning("%s: discarding uncommitted changes (call commit_search_indexes())", self.path)
            self._end("ROLLBACK")
            self._conn.close()
            self._readers.close()
