"""SQLite schema, manifest keys and the manifest compatibility check."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rag.store.errors import IndexMismatchError
from rag.text.tokenize import DEFAULT_TOKENIZER

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
REBUILD_HINT = "rebuild with `rag ingest --rebuild ...` or choose another --index"

DDL = """
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    encoding TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'ok',
    error TEXT NOT NULL DEFAULT '', ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    doc_id TEXT NOT NULL UNIQUE, headline TEXT NOT NULL DEFAULT '', paper TEXT NOT NULL DEFAULT '',
    date TEXT NOT NULL DEFAULT '', page TEXT NOT NULL DEFAULT '', section TEXT NOT NULL DEFAULT '',
    byline TEXT NOT NULL DEFAULT '', dateline TEXT NOT NULL DEFAULT '', text TEXT NOT NULL,
    start INTEGER NOT NULL DEFAULT 0, "end" INTEGER NOT NULL DEFAULT 0, regions TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, text TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    tokens TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lexicon (word TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS articles_date ON articles(date);
CREATE INDEX IF NOT EXISTS articles_paper ON articles(paper);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source_id);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE INDEX IF NOT EXISTS sources_sha ON sources(sha256);
CREATE INDEX IF NOT EXISTS sources_path ON sources(path);
"""


LEXICON_DDL = "CREATE TABLE IF NOT EXISTS lexicon (word TEXT PRIMARY KEY, count INTEGER NOT NULL)"
REGIONS_DDL = "ALTER TABLE articles ADD COLUMN regions TEXT NOT NULL DEFAULT ''"  # indexes from before page regions


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def make_manifest(
    model_id: str,
    dim: int,
    chunker_version: str | int,
    query_prefix: str = "",
    document_prefix: str = "",
    tokenizer: str = DEFAULT_TOKENIZER,
) -> dict[str, str]:
    """The manifest an index is created with (and the ``expected`` dict to open it)."""
    return {
        "model_id": model_id,
        "dim": str(int(dim)),
        "query_prefix": query_prefix,
        "document_prefix": document_prefix,
        "chunker_version": str(chunker_version),
        "schema_version": str(SCHEMA_VERSION),
        "tokenizer": tokenizer,
    }


def new_manifest(manifest: Mapping[str, Any]) -> dict[str, str]:
    """Complete a caller's manifest (needs ``model_id`` and ``dim``) for a new index."""
    missing = {"model_id", "dim"} - set(manifest)
    if missing:
        raise ValueError(f"manifest lacks {', '.join(sorted(missing))}")
    values = {
        "query_prefix": "",
        "document_prefix": "",
        "chunker_version": "",
        "tokenizer": DEFAULT_TOKENIZER,
        **{k: str(v) for k, v in manifest.items()},
        "schema_version": str(SCHEMA_VERSION),
        "created_at": now(),
    }
    values["dim"] = str(int(values["dim"]))
    return values


def writable(folder: Path) -> bool:
    """False where the index folder or its rag.sqlite cannot be written (a read-only mount, a
    folder of another user): such an index is opened read-only and answers, but takes no writes."""
    db = folder / "rag.sqlite"
    return os.access(folder, os.W_OK) and (not db.exists() or os.access(db, os.W_OK))


def connect_read_only(path: Path) -> sqlite3.Connection:
    """rag.sqlite of a folder that cannot be written: ``mode=ro``, or ``immutable=1`` where
    SQLite cannot create the WAL's shared-memory file (a writer's commits are checkpointed, so
    a folder at rest holds them all in rag.sqlite itself)."""
    uri = f"file:{quote(str(path))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        conn = sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA query_only=ON")
    return conn


def connect(path: Path) -> sqlite3.Connection:
    """Open rag.sqlite in WAL mode with foreign keys; transactions are explicit (BEGIN)."""
    if not writable(path.parent):
        return connect_read_only(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def checkpoint(conn: sqlite3.Connection, folder: Path) -> None:
    """Copy the committed WAL into rag.sqlite (a folder at rest then needs no -wal); a failure
    (a full disk) loses nothing: the work stays in -wal and the next commit tries again."""
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.OperationalError as exc:
        log.warning("%s: committed; copying it into rag.sqlite failed (%s): the next commit does", folder, exc)


def create_database(path: Path, manifest: Mapping[str, Any]) -> None:
    """rag.sqlite with its tables and manifest, made under another name and renamed into place:
    a creation cut short (kill -9) leaves no rag.sqlite that would read as a damaged index."""
    from rag.store.files import fsync_path

    tmp = path.with_name(path.name + ".tmp")
    for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
        leftover.unlink(missing_ok=True)
    new = sqlite3.connect(tmp, isolation_level=None)
    try:
        new.executescript(f"BEGIN;\n{DDL}")
        write_manifest(new, manifest)
        new.execute("COMMIT")
    finally:
        new.close()
    fsync_path(tmp)
    os.replace(tmp, path)
    fsync_path(path.parent)


def connect_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection (one per reading thread: rag.store.sharing); WAL mode, set by the
    writer's connection, is a property of the file."""
    if not writable(path.parent):
        return connect_read_only(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA query_only=ON")
    return conn


def read_manifest(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM manifest").fetchall())


def write_manifest(conn: sqlite3.Connection, values: Mapping[str, Any]) -> None:
    conn.executemany(
        "INSERT INTO manifest(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [(k, str(v)) for k, v in values.items()],
    )


def check_manifest(path: Path, have: Mapping[str, str], expected: Mapping[str, Any] | None) -> None:
    """Raise IndexMismatchError when schema, model, dim or chunker version differ."""
    where = f"index {path}"
    schema = have.get("schema_version", "?")
    if schema != str(SCHEMA_VERSION):
        raise IndexMismatchError(
            f"{where} has schema version {schema}, this program reads schema version {SCHEMA_VERSION}: {REBUILD_HINT}"
        )
    if not expected:
        return
    want = {k: str(v) for k, v in expected.items()}
    model, dim = have.get("model_id", "?"), have.get("dim", "?")
    want_model, want_dim = want.get("model_id", model), want.get("dim", dim)
    if dim == "0" and "dim" not in want:
        want_model = model  # reading a lexical-only index: there are no vectors to mismatch
    if (model, dim) != (want_model, want_dim):
        raise IndexMismatchError(
            f"{where} was built with model {model} (dim {dim}), settings ask for "
            f"{want_model} (dim {want_dim}): {REBUILD_HINT}"
        )
    chunker = have.get("chunker_version", "?")
    want_chunker = want.get("chunker_version", chunker)
    if chunker != want_chunker:
        raise IndexMismatchError(
            f"{where} was built with chunker version {chunker}, this program uses chunker "
            f"version {want_chunker}: {REBUILD_HINT}"
        )
    want_schema = want.get("schema_version", schema)
    if want_schema != schema:
        raise IndexMismatchError(
            f"{where} has schema version {schema}, the caller expects {want_schema}: {REBUILD_HINT}"
        )


def manifest_generation(manifest: Mapping[str, str]) -> int:
    """The manifest's commit counter as a number; a damaged one counts as 0 (the next commit
    writes a good one) rather than leave the index unwritable."""
    value = manifest.get("generation")
    try:
        return max(0, int(value or 0))
    except ValueError:
        log.warning("the manifest's generation %r is not a number: counting from 0", value)
        return 0
