"""The writing half of MilvusStore: the embedded store's write contract on an engine without
transactions.

A batch's writes are staged in memory and sent at ``commit_search_indexes`` in an order that
keeps every moment of a crash recoverable without duplicates:

1. source rows (a new file's row says ``partial``);
2. chunks, then articles: an article row is written only after its chunks, so the resume
   step's "already stored" (``doc_ids_of_source``) means complete;
3. the rows of a replaced version of a file, deleted by its source id (rows the new version
   rewrote carry the new id and stay);
4. the manifest's generation (other processes' ``refresh`` sees the change).

Ids are hashes of the article's ``doc_id``: writing a batch again replaces its rows.  A crash
between 1 and 3 leaves two source rows for a path; the next writer deletes the older one's
leftovers before writing (``_reconcile``).  One writer at a time: a local ``.db`` file takes the
embedded store's write lock; against a server, run one ingest at a time (see docs/milvus.md).
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rag.models import Article, Chunk, Source
from rag.store import files
from rag.store.batching import Batches
from rag.store.lock import WriteLock
from rag.store.milvus.reading import REGIONS, MilvusReading
from rag.store.milvus.schema import (
    FIELDS,
    TEXT_PART,
    date_number,
    dense_index,
    id_list,
    placeholder_rows,
    quote,
    stable_id,
)
from rag.store.schema import now
from rag.text.normalize import fold

log = logging.getLogger(__name__)
ROWS_PER_CALL = 500


class MilvusWriting(MilvusReading, Batches):
    """Needs ``write_lock`` besides what the reading half needs (MilvusStore sets them)."""

    write_lock: WriteLock | None
    _reconciled: bool
    _held: bool

    def _reset_staged(self) -> None:
        self._staged_sources: dict[int, dict] = {}
        self._staged_chunks: list[dict] = []
        self._staged_articles: list[dict] = []
        self._stale: set[int] = set()

    # ---- the writer lock -------------------------------------------------------------------
    def begin(self) -> None:
        """Take the writer lock (a local file's; in-process otherwise) and mend what a crashed
        writer left (once per store)."""
        with self._lock:
            if self._held:
                return
            if self.write_lock is not None:
                self.write_lock.acquire()
            self._held = True
            if not self._reconciled:
                self._reconcile()
                self._reconciled = True

    def release(self) -> None:
        with self._lock:
            if self._held and self.write_lock is not None:
                self.write_lock.release()
            self._held = False

    @property
    def pending(self) -> bool:
        return bool(self._staged_sources or self._staged_chunks or self._stale)

    @property
    def bm25_behind(self) -> bool:
        return False  # the engine keeps BM25 up to date itself

    @property
    def missing_vectors(self) -> np.ndarray:
        return np.zeros(0, dtype=np.int64)  # a chunk row holds its vector: none can be missing

    def _reconcile(self) -> None:
        """Delete the leftovers of a replaced file version an interrupted writer left: every
        source row of a path but the newest."""
        by_path: dict[str, list[dict]] = {}
        for row in self._scan("sources", "id > 0", ["id", "path", "added"]):
            by_path.setdefault(row["path"], []).append(row)
        stale = {int(r["id"]) for rows in by_path.values() for r in sorted(rows, key=lambda r: -r["added"])[1:]}
        if stale:
            log.warning("%s: removing %d replaced file versions an interrupted write left", self.path, len(stale))
            self._delete_sources(stale)

    # ---- staged writes ---------------------------------------------------------------------
    def add_source(self, source: Source) -> int:
        with self._lock:
            self.begin()
            source.id = secrets.randbits(62) or 1
            self._staged_sources[source.id] = {
                "id": source.id,
                "path": str(source.path),
                "name": os.path.basename(str(source.path)),
                "sha256": source.sha256,
                "size": int(source.size),
                "encoding": source.encoding,
                "status": source.status,
                "error": source.error,
                "ingested_at": now(),
                "added": time.time_ns(),
            }
            return source.id

    def set_source_status(self, source_id: int, status: str) -> None:
        with self._lock:
            self.begin()
            row = self._staged_sources.get(source_id) or self._source_row(source_id)
            self._staged_sources[source_id] = {**row, "status": status}

    def _source_row(self, source_id: int) -> dict:
        rows = self._query("sources", f"id == {int(source_id)}", ["*"])
        if not rows:
            raise KeyError(f"no source {source_id}")
        return {k: v for k, v in rows[0].items() if k != "_v"}

    def add_articles(
        self,
        source_id: int,
        articles: Sequence[Article],
        chunks_per_article: Sequence[Sequence[Chunk]],
        vectors: np.ndarray | None,
    ) -> list[int]:
        """Stage articles, their chunks and one vector per chunk (rows = chunks flattened);
        sets ``id`` on every Article and Chunk.  Sent by the next commit."""
        vectors = files.batch_vectors(articles, chunks_per_article, vectors, self.dim)
        with self._lock:
            self.begin()
            source = self._staged_sources.get(source_id) or self._source_row(source_id)
            at = 0
            for art, chunks in zip(articles, chunks_per_article):
                art.id = stable_id(art.doc_id)
                common = {"article_id": art.id, "source_id": source_id, "date": date_number(art.date)}
                for c in chunks:
                    c.article_id, c.id = art.id, stable_id(art.doc_id, c.position)
                    row = {
                        **common,
                        "id": c.id,
                        "position": c.position,
                        "start": c.start,
                        "end": c.end,
                        "text": c.text,
                        "lexical": fold(f"{art.headline}\n{c.text}"),
                        "paper": art.paper,
                        "section": art.section,
                        "source": source["path"],
                        "source_name": source["name"],
                    }
                    if vectors is not None:
                        row["vector"] = vectors[at].tolist()
                    at += 1
                    self._staged_chunks.append(row)
                self._staged_articles += _article_rows(
                    art, common, source["path"], regions=REGIONS in self._article_fields
                )
            return [a.id for a in articles if a.id is not None]

    def delete_source(self, path: str) -> int:
        """Stage the removal of every source row with this path, its articles and chunks;
        returns the number of chunks that go."""
        with self._lock:
            self.begin()
            ids = [int(r["id"]) for r in self._query("sources", f"path == {quote(str(path))}", ["id"])]
            ids += [sid for sid, row in self._staged_sources.items() if row["path"] == str(path)]
            for sid in ids:
                self._staged_sources.pop(sid, None)
            self._stale.update(ids)
            self._staged_chunks = [r for r in self._staged_chunks if r["source_id"] not in self._stale]
            self._staged_articles = [r for r in self._staged_articles if r["source_id"] not in self._stale]
            if not ids:
                return 0
            return self._count("chunks", f"source_id in {id_list(ids)}")

    def retag_source(self, path: str, paper: str | None, date: str | None) -> int:
        """Stage the paper and/or date (None: keep) of the source's articles and of their chunks'
        filter copies; returns the number of articles.  Sent by the next commit (upserts)."""
        with self._lock:
            self.begin()
            ids = [int(r["id"]) for r in self._query("sources", f"path == {quote(str(path))}", ["id"])]
            if not ids or (paper is None and date is None):
                return 0
            where = f"source_id in {id_list(ids)}"
            chunks = list(
                self._scan("chunks", where, [*FIELDS["chunks"].split(), "lexical", *self._has("chunks", "vector")])
            )
            article_fields = [f for f in FIELDS["articles"].split() if f != REGIONS] + self._has("articles", REGIONS)
            articles = list(self._scan("articles", where, article_fields))
            for row in chunks:
                if paper is not None:
                    row["paper"] = paper
                if date is not None:
                    row["date"] = date_number(date)
            for row in articles:
                if paper is not None:
                    row["paper"] = paper
                if date is not None:
                    row.update(iso_date=date, date=date_number(date))
            self._staged_chunks += chunks
            self._staged_articles += articles
            return len({r["article_id"] for r in articles})

    def _has(self, kind: str, field: str) -> list[str]:
        """``[field]`` when the collection has it (older ones lack some), else []."""
        present = {f["name"] for f in self.client.describe_collection(self.names[kind])["fields"]}
        return [field] if field in present else []

    # ---- commit ----------------------------------------------------------------------------
    def commit_search_indexes(self, bm25: bool = True) -> None:
        """Send the staged writes (in the crash-safe order above), bump the generation, let
        the next writer in.  ``bm25`` is accepted for the contract: the engine indexes as it goes."""
        with self._lock:
            self.begin()
            try:
                self._send("sources", placeholder_rows(list(self._staged_sources.values())))
                self._send("chunks", self._staged_chunks)
                grew = bool(self._staged_chunks)
                self._send("articles", placeholder_rows(self._staged_articles))
                if self._stale:
                    self._delete_sources(self._stale)
                generation = int(self.manifest.get("generation", "0")) + 1
                update = {"updated_at": now(), "generation": str(generation)}
                self._write_manifest(update)
                self.manifest.update(update)
                self._forget()
                if grew and not self.local:
                    self.fit_dense_index()  # HNSW once the archive outgrows FLAT
            finally:
                self._reset_staged()
                self.release()

    def fit_dense_index(self) -> str:
        """Switch the dense index to the type the archive's size calls for (FLAT while small,
        HNSW beyond; milvus-lite has FLAT only)."""
        if self.dim == 0:
            return "none"
        want = dense_index(self._count("chunks"), self.local)
        have = self.client.describe_index(self.names["chunks"], "vector") or {}
        if have.get("index_type") != want["index_type"]:
            self.client.release_collection(self.names["chunks"])
            self.client.drop_index(self.names["chunks"], "vector")
            params = self.client.prepare_index_params()
            params.add_index("vector", **want)
            self.client.create_index(self.names["chunks"], params)
            self.client.load_collection(self.names["chunks"])
        return want["index_type"]

    def _write_manifest(self, values: Mapping[str, Any]) -> None:
        rows = [{"key": k, "value": str(v)} for k, v in values.items()]
        self.client.upsert(self.names["meta"], placeholder_rows(rows))

    def _send(self, kind: str, rows: list[dict]) -> None:
        for i in range(0, len(rows), ROWS_PER_CALL):
            self.client.upsert(self.names[kind], rows[i : i + ROWS_PER_CALL])

    def _delete_sources(self, source_ids: set[int]) -> None:
        ids = id_list(sorted(source_ids))
        self.client.delete(self.names["chunks"], filter=f"source_id in {ids}")
        self.client.delete(self.names["articles"], filter=f"source_id in {ids}")
        self.client.delete(self.names["sources"], filter=f"id in {ids}")

    def rollback(self) -> None:
        with self._lock:
            self._reset_staged()
            self.release()

    # ---- maintenance (what the embedded store's files need; nothing here) --------------------
    def repair(self, embedder=None) -> dict[str, Any]:
        """Nothing to re-embed or rebuild (vectors and BM25 live in the chunk rows): removes
        the leftovers of interrupted file replacements; reports like the embedded store."""
        with self._lock:
            self.begin()
            try:
                before = self._count("sources")
                self._reconcile()
                after = self._count("sources")
            finally:
                self.release()
        chunks = self._count("chunks")
        done = (
            f"removed {before - after} sources left by interrupted replacements; vectors and BM25 are "
            f"fields of Milvus' chunk rows ({chunks} chunks), so there was nothing to re-embed or rebuild"
        )
        return {
            "reembedded": 0,
            "stray_vectors_removed": 0,
            "bm25_docs": chunks,
            "problems_found": before - after,
            "done": done,
        }

    def relearn_lexicon(self) -> int:
        raise ValueError(
            "the Milvus store cuts words with the engine's own jieba analyzer (Milvus 2.5 takes no "
            "custom dictionary), so there is no archive lexicon to relearn"
        )


def _article_rows(art: Article, common: dict, source_path: str, regions: bool) -> list[dict]:
    """One row per ≤ TEXT_PART characters of the article's text and of its page regions (the
    metadata on each); ``regions`` False for a collection made before it had that field."""
    texts = [art.text[i : i + TEXT_PART] for i in range(0, len(art.text), TEXT_PART)]
    places = [art.regions[i : i + TEXT_PART] for i in range(0, len(art.regions), TEXT_PART)] if regions else []
    count = max(1, len(texts), len(places))
    rows = []
    for n in range(count):
        text = texts[n] if n < len(texts) else ""
        rows.append(
            {
                **common,
                "id": art.id if n == 0 else stable_id(art.doc_id, "part", n),
                "part": n,
                "parts": count,
                "doc_id": art.doc_id,
                "source": source_path,
                "headline": art.headline,
                "paper": art.paper,
                "iso_date": art.date,
                "page": art.page,
                "section": art.section,
                "byline": art.byline,
                "dateline": art.dateline,
                "text": text,
                "start": art.start,
                "end": art.end,
                **({REGIONS: places[n] if n < len(places) else ""} if regions else {}),
            }
        )
    return rows
