"""What the façade's two halves share (rag.assistant.Assistant reads, rag.archive.Archive
writes): the settings, where the index lives, the index opened for questions, the embedding
model, and whose turn it is to write.

Questions read ``index`` from any number of threads (each thread through its own SQLite
connection, over one published generation of the search files: rag.store.sharing).  Writes
take turns on ``write_lock`` and go through a store of their own (``writer``); a write that
must reopen the index (a rebuild, reindex, repair) ``close``s it, and whoever made things over
it (the Assistant's retrievers) is told through ``on_close``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

from rag.chunking import CHUNKER_VERSION
from rag.settings import Settings


class MadeOnce:
    """Things made on first use, each once, however many threads ask at the same time."""

    def __init__(self) -> None:
        self._made: dict[Any, Any] = {}
        self._lock = threading.RLock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        try:
            return self._made[key]
        except KeyError:
            with self._lock:
                if key not in self._made:
                    self._made[key] = make()
                return self._made[key]

    def put(self, key: Any, value: Any) -> None:
        """Use ``value`` for ``key`` from now on (whatever was made before)."""
        with self._lock:
            self._made[key] = value

    def peek(self, key: Any) -> Any:
        """What was made for ``key``, or None (nothing is made)."""
        return self._made.get(key)

    def forget(self, key: Any, value: Any) -> bool:
        """Forget ``key`` if it still holds ``value`` (another thread may have replaced it)."""
        with self._lock:
            if self._made.get(key) is not value:
                return False
            del self._made[key]
            return True

    def drop(self, keep: Callable[[Any], bool] = lambda key: False) -> list[Any]:
        """Forget everything but the keys ``keep`` accepts; returns what was forgotten."""
        with self._lock:
            gone = [k for k in self._made if not keep(k)]
            return [self._made.pop(k) for k in gone]


class OverHandle:
    """A half of the façade over one :class:`StoreHandle` (its settings, index, model, writes)."""

    handle: StoreHandle

    @property
    def settings(self) -> Settings:
        return self.handle.settings

    @property
    def location(self):
        """Where the index lives (rag.store.factory: the embedded folder or Milvus)."""
        return self.handle.location

    @property
    def index(self):
        """The index questions read, opened on first use and checked against the configured model."""
        return self.handle.index

    @property
    def on_wait(self) -> Callable[[str], None] | None:
        """Told (a message) when a write waits for another writer."""
        return self.handle.on_wait

    @on_wait.setter
    def on_wait(self, tell: Callable[[str], None] | None) -> None:
        self.handle.on_wait = tell


class StoreHandle:
    """One index (embedded folder or Milvus) as the façade uses it (see the module doc)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.load()
        self.write_lock = threading.Lock()  # one write of this process at a time
        self.on_wait: Callable[[str], None] | None = None  # told (a message) when a write waits for another writer
        self._made = MadeOnce()
        self._closed: list[Callable[[], None]] = []

    @property
    def location(self):
        """Where the index lives (rag.store.factory: the embedded folder or Milvus)."""
        from rag.store.factory import StoreLocation

        return StoreLocation.of(self.settings)

    def open(self, checked: bool = True, on_wait: Callable[[str], None] | None = None):
        """A new store over the index, checked against the configured model unless ``checked`` is False."""
        s = self.settings
        expected = {"model_id": s.embedding_model, "chunker_version": CHUNKER_VERSION} if checked else None
        return self.location.open(expected, wait=s.write_wait, on_wait=on_wait or self.on_wait)

    @property
    def index(self):
        """The index questions read, opened on first use and checked against the configured model;
        opened again when its files were replaced under it (a rebuild by another process)."""
        index = self._made.get("index", self.open)
        if index.replaced():
            if self._made.forget("index", index):  # one thread reopens; questions on the old one finish
                for forget in self._closed:
                    forget()
            index = self._made.get("index", self.open)
        return index

    @property
    def embedder(self):
        """The configured embedding model, loaded on first use (rag.embeddings.load_embedder)."""

        def load():
            from rag.embeddings import embedder_for

            return embedder_for(self.settings)

        return self._made.get("embedder", load)

    def on_close(self, forget: Callable[[], None]) -> None:
        """Call ``forget`` whenever the index is closed (things made over it are stale)."""
        self._closed.append(forget)

    def close(self) -> None:
        """Close the index questions read (the next question reopens it); the model stays loaded."""
        for index in self._made.drop(keep=lambda key: key != "index"):
            index.close()
        for forget in self._closed:
            forget()

    @contextlib.contextmanager
    def writing(self, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """This process's turn to write (``write_lock``; waits up to ``write_wait`` seconds,
        telling ``on_wait``, then WriterBusyError); the write lock of the index folder then
        keeps other processes' writers out."""
        from rag.store.errors import WriterBusyError
        from rag.store.lock import waiting_message

        wait, tell = self.settings.write_wait, on_wait or self.on_wait
        if not self.write_lock.acquire(blocking=False):
            if tell:
                tell(waiting_message(str(os.getpid())))
            if not self.write_lock.acquire(timeout=wait if wait > 0 else 0):
                raise WriterBusyError(f"{waiting_message(str(os.getpid()))}: gave up after {wait:.0f} s")
        try:
            yield
        finally:
            self.write_lock.release()

    @contextlib.contextmanager
    def writer(self, on_wait: Callable[[str], None] | None = None):
        """A store of its own to write through, in this process's turn (``writing``)."""
        with self.writing(on_wait):
            store = self.open(on_wait=on_wait)
            try:
                yield store
            finally:
                store.close()
