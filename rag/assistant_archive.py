"""The archive side of the façade: what it holds (catalog, articles, facets, stats), example
questions and filter checks, the curation of its sources (delete, re-tag), copying it into
Milvus, and how writes take turns (``writing``, ``writer``)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.models import Filters, InputError


class ArchiveMixin:
    """Mixed into rag.assistant.Assistant: needs its ``index``, ``location``, ``settings`` and
    ``_open``.  Writes go through ``writer()``: a store of their own, one write at a time,
    while questions on ``index`` go on."""

    index: Any
    location: Any
    settings: Any
    write_lock: threading.Lock
    on_wait: Any

    def _open(self, checked: bool = True, on_wait=None) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def writing(self, on_wait=None):
        """This process's turn to write (``write_lock``; waits up to ``write_wait`` seconds,
        telling ``on_wait``, then WriterBusyError); the write lock of the index folder then
        keeps other processes' writers out."""
        from rag.store.errors import WriterBusyError
        from rag.store.lock import waiting_message

        wait = self.settings.write_wait
        if not self.write_lock.acquire(blocking=False):
            if on_wait or self.on_wait:
                (on_wait or self.on_wait)(waiting_message(str(os.getpid())))
            if not self.write_lock.acquire(timeout=wait if wait > 0 else 0):
                raise WriterBusyError(f"{waiting_message(str(os.getpid()))}: gave up after {wait:.0f} s")
        try:
            yield
        finally:
            self.write_lock.release()

    @contextlib.contextmanager
    def writer(self, on_wait=None):
        """A store of its own to write through, in this process's turn (``writing``)."""
        with self.writing(on_wait):
            store = self._open(on_wait=on_wait)
            try:
                yield store
            finally:
                store.close()

    def migrate(self, to: str = "milvus", rebuild: bool = False, progress=None):
        """Copy the embedded index (``settings.index``) into Milvus (``milvus_uri``,
        ``milvus_prefix``) with its vectors, no re-embedding (``rag migrate``); resumable."""
        from dataclasses import replace

        from rag.store.factory import StoreLocation
        from rag.store.migrate import copy_index

        if to != "milvus":
            raise ValueError(f"rag migrate copies into milvus; unknown target store {to!r}")
        self.close()
        source = StoreLocation.of(replace(self.settings, store="embedded"))
        target = StoreLocation.of(replace(self.settings, store="milvus"))
        with source.open(wait=self.settings.write_wait, on_wait=self.on_wait) as index:
            keys = ("model_id", "dim", "chunker_version", "query_prefix", "document_prefix", "tokenizer")
            store = target.create_or_open({k: index.manifest[k] for k in keys if k in index.manifest}, rebuild)
            try:
                report = copy_index(index, store, progress)
                report.target = str(target)
                return report
            finally:
                store.close()

    def catalog(self) -> list[tuple[str, str, int]]:
        """(paper, date, article count), newest first."""
        self.index.refresh()
        return self.index.catalog()

    def articles_on(self, paper: str | None, date: str | None) -> list[tuple]:
        """(id, headline, paper, date, page, section) of a paper's and/or a date's articles."""
        return self.index.articles_on(paper, date)

    def article(self, article_id: int):
        return self.index.article(article_id)

    def check_filters(self, filters: Filters | None):
        """Which filter matches no article of the archive (rag.filter_check), for a filtered
        question that found nothing."""
        from rag.filter_check import check_filters

        return check_filters(filters, self.catalog(), self.facets()["sections"])

    def examples(self, n: int = 3) -> list[str]:
        """Example questions from the archive's newest headlines (rag.examples)."""
        from rag.examples import example_questions

        return example_questions(self.index.articles_on(None, None, 200), n)

    def facets(self) -> dict[str, list[str]]:
        self.index.refresh()
        return self.index.facets()

    def stats(self) -> dict:
        """Counts, papers, dates and ``problems`` (damaged files with the fix; [] when healthy)."""
        self.index.refresh()
        return {**self.index.stats(), "problems": self.index.problems()}

    def delete(self, paths: Sequence[str]) -> int:
        """Remove sources given by path (as ingested) or by file name when that is unique.
        ValueError names any path the index does not hold (nothing is removed then)."""
        removed = 0
        with self.writer() as store:
            keys = self._sources(paths, store)
            with store.batch():
                for key in keys:
                    removed += store.delete_source(key)
        return removed

    def _sources(self, paths: Sequence[str], store) -> list[str]:
        """The stored path of each source given by path or unique file name; InputError naming
        the ones the index does not hold."""
        from rag.ingest.loaders import printable_path

        keys, unknown = [], []
        for p in paths:
            key = store.find_source(printable_path(p), printable_path(Path(p).resolve()))
            if isinstance(key, str):
                keys.append(key)
            else:
                unknown.append(f"{p}" + (f" (matches {len(key)} sources: give the full path)" if key else ""))
        if unknown:
            raise InputError(
                f"no such source in index {self.location}: {', '.join(unknown)} (see `rag stats` or the 资料库 tab)",
                f"资料库里没有这个文件：{'、'.join(unknown)}",
            )
        return keys

    def _retag_from_sidecar(self, writer, sources: Sequence[str]) -> None:
        """Tag the just-ingested sources with the paper/date a person set for them (rag.source_metadata)."""
        from rag.source_metadata import SourceMetadata

        known = SourceMetadata(self.location.folder).load()
        todo = [(s, known[s]) for s in sources if s in known]
        if todo:
            with writer.batch(bm25=False):
                for source, meta in todo:
                    writer.retag_source(source, meta.get("paper"), meta.get("date"))

    def retag(self, path: str, paper: str | None = None, date: str | None = None) -> int:
        """Set the paper and/or date of every article of one source (given as for ``delete``),
        remembered for re-ingests; returns how many articles were re-tagged."""
        from rag.source_metadata import SourceMetadata, checked

        paper, date = checked(paper, date)
        with self.writer() as store:
            (key,) = self._sources([path], store)
            with store.batch(bm25=False):
                n = store.retag_source(key, paper, date)
            SourceMetadata(self.location.folder).set(key, paper, date)
        return n
