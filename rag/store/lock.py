"""One writer at a time per index: an OS lock on ``<index>/write.lock`` (``flock``; on Windows
a byte-range lock).

The lock is held for a whole write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``/``ROLLBACK``)
and dies with its process, so a killed writer never leaves it behind.  A second writer waits
(telling the user who holds it) up to ``wait`` seconds, then gives up with
:class:`WriterBusyError`.  Readers never take it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rag.store.errors import WriterBusyError

if sys.platform == "win32":  # a byte-range lock on the first byte does the job of flock
    import msvcrt

    def _try_lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            raise BlockingIOError from None

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError when held

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


LOCK_FILE = "write.lock"
POLL = 0.1  # seconds between tries while another writer holds the lock


def pid_alive(pid: str) -> bool:
    """True when ``pid`` (as a writer wrote it down) names a running process; on Windows, when
    one is written at all (os.kill there would end the process)."""
    if not pid.isdigit():
        return False
    if sys.platform == "win32":
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:  # it runs, as another user
        return True
    return True


def waiting_message(pid: str) -> str:
    who = f"pid {pid}" if pid else "pid ?"
    return f"等待另一个写入进程（{who}）… / waiting for another writer ({who})"


class WriteLock:
    """``acquire()`` / ``release()`` of the index folder's writer lock (re-entrant: counted)."""

    def __init__(self, folder: Path, wait: float | None = None, on_wait: Callable[[str], None] | None = None) -> None:
        self.path = Path(folder) / LOCK_FILE
        self.wait = wait  # None: wait as long as it takes; 0: never wait
        self.on_wait = on_wait or (lambda message: None)
        self._fd: int | None = None
        self._depth = 0

    @property
    def held(self) -> bool:
        return self._fd is not None

    def holder(self) -> str:
        """The pid written by the process holding the lock ('' when unknown)."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""

    def acquire(self) -> None:
        if self._fd is not None:
            self._depth += 1
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        started, told = time.monotonic(), False
        try:
            while True:
                try:
                    _try_lock(fd)
                    break
                except BlockingIOError:
                    pid = self.holder()
                    waited = time.monotonic() - started
                    if self.wait is not None and waited >= self.wait:
                        raise WriterBusyError(
                            f"{waiting_message(pid)}: gave up after {waited:.0f} s "
                            f"(index {self.path.parent}; try again later or raise --wait)"
                        ) from None
                    if not told:
                        self.on_wait(waiting_message(pid))
                        told = True
                    time.sleep(POLL)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, str(os.getpid()).encode())
        self._fd, self._depth = fd, 1

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth > 0:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            _unlock(fd)
        finally:
            os.close(fd)
