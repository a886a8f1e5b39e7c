"""Run the ``rag`` CLI and kill it (``os._exit(137)``, as SIGKILL would: no cleanup, no
flush) just before its N-th file operation or SQLite commit, N = ``RAG_CRASH_AT``.

The steps counted are every rename and replace, every file or folder removal and every
``COMMIT`` of the index: the points between which a crash can leave files and SQLite apart.
It prints ``steps: K`` on stderr when the command ends before step N (then there is no N-th).

    RAG_CRASH_AT=3 python tests/crash_at.py delete page_01.txt --index IDX
"""

from __future__ import annotations

import os
import shutil
import sys

from rag.store.index import Index

CRASH_AT = int(os.environ["RAG_CRASH_AT"])
count = 0
inside = False  # a removal of a folder is one step, not one per file in it


def step(what: str) -> None:
    global count
    if inside:
        return
    count += 1
    if count == CRASH_AT:
        sys.stderr.write(f"killed before step {count}: {what}\n")
        sys.stderr.flush()
        os._exit(137)


def counted(module, name: str, whole: bool = False) -> None:
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        global inside
        step(f"{name} {args[0] if args else ''}")
        if not whole:
            return original(*args, **kwargs)
        inside = True
        try:
            return original(*args, **kwargs)
        finally:
            inside = False

    setattr(module, name, wrapper)


for name in ("replace", "rename", "unlink", "remove", "rmdir"):
    counted(os, name)
counted(shutil, "rmtree", whole=True)
end = Index._end


def _end(self, statement: str, publish: bool = False, then=None) -> None:
    if statement == "COMMIT" and self._conn.in_transaction:
        step("COMMIT")
    end(self, statement, publish, then)


Index._end = _end

if __name__ == "__main__":
    from rag.cli import app

    try:
        app(prog_name="rag")
    finally:
        sys.stderr.write(f"steps: {count}\n")
