"""The archive half of the façade: what the archive holds (catalog, articles, facets, stats)
and every write to it — ingest, re-index, repair, delete, re-tag, the copy into Milvus.

It shares one ``StoreHandle`` (rag.store_handle) with the question half (rag.assistant):
writes take turns on the handle's write lock and go through a store of their own, while
questions on ``handle.index`` go on and see a write once it is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.chunking import CHUNKER_VERSION
from rag.ingest.errors import os_reason_zh, zh_reason
from rag.ingest.loaders import HTML_SUFFIXES, PDF_SUFFIXES, SCAN_SUFFIXES, printable_path
from rag.models import InputError
from rag.store.errors import IndexReadOnlyError, IndexStoreError, WriterBusyError
from rag.store_handle import OverHandle, StoreHandle

if TYPE_CHECKING:
    from rag.ingest.report import IngestProgress, IngestReport

OCR_CACHE = "ocr-cache"  # in the index folder: each scan or PDF page's OCR boxes (an ingest resumes from them)
# what ``ingest`` reads, by file name ending (the chat's upload accepts these)
INGESTED_SUFFIXES = (".txt", ".jsonl", ".jsonl.gz", ".jsonl.xz", *sorted(SCAN_SUFFIXES | PDF_SUFFIXES | HTML_SUFFIXES))

__all__ = [
    "INGESTED_SUFFIXES",
    "Archive",
    "IndexReadOnlyError",
    "IndexStoreError",
    "IngestProgress",
    "IngestReport",
    "WriterBusyError",
    "fit_static_model",
    "os_reason_zh",
    "printable_path",
    "zh_reason",
]


def __getattr__(name: str) -> Any:
    """The ingest's report and progress types, for the faces (loaded when first asked for)."""
    if name in ("IngestProgress", "IngestReport"):
        from rag.ingest import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def fit_static_model(
    source: Path, target: Path, model_cache: Path, exclude_index: Path | None = None, **options
) -> dict:
    """``rag fit-static``: static piece vectors fitted to the e5 vectors of the embedded index
    at ``source``, written to ``target`` (rag.embeddings.static_fit; ``options``: buckets,
    epochs, questions); the articles of ``exclude_index`` are left out (to measure on them)."""
    import sqlite3

    from rag.embeddings.static import ensure_static_model
    from rag.embeddings.static_fit import fit_static

    exclude: set[str] = set()
    if exclude_index is not None:
        conn = sqlite3.connect(f"file:{exclude_index / 'rag.sqlite'}?mode=ro", uri=True)
        exclude = {doc_id for (doc_id,) in conn.execute("SELECT doc_id FROM articles")}
        conn.close()
    return fit_static(source, target, ensure_static_model(model_cache), exclude=exclude, **options)


class _Deferred:
    """An object made on first use (the embedding model, when ``repair`` must re-embed)."""

    def __init__(self, make: Callable[[], object]) -> None:
        self._make = make

    def __getattr__(self, name: str):
        return getattr(self._make(), name)


