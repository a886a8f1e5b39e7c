"""MilvusStore: the store contract on Milvus (a server or cluster at ``http://host:19530``, or
milvus-lite, the same engine in-process, for a local ``.db`` file).

Opening and creating mirror rag.store.Index: the manifest lives in the ``meta`` collection and
is checked the same way, so a mismatched model is refused with the same message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.store.errors import IndexNotFoundError, IndexStoreError
from rag.store.lock import WriteLock
from rag.store.milvus.schema import (
    MILVUS_SCHEMA,
    create_collections,
    names,
)
from rag.store.milvus.writing import MilvusWriting
from rag.store.schema import check_manifest, new_manifest

log = logging.getLogger(__name__)
_clients: dict[tuple[str, str], Any] = {}
_users: dict[tuple[str, str], int] = {}  # open MilvusStores per client
_clients_lock = threading.Lock()
REFRESH_EVERY = 1.0  # seconds: another process's commit is seen this soon


def is_local(uri: str) -> bool:
    return not uri.startswith(("http://", "https://", "tcp://", "unix:"))


def client_for(uri: str, token: str = ""):
    """One MilvusClient per URI and process (milvus-lite runs one engine per ``.db`` file)."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise IndexStoreError(
            "the Milvus store needs pymilvus (and milvus-lite for a local .db file): pip install '.[milvus]'"
        ) from None
    # milvus-lite's iterator warns once a page that it keeps time on the client side; a failed
    # connection is reported below, in one line, instead of pymilvus's log line
    logging.getLogger("pymilvus.orm.iterator").setLevel(logging.ERROR)
    logging.getLogger("pymilvus.milvus_client._utils").setLevel(logging.CRITICAL)
    key = (uri, token)
    with _clients_lock:
        if key not in _clients:
            if is_local(uri):
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
            try:
                _clients[key] = MilvusClient(uri=uri, token=token) if token else MilvusClient(uri=uri)
            except Exception as exc:  # noqa: BLE001 - pymilvus raises its own MilvusException and gRPC errors
                if is_local(uri) and "Open local milvus failed" in str(exc):
                    raise IndexStoreError(
                        f"the milvus-lite file {uri} is open in another process (milvus-lite serves one "
                        "process a file): stop that `rag` process, or run a Milvus server for several"
                    ) from None
                raise IndexStoreError(f"cannot reach Milvus at {uri}: {exc}") from None
        return _clients[key]


def _hold(uri: str, token: str, by: int) -> None:
    """Count the stores using a client; the last one out closes it, and for a milvus-lite file
    stops its engine, so another process can open the file."""
    key = (uri, token)
    with _clients_lock:
        _users[key] = _users.get(key, 0) + by
        if _users[key] > 0 or key not in _clients:
            return
        _users.pop(key)
        client = _clients.pop(key)
    client.close()
    if is_local(uri):
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(uri)


@contextmanager
def _using(uri: str, token: str) -> Iterator[Any]:
    """The client for one operation (closed after it unless a store holds it)."""
    client = client_for(uri, token)
    _hold(uri, token, +1)
    try:
        yield client
    finally:
        _hold(uri, token, -1)


