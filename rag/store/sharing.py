"""How one open index is shared by the threads of a server (a part of :class:`rag.store.Index`).

* **SQLite**: every thread reads through a connection of its own (``ReadConnections``); in WAL
  mode a reader sees the last commit and never waits for the writer.  The index's own
  connection is the writer's, used under the index's lock.
* **Search state** (``SearchState``: manifest, FAISS vectors, BM25, the jieba tokenizer and
  what is wrong with the files): readers take the *published* state; a thread that writes or
  reloads builds a new one aside (its *stage*, seen only by that thread) and publishes it
  whole, with one assignment, when it commits or has reloaded.  A question that started on
  one generation finishes on it; none ever sees a half-loaded or half-written state.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class SearchState:
    """One generation of what searches read besides SQLite; replaced, never changed."""

    manifest: dict[str, str] = field(default_factory=dict)
    tokenizer: Any = None
    vectors: Any = None
    bm25_state: tuple[Any, np.ndarray] = (None, np.zeros(0, dtype=np.int64))
    missing_vectors: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    stray_vectors: int = 0
    vector_file_problem: str = ""
    bm25_problem: str = ""


class Shared(Generic[T]):
    """A field of the search state as an attribute: read from the state this thread sees (the
    one it is building, else the published one), assigned into it (a new SearchState)."""

    name: str

    def __set_name__(self, owner: Any, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: Any = None) -> Shared[T]: ...

    @overload
    def __get__(self, obj: object, owner: Any = None) -> T: ...

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        return getattr(obj._state_here(), self.name)

    def __set__(self, obj: Any, value: T) -> None:
        obj._set_state(self.name, value)


class Staging:
    """The published state, and the stage of the one thread building the next (a part of the index)."""

    _published: SearchState
    _stage: SearchState | None
    _stage_owner: int | None

    def _init_state(self) -> None:
        self._published, self._stage, self._stage_owner = SearchState(), None, None

    def _building(self) -> bool:
        return self._stage is not None and self._stage_owner == threading.get_ident()

    def _state_here(self) -> SearchState:
        """The state this thread reads: its own stage while it builds one, else the published one."""
        stage = self._stage
        if stage is not None and self._stage_owner == threading.get_ident():
            return stage
        return self._published

    def _set_state(self, name: str, value: Any) -> None:
        if self._building():
            self._stage = replace(self._stage, **{name: value})  # type: ignore[type-var]
        else:
            self._published = replace(self._published, **{name: value})

    def _stage_start(self) -> None:
        """From now on this thread's assignments build the next state (no-op while it already does)."""
        if not self._building():
            self._stage, self._stage_owner = self._published, threading.get_ident()

    def _stage_end(self, publish: bool) -> None:
        """Publish this thread's stage (one assignment) or drop it; no-op when it has none."""
        if self._building():
            if publish:
                self._published = self._stage  # type: ignore[assignment]
            self._stage = self._stage_owner = None


class _Held:
    """A thread's read connection; dropped with the thread (which closes the connection)."""

    __slots__ = ("__weakref__", "conn", "ident")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn, self.ident = conn, threading.get_ident()


class ReadConnections:
    """One read-only connection to rag.sqlite per thread, opened on first use."""

    def __init__(self, path: Path, connect: Callable[[Path], sqlite3.Connection]) -> None:
        self.path, self._connect = path, connect
        self._local = threading.local()
        self._open: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._closed = False

    def get(self) -> sqlite3.Connection:
        held = getattr(self._local, "held", None)
        if held is None:
            held = _Held(self._connect(self.path))
            with self._lock:
                if self._closed:
                    held.conn.close()
                    raise sqlite3.ProgrammingError("the index is closed")
                self._open.add(held)
            self._local.held = held
        return held.conn

    def shared(self) -> bool:
        """True when a thread other than this one reads through its own connection (a search
        may be running there right now)."""
        me = threading.get_ident()
        with self._lock:
            return any(h.ident != me for h in self._open)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            held, self._open = list(self._open), weakref.WeakSet()
        for h in held:
            h.conn.close()
