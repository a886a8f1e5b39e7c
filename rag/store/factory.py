"""Where an index lives, chosen by a setting: the embedded folder (SQLite + FAISS + bm25s, the
default) or Milvus (``store = "milvus"``).  The façade opens, creates and peeks through here
and never names a backend.

A Milvus index is addressed by ``milvus_uri`` (a server, ``http://host:19530``, or a local
milvus-lite file; default: ``milvus.db`` inside the index folder) and a collection prefix
(default: from the index folder's name).  The index folder still holds uploads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STORES = ("embedded", "milvus")


@dataclass(frozen=True)
class StoreLocation:
    kind: str  # embedded | milvus
    folder: Path  # the index folder (embedded: the index itself)
    uri: str = ""
    token: str = ""
    prefix: str = ""
    shards: int = 1  # of a new chunks collection

    @classmethod
    def of(cls, settings: Any) -> StoreLocation:
        """From the settings: ``store``, ``index``, and ``milvus_uri``, ``milvus_token``,
        ``milvus_prefix``, ``milvus_shards``."""
        kind = (settings.store or "embedded").lower()
        if kind not in STORES:
            raise ValueError(f"unknown store {settings.store!r}; choose one of: {', '.join(STORES)}")
        folder = Path(settings.index)
        if kind == "embedded":
            return cls(kind, folder)
        from rag.store.milvus.schema import default_prefix

        uri = settings.milvus_uri or str(folder / "milvus.db")
        prefix = settings.milvus_prefix or default_prefix(folder.name)
        return cls(kind, folder, uri, settings.milvus_token, prefix, max(1, int(settings.milvus_shards)))

    def __str__(self) -> str:
        return str(self.folder) if self.kind == "embedded" else f"milvus {self.uri} ({self.prefix}_*)"

    @property
    def milvus(self) -> bool:
        return self.kind == "milvus"

    def check(self) -> None:
        """Fail early, in one line, on a location that cannot be an index."""
        from rag.store.health import check_folder

        check_folder(self.folder)

    def exists(self) -> bool:
        if self.milvus:
            from rag.store.milvus import MilvusStore

            return MilvusStore.exists(self.uri, self.prefix, self.token)
        from rag.store import Index

        return Index.exists(self.folder)

    def peek(self) -> dict[str, str]:
        """The manifest, checked, without opening the search structures."""
        if self.milvus:
            from rag.store.milvus import MilvusStore

            return MilvusStore.peek(self.uri, self.prefix, self.token)
        from rag.store import Index

        return Index.peek(self.folder)

    def open(
        self, manifest: Mapping[str, Any] | None = None, wait: float | None = None, on_wait: Callable | None = None
    ):
        """The store, checked against ``manifest`` (model, chunker …)."""
        if self.milvus:
            from rag.store.milvus import MilvusStore

            return MilvusStore.open(self.uri, self.prefix, manifest, self.token, wait, on_wait)
        from rag.store import Index

        return Index.open(self.folder, manifest, wait=wait, on_wait=on_wait)

    def create_or_open(
        self,
        manifest: Mapping[str, Any],
        rebuild: bool = False,
        wait: float | None = None,
        on_wait: Callable | None = None,
    ):
        if self.milvus:
            from rag.store.milvus import MilvusStore

            return MilvusStore.create_or_open(
                self.uri, self.prefix, manifest, rebuild, self.token, wait, on_wait, self.shards
            )
        from rag.store import Index

        return Index.create_or_open(self.folder, manifest, rebuild=rebuild, wait=wait, on_wait=on_wait)
