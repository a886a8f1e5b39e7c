"""Checks made before an index is used: is it a folder, is rag.sqlite a whole SQLite file with
our tables and manifest.  Each failure is one :class:`IndexDamagedError` naming the file and
the fix (never a traceback)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from rag.store.errors import IndexDamagedError

TABLES = ("manifest", "sources", "articles", "chunks")
MANIFEST_KEYS = ("model_id", "dim", "schema_version")


def rebuild_hint(folder: Path) -> str:
    return (
        f"restore it from a backup, or rebuild the index from its source files with "
        f"`rag ingest FILES --index {folder} --rebuild`"
    )


def repair_hint(folder: Path) -> str:
    return f"run `rag repair --index {folder}`"


def damaged(path: Path, exc: BaseException) -> IndexDamagedError:
    """The error for an rag.sqlite that SQLite itself found damaged."""
    return IndexDamagedError(f"{path} is damaged ({exc}): {rebuild_hint(path.parent)}")


def check_folder(folder: Path) -> None:
    """``--index`` must name a folder (or nothing yet), and the index's own files in it must be
    files: a folder in place of one would fail deep inside a write, after work was done."""
    if folder.exists() and not folder.is_dir():
        raise IndexDamagedError(
            f"--index {folder} is a file, not an index folder: give the "
            f"folder that holds rag.sqlite (or a new folder to create one)"
        )
    fixes = {
        "rag.sqlite": "restore the file from a copy, or build the index again with --rebuild",
        "vectors.faiss": f"move it away, then `rag repair --index {folder}` rebuilds the file",
        "write.lock": "move it away (the file is made again by the next write)",
    }
    for name, fix in fixes.items():
        if (folder / name).is_dir():
            raise IndexDamagedError(f"{folder / name} is a folder, not the index's file: {fix}")


def check_sqlite_file(path: Path) -> None:
    """Empty or unreadable rag.sqlite, by ``stat`` alone.  The file is never opened here: in a
    process that holds SQLite connections to it, closing any other descriptor of the file
    drops SQLite's POSIX locks, and another process could then checkpoint the WAL away under
    them (seen as a stale or "malformed" database)."""
    folder = path.parent
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IndexDamagedError(f"{path} cannot be read ({exc.strerror or exc}): {rebuild_hint(folder)}") from None
    if size == 0:
        raise IndexDamagedError(f"{path} is empty (0 bytes): {rebuild_hint(folder)}")


def check_sqlite_size(conn: sqlite3.Connection, path: Path) -> None:
    """A truncated file: fewer bytes than the pages its header counts (checked only when no
    WAL is pending, since WAL pages are not in the file yet)."""
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return
    try:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise damaged(path, exc) from None
    size = path.stat().st_size
    if size < pages * page_size:
        raise IndexDamagedError(
            f"{path} is truncated ({size:,} of {pages * page_size:,} bytes): {rebuild_hint(path.parent)}"
        )


def check_tables(conn: sqlite3.Connection, path: Path) -> None:
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise damaged(path, exc) from None
    check_sqlite_size(conn, path)
    missing = [t for t in TABLES if t not in names]
    if missing:
        raise IndexDamagedError(
            f"{path} has no table {', '.join(missing)} (damaged, or not an "
            f"index of this program): {rebuild_hint(path.parent)}"
        )


def check_manifest_keys(have: Mapping[str, str], path: Path) -> None:
    missing = [k for k in MANIFEST_KEYS if k not in have]
    if missing:
        raise IndexDamagedError(f"the manifest in {path} lacks {', '.join(missing)}: {rebuild_hint(path.parent)}")
    if not str(have["dim"]).isdigit():
        raise IndexDamagedError(
            f"the manifest in {path} has dim {have['dim']!r}, not a number: {rebuild_hint(path.parent)}"
        )


def first_line(exc: BaseException) -> str:
    """A library error (FAISS puts C++ stack text in its messages) as one short line."""
    text = str(exc).strip().splitlines()
    line = next((t for t in text if "Error" in t or "error" in t), text[0] if text else "")
    return line.strip()[:200] or type(exc).__name__
