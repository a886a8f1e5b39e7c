"""The state the parts of an index share (rag.store.index.Index sets it; the search-file and
reading parts use it).  The search state's fields are ``Shared`` attributes: each thread reads
the published state, or the stage it is building (rag.store.sharing)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from rag.store.lock import WriteLock
from rag.store.sharing import ReadConnections, Shared, Staging
from rag.store.vectors import VectorStore
from rag.text.tokenize import JiebaTokenizer


class IndexState(Staging):
    path: Path
    dim: int
    model_id: str
    manifest = Shared[dict[str, str]]()
    tokenizer = Shared[JiebaTokenizer]()
    vectors = Shared[VectorStore]()
    bm25_state = Shared[tuple[Any, np.ndarray]]()  # (bm25s index or None, chunk ids in its order)
    missing_vectors = Shared[np.ndarray]()
    stray_vectors = Shared[int]()
    vector_file_problem = Shared[str]()
    bm25_problem = Shared[str]()
    _conn: sqlite3.Connection  # the writer's connection (used under _lock)
    _readers: ReadConnections  # every other read: one connection per thread
    _lock: threading.RLock
    _faiss_dirty: bool
    _bm25_dirty: bool
    _repairing: bool
    _bm25_kept: bool  # BM25 left behind SQLite on a reload while a writer was at work
    write_lock: WriteLock

    def _begin(self) -> None:
        raise NotImplementedError

    def commit_search_indexes(self, bm25: bool = True) -> None:
        raise NotImplementedError

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """The connection for a read: the writer's own while this thread is in the middle of a
        write (it sees what it wrote), else this thread's read connection (the last commit)."""
        if self._stage_owner == threading.get_ident() and self._conn.in_transaction:
            with self._lock:
                yield self._conn
        else:
            yield self._readers.get()

    @contextmanager
    def _rebuilding(self) -> Iterator[None]:
        """Build the next state aside in this thread and publish it whole at the end (dropped on
        error); inside a write, part of the write's stage (published by its commit)."""
        started = not self._building()
        self._stage_start()
        try:
            yield
        except BaseException:
            if started:
                self._stage_end(publish=False)
            raise
        if started:
            self._stage_end(publish=True)

    def _own_vectors(self) -> VectorStore:
        """The vectors, to change in place (see ``_owned``)."""
        return self._owned("vectors")

    def _own_tokenizer(self) -> JiebaTokenizer:
        """The tokenizer, to add words to (see ``_owned``)."""
        return self._owned("tokenizer")

    def _owned(self, name: str) -> Any:
        """This writer's ``vectors`` or ``tokenizer``: first copied when the published state holds
        it and another thread reads this index (its searches go on over the unchanged one)."""
        value = getattr(self, name)
        if value is getattr(self._published, name) and self._readers.shared():
            value = value.copy()
            setattr(self, name, value)
        return value
