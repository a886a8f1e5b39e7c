"""A stream produced under a lock in a worker thread of its own.

Gradio may resume a generator in a different thread each time, so a lock must never be held
across our own ``yield``: an RLock would fail to release, and a client that goes away would
leave it held.  The items are produced by one thread that holds the lock from start to end.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_DONE = object()


def locked_stream(lock: threading.RLock, make_stream: Callable[[], Iterable[Any]]) -> Iterator[Any]:
    """Items of ``make_stream()``, produced in one worker thread that holds ``lock`` throughout;
    an exception it raises is raised here."""
    items: queue.Queue = queue.Queue()

    def produce() -> None:
        try:
            with lock:
                for item in make_stream():
                    items.put(item)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            items.put(exc)
        finally:
            items.put(_DONE)

    threading.Thread(target=produce, daemon=True).start()
    while (item := items.get()) is not _DONE:
        if isinstance(item, BaseException):
            raise item
        yield item