class MilvusStore(MilvusWriting):
    """One archive in Milvus: four collections named ``<prefix>_…``."""

    def __init__(
        self, client, uri: str, prefix: str, manifest: dict[str, str], token: str = "", wait=None, on_wait=None
    ) -> None:
        self.client, self.uri, self.prefix = client, uri, prefix
        self.path = Path(f"{uri}#{prefix}")  # what messages name the index by
        self.manifest = manifest
        self.dim = int(manifest["dim"])
        self.model_id = manifest["model_id"]
        self._lock = threading.RLock()
        self._cache: dict[str, Any] = {}
        self._reconciled = self._held = False
        self.local = is_local(uri)
        self._known: set[int] = set()
        self._looked = time.monotonic()
        self.write_lock = WriteLock(Path(uri).parent, wait, on_wait) if self.local else None
        self._token, self._closed = token, False
        _hold(uri, token, +1)
        self._reset_staged()

    def __repr__(self) -> str:
        return f"MilvusStore({self.uri!r}, {self.prefix!r})"

    # ---- opening ---------------------------------------------------------------------------
    @classmethod
    def exists(cls, uri: str, prefix: str, token: str = "") -> bool:
        """True when the collections are there with their manifest (one whose creation was
        cut short, without the manifest, does not exist: creating it again replaces it)."""
        if is_local(uri) and not Path(uri).exists():
            return False
        with _using(uri, token) as client:
            return bool(client.has_collection(names(prefix)["meta"]) and cls._read_manifest(client, prefix))

    @staticmethod
    def _read_manifest(client, prefix: str) -> dict[str, str]:
        rows = client.query(names(prefix)["meta"], filter='key != ""', output_fields=["key", "value"])
        return {r["key"]: r["value"] for r in rows}

    @classmethod
    def peek(cls, uri: str, prefix: str, token: str = "") -> dict[str, str]:
        with _using(uri, token) as client:
            if not cls.exists(uri, prefix, token):
                raise IndexNotFoundError(cls._missing(uri, prefix))
            return cls._read_manifest(client, prefix)

    @staticmethod
    def _missing(uri: str, prefix: str) -> str:
        return (
            f"no index in Milvus at {uri} with collection prefix {prefix} (no {names(prefix)['meta']}): "
            f"build one with `rag ingest FILES --store milvus` or `rag migrate --to milvus`"
        )

    @classmethod
    def open(
        cls, uri: str, prefix: str, manifest: Mapping[str, Any] | None = None, token: str = "", wait=None, on_wait=None
    ) -> MilvusStore:
        """The archive at ``uri`` under ``prefix``, checked against ``manifest``; ``wait`` and
        ``on_wait`` are for the writer lock of a local file (as the embedded store's)."""
        if is_local(uri) and not Path(uri).exists():
            raise IndexNotFoundError(cls._missing(uri, prefix))
        with _using(uri, token) as client:
            if not cls.exists(uri, prefix, token):
                raise IndexNotFoundError(cls._missing(uri, prefix))
            have = cls._read_manifest(client, prefix)
            check_manifest(Path(f"{uri}#{prefix}"), have, manifest)
            if have.get("milvus_schema") != MILVUS_SCHEMA:
                raise IndexStoreError(
                    f"{uri}#{prefix} has Milvus schema {have.get('milvus_schema', '?')}, this program reads "
                    f"{MILVUS_SCHEMA}: rebuild with `rag ingest --rebuild` or `rag migrate --to milvus`"
                )
            for name in names(prefix).values():
                client.load_collection(name)
            return cls(client, uri, prefix, have, token, wait, on_wait)

    @classmethod
    def create_or_open(
        cls,
        uri: str,
        prefix: str,
        manifest: Mapping[str, Any],
        rebuild: bool = False,
        token: str = "",
        wait=None,
        on_wait=None,
        shards: int = 1,
    ) -> MilvusStore:
        with _using(uri, token) as client:
            if cls.exists(uri, prefix, token) and not rebuild:
                return cls.open(uri, prefix, manifest, token, wait, on_wait)
            cls.remove(uri, prefix, token)  # also what a creation cut short left
            values = {**new_manifest(manifest), "milvus_schema": MILVUS_SCHEMA, "generation": "0"}
            create_collections(client, prefix, int(values["dim"]), is_local(uri), shards)
            store = cls(client, uri, prefix, values, token, wait, on_wait)
            store._write_manifest(values)
            return store

    @staticmethod
    def remove(uri: str, prefix: str, token: str = "") -> None:
        if is_local(uri) and not Path(uri).exists():
            return
        with _using(uri, token) as client:
            for name in names(prefix).values():
                if client.has_collection(name):
                    client.drop_collection(name)

    # ---- life ------------------------------------------------------------------------------
    def refresh(self) -> bool:
        """True when another process committed since (its generation moved on); asks the
        engine at most once every ``REFRESH_EVERY`` seconds (one round trip each time)."""
        if time.monotonic() - self._looked < REFRESH_EVERY:
            return False
        self._looked = time.monotonic()
        have = self._read_manifest(self.client, self.prefix)
        if have.get("generation") == self.manifest.get("generation"):
            return False
        self.manifest = have
        self._forget()
        return True

    def replaced(self) -> bool:
        return False  # a rebuild drops and recreates the collections this handle names

    def verify_files(self) -> list[str]:
        return []  # the engine keeps its own data sound

    def problems(self) -> list[str]:
        missing = [n for n in self.names.values() if not self.client.has_collection(n)]
        return [f"Milvus collection {n} is missing: rebuild the index" for n in missing]

    def close(self) -> None:
        """Discard uncommitted writes (with a warning); the last store of a client closes it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self.pending:
                log.warning("%s: discarding uncommitted changes", self.path)
            self.rollback()
        _hold(self.uri, self._token, -1)