class Archive(OverHandle):
    """What the archive holds and every write to it (see the module doc)."""

    def __init__(self, handle: StoreHandle) -> None:
        self.handle = handle

    def writer(self, on_wait=None):
        """A store of its own to write through, in this process's turn (rag.store_handle)."""
        return self.handle.writer(on_wait)

    # ---- ingest and upkeep ---------------------------------------------------------------
    def ingest(self, paths: Sequence[Path], rebuild: bool = False, progress=None, on_wait=None) -> IngestReport:
        """Add files through a writer of its own (its own connection and write lock): questions
        on the shared index go on meanwhile and see the new articles once they are committed.
        ``on_wait(message)`` is told when another writer holds the index."""
        with self.handle.writing(on_wait):
            return self._ingest(paths, rebuild, progress, on_wait)

    def _ingest(self, paths: Sequence[Path], rebuild: bool, progress, on_wait) -> IngestReport:
        from rag.embeddings import LEXICAL_ONLY, load_embedder
        from rag.ingest.pipeline import Ingestor
        from rag.store.schema import make_manifest

        where = self.location
        where.check()
        if rebuild:
            self.handle.close()
        # a damaged index fails here, in one line, before the model loads
        lexical = not rebuild and where.exists() and where.peek().get("dim") == "0"
        # an index keeps the kind it was created with; --lexical-only loads no model at all
        embedder = load_embedder(LEXICAL_ONLY, self.settings.model_cache) if lexical else self.handle.embedder
        manifest = make_manifest(
            embedder.model_id, embedder.dim, CHUNKER_VERSION, embedder.query_prefix, embedder.document_prefix
        )
        writer = where.create_or_open(
            manifest, rebuild=rebuild, wait=self.settings.write_wait, on_wait=on_wait or self.handle.on_wait
        )
        try:
            ingestor = Ingestor(
                writer,
                embedder,
                self.settings.chunk_min,
                self.settings.chunk_max,
                progress,
                ocr_cache=where.folder / OCR_CACHE,
                ocr_workers=self.settings.ocr_workers,
                max_expanded=self.settings.max_expanded_mb << 20,
            )
            report = ingestor.run(paths)
            self._retag_from_sidecar(writer, report.ingested)
            return report
        finally:
            writer.close()

    def reindex(self) -> int:
        """Relearn the archive lexicon, re-cut every chunk, rebuild BM25 and fit the vector
        index to the archive's size (``rag reindex``); returns the lexicon's size."""
        with self.handle.writing():
            self.handle.close()
            with self.handle.open(checked=False) as index:
                return index.relearn_lexicon()

    def repair(self, on_wait=None) -> dict:
        """Re-embed chunks without vectors from SQLite's text, drop stray vectors, rebuild
        BM25 (``rag repair``); returns what was found and done."""
        with self.handle.writing(on_wait):
            self.handle.close()
            index = self.handle.open(on_wait=on_wait)  # the same model check as for questions: re-embedding needs it
            try:
                found = index.problems() + index.verify_files()
                # the model loads only if something has to be re-embedded
                done = index.repair(None if index.lexical_only else _Deferred(lambda: self.handle.embedder))
                return {"found": found, **done, "problems": index.problems()}
            finally:
                index.close()

    def holds_file(self, path: Path) -> bool:
        """The archive already holds this file (by its resolved path)."""
        return bool(self.index.source_by_path(str(Path(path).resolve())))

    def stored_copy(self, sha256: str):
        """The stored source with these very bytes (rag.models.Source), or None."""
        self.index.refresh()
        return self.index.source_by_sha(sha256)

    def migrate(self, to: str = "milvus", rebuild: bool = False, progress=None):
        """Copy the embedded index (``settings.index``) into Milvus (``milvus_uri``,
        ``milvus_prefix``) with its vectors, no re-embedding (``rag migrate``); resumable."""
        from dataclasses import replace

        from rag.store.factory import StoreLocation
        from rag.store.migrate import copy_index

        if to != "milvus":
            raise ValueError(f"rag migrate copies into milvus; unknown target store {to!r}")
        self.handle.close()
        source = StoreLocation.of(replace(self.settings, store="embedded"))
        target = StoreLocation.of(replace(self.settings, store="milvus"))
        with source.open(wait=self.settings.write_wait, on_wait=self.handle.on_wait) as index:
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

    def facets(self) -> dict[str, list[str]]:
        self.index.refresh()
        return self.index.facets()

    def stats(self, verify: bool = False) -> dict:
        """Counts, papers, dates and ``problems`` (damaged files with the fix; [] when healthy);
        ``verify`` also reads the search files whole against their checksums (``rag stats``)."""
        self.index.refresh()
        problems = self.index.problems() + (self.index.verify_files() if verify else [])
        return {**self.index.stats(), "problems": problems}

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
