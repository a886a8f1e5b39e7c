"""Files → articles → chunks → vectors → index, one committed batch per file (or record batch)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.chunking import chunk_spans, embedding_text
from rag.embeddings.base import Embedder
from rag.ingest.errors import DISK_FULL, DISK_FULL_ZH, disk_full
from rag.ingest.loaders import (
    InputFile,
    LoadError,
    discover,
    file_digest,
    printable_path,
    read_page,
    remove_nul,
    zh_reason,
)
from rag.ingest.page_files import PagesAhead, html_article
from rag.ingest.placing import article_regions
from rag.ingest.records import MAX_EXPANDED, Record, read_records
from rag.ingest.report import IngestProgress, IngestReport, Progress
from rag.ingest.segment import segment_page
from rag.models import Article, Chunk, Said, Source, user_message

# what a scan's reader kept out of the text
KEPT_OUT_ZH = {"photo caption": "图片说明", "QR code label": "二维码说明", "diagram label": "图表文字"}

RECORD_BATCH = 256
Batch = tuple[str, list[Article], int]  # (encoding, articles, bytes of the file read so far)


def chunk_article(article: Article, min_chars: int, max_chars: int) -> list[Chunk]:
    spans = chunk_spans(article.text, min_chars, max_chars)
    return [Chunk(0, article.text[s.start : s.end], s.start, s.end, i) for i, s in enumerate(spans)]


def record_article(rec: Record, source_name: str) -> Article:
    text = rec.text.strip()
    return Article(
        doc_id=rec.id,
        source=source_name,
        text=text,
        headline=rec.title.strip(),
        paper=rec.source,
        date=rec.date,
        start=0,
        end=len(rec.text),
    )


class Ingestor:
    """Adds files to an index; unchanged files are no-ops, changed files replace their articles."""

    def __init__(
        self,
        index,
        embedder: Embedder,
        chunk_min: int = 200,
        chunk_max: int = 400,
        progress: Progress | None = None,
        ocr_cache: Path | None = None,
        ocr_workers: int = 0,
        max_expanded: int = MAX_EXPANDED,
    ) -> None:
        self.index, self.embedder = index, embedder
        self.chunk_min, self.chunk_max = chunk_min, chunk_max
        self.progress = progress or (lambda event: None)
        self.ocr_cache, self.ocr_workers = ocr_cache, ocr_workers
        self.max_expanded = max_expanded  # bytes a compressed JSONL file may unpack to
        self._pages = self._total_pages = 0

    def run(self, paths: Iterable[Path]) -> IngestReport:
        self._started = started = time.perf_counter()
        report = self._run_report = IngestReport()
        inputs, skipped = discover(list(paths))
        report.skipped += [(printable_path(p), why) for p, why in skipped]
        self._total_bytes = sum(_size(item.path) for item in inputs)
        self._done_bytes = 0  # of the files finished
        self._mend_vectors(report)
        self._reader = None
        if any(i.kind in ("scan", "pdf") for i in inputs):
            self._reader = PagesAhead(inputs, self.ocr_cache, self.ocr_workers, self.needs_reading, self.page_read)
            self._total_pages = self._reader.total_pages
        try:
            for at, item in enumerate(inputs):
                try:
                    self._ingest_file(item, report, inputs[at + 1 :])
                except LoadError as exc:
                    self.index.rollback()
                    report.skip(item.shown, str(exc), zh_reason(exc))
                except Exception as exc:
                    if not self._stopped_by_full_disk(exc, report):
                        raise
                    report.skip(item.shown, DISK_FULL, DISK_FULL_ZH)
                    break
                self._done_bytes += _size(item.path)
                self._report(item.name, report, 0)
        finally:
            if self._reader is not None:
                self._reader.close()
            if self.index.bm25_behind:
                self._report("", report, 0, stage="bm25")
                try:
                    self.index.commit_search_indexes()  # one BM25 build for the whole run
                except Exception as exc:
                    if not self._stopped_by_full_disk(exc, report):
                        raise
                    report.warn(f"BM25 index not written ({DISK_FULL})", DISK_FULL_ZH)
        report.seconds = time.perf_counter() - started
        return report

    def _stopped_by_full_disk(self, exc: Exception, report: IngestReport) -> bool:
        """True (the write undone, the report marked) when ``exc`` is a full disk."""
        if not disk_full(exc):
            return False
        self.index.rollback()
        report.disk_full = True
        return True

    def _mend_vectors(self, report: IngestReport) -> None:
        """Chunks left without vectors by an interrupted write are re-embedded before adding
        more (a lost or unreadable vectors.faiss stops the run instead: ``rag repair``)."""
        self.index.begin()  # the writer lock: what other writers committed is loaded now
        missing = len(self.index.missing_vectors)
        self.index.release()
        if missing and not self.index.lexical_only:
            self.index.repair(self.embedder)
            report.warn(
                f"re-embedded {missing} chunks that had no vectors (left by an interrupted write)",
                f"重新计算了 {missing} 个段落的向量（上次写入中断时留下的）",
            )

    def _ingest_file(self, item: InputFile, report: IngestReport, upcoming: Sequence[InputFile] = ()) -> None:
        """One file, in committed batches.  Its source row says ``partial`` until the last batch
        is in: a run killed half way resumes there (records already stored are skipped), and an
        unchanged file is a no-op only once it was complete.  Chunks are embedded before the
        writer lock is taken; ids are checked again under it."""
        key = item.key
        old = self.index.source_by_path(key)
        if not self.needs_reading(item, old):
            report.unchanged.append(item.shown)
            return
        resume = old if old is not None and old.sha256 == item.sha256 else None
        done = self.index.doc_ids_of_source(resume.id) if resume else set()
        replaced = self.index.doc_ids_of_source(old.id) if old and not resume else set()
        batches = (
            self._record_batches(item, report) if item.kind == "records" else self._page_batches(item, report, upcoming)
        )
        source_id = resume.id if resume else None
        stopped: LoadError | None = None
        read = nuls = 0
        try:
            for encoding, articles, offset in batches:
                read += len(articles)
                nuls += remove_nul(articles)
                prepared = self._prepare([a for a in articles if a.doc_id not in done])
                if prepared:
                    added: tuple[int, int] = (0, 0)  # counted once committed (a full disk undoes the batch)
                    with self.index.batch(bm25=False):
                        self.index.begin()
                        prepared = self._new_articles(prepared, replaced, report, item.name)
                        if prepared and source_id is None:
                            if old is not None:
                                self.index.delete_source(key)
                            source_id = self.index.add_source(
                                Source(key, item.sha256, item.size, encoding=encoding, status="partial")
                            )
                        if prepared and source_id is not None:
                            added = self._add(source_id, prepared)
                    report.articles, report.chunks = report.articles + added[0], report.chunks + added[1]
                self._report(item.name, report, offset)
        except LoadError as exc:
            if source_id is None:
                self._drop_old_version(old, resume, key, exc)
            stopped = exc  # records read before the damage are kept
        if source_id is None:
            self._drop_old_version(
                old,
                resume,
                key,
                LoadError(f"all {read} records were skipped (see the warnings)", zh=f"全部 {read} 条记录都被跳过了")
                if read
                else LoadError("no text found", zh="没有找到文字"),
            )
        with self.index.batch(bm25=False):
            status = "ok" if stopped is None else "partial"
            self.index.set_source_status(source_id, status)
        report.ingested.append(item.shown)
        if nuls:
            report.warn(
                f"{item.shown}: {nuls} NUL characters removed from the text", f"文字中的 {nuls} 个空字符（NUL）已删除"
            )
        if stopped is not None:
            report.warn(
                f"{item.shown}: reading stopped ({stopped}); the records before that point were added",
                f"读到中途停止了（{zh_reason(stopped)}）；停止之前的记录已添加",
            )

    def needs_reading(self, item: InputFile, old: Source | None = None) -> bool:
        """False for a file the index holds complete and unchanged (its digest is taken here)."""
        if not item.sha256:
            try:
                item.sha256, item.size = file_digest(item.path)
            except OSError as exc:
                raise LoadError(f"cannot read: {exc.strerror or exc}", zh=zh_reason(exc)) from None
        old = old or self.index.source_by_path(item.key)
        return not (old is not None and old.sha256 == item.sha256 and old.status == "ok")

    def _drop_old_version(self, old: Source | None, resume: Source | None, key: str, why: LoadError) -> None:
        """The file changed into something with no readable text: its earlier articles no
        longer stand for it, so they go; raises ``why`` (with that said) either way."""
        if old is None or resume is not None:
            raise why
        with self.index.batch(bm25=False):
            self.index.begin()
            removed = self.index.delete_source(key)
        raise LoadError(
            f"{why}; the file changed, so its earlier version's articles "
            f"({removed} passages) were removed from the index",
            zh=f"{zh_reason(why)}；文件已经改变，所以它旧版本的文章（{removed} 个段落）已从资料库中删除",
        )

    def _new_articles(
        self, prepared: list[Prepared], replaced: set[str], report: IngestReport, name: str
    ) -> list[Prepared]:
        """Drop records whose id another file holds or this file repeats (with a warning); ids
        of the old version of a changed file (``replaced``) are free again.  Call it holding
        the writer lock: another writer may have stored the same ids meanwhile."""
        taken = self.index.existing_doc_ids([p.article.doc_id for p in prepared]) - replaced
        fresh: list[Prepared] = []
        clash: list[Prepared] = []
        for p in prepared:
            (clash if p.article.doc_id in taken else fresh).append(p)
            taken.add(p.article.doc_id)
        if clash:
            shown = ", ".join(p.article.doc_id for p in clash[:5]) + ("…" if len(clash) > 5 else "")
            report.warn(
                f"{name}: {len(clash)} records skipped, their id is already in the index or repeated: {shown}",
                f"跳过了 {len(clash)} 条记录，它们的 id 已在资料库中或在文件里重复：{shown}",
            )
        return fresh

    def _report(self, name: str, report: IngestReport, offset: int, stage: str = "files") -> None:
        self.progress(
            IngestProgress(
                name,
                report.chunks,
                report.articles,
                self._done_bytes + offset,
                self._total_bytes,
                time.perf_counter() - self._started,
                stage,
                self._pages,
                self._total_pages,
            )
        )

    def page_read(self, name: str) -> None:
        """A scan or PDF page was read (OCR, text layer or the OCR cache)."""
        self._pages += 1
        self._report(name, self._run_report, 0, stage="ocr")

    def _page_batches(
        self, item: InputFile, report: IngestReport, upcoming: Sequence[InputFile] = ()
    ) -> Iterator[Batch]:
        """A text page, a scan, a PDF or an HTML article page: one batch of articles."""
        if item.kind == "html":
            articles, encoding = [html_article(item)], "html"
        elif item.kind in ("scan", "pdf"):
            assert self._reader is not None
            layout = self._reader.layout(item, upcoming)
            for note in layout.notes:
                report.warn(f"{item.shown}: {note}", f"{item.shown}：{getattr(note, 'zh', note)}")
            for page, what, line in layout.kept_out:
                en, zh = f"{item.shown} page {page}: {what}", f"{item.shown} 第 {page} 页{KEPT_OUT_ZH.get(what, what)}"
                report.kept_out.append(Said(f"{en} 「{line}」", f"{zh}：「{line}」"))
            articles, encoding = segment_page(layout.text, item.name, item.meta), item.kind
            for a in articles:
                a.regions = article_regions(a, layout, item.key, "pdf" if item.kind == "pdf" else "image")
        else:
            text, encoding = read_page(item.path)
            articles = segment_page(text, item.name, item.meta)
        for a in articles:  # A08.txt of two different days must not share ids
            a.doc_id = f"{a.doc_id}@{item.tag}"
        if not articles:
            raise LoadError("no article text found", zh="没有找到正文")
        yield encoding, articles, 0

    def _record_batches(self, item: InputFile, report: IngestReport) -> Iterator[Batch]:
        """Batches of ``RECORD_BATCH`` records, streamed (the file is never read whole)."""
        errors: list[str] = []
        batch: list[Article] = []
        offset = 0
        try:
            for rec in read_records(item.path, errors, item.tag, self.max_expanded):
                batch.append(record_article(rec, item.name))
                offset = rec.offset
                if len(batch) >= RECORD_BATCH:
                    yield "utf-8", batch, offset
                    batch = []
        except LoadError:
            if batch:  # a damaged tail: keep what was read before it
                yield "utf-8", batch, offset
            raise
        finally:
            self._line_warnings(item, errors, report)
        if batch:
            yield "utf-8", batch, offset

    @staticmethod
    def _line_warnings(item: InputFile, errors: list[str], report: IngestReport) -> None:
        for e in errors[:20]:
            report.warn(f"{item.shown} {e}", user_message(e))
        if len(errors) > 20:
            report.warn(f"{item.shown}: {len(errors) - 20} more bad lines", f"另有 {len(errors) - 20} 行有问题")
        errors.clear()

    def _prepare(self, articles: list[Article]) -> list[Prepared]:
        """Chunk and embed (slow: done before the writer lock is taken)."""
        chunks = [chunk_article(a, self.chunk_min, self.chunk_max) for a in articles]
        texts = [embedding_text(a.headline, c.text) for a, cs in zip(articles, chunks) for c in cs]
        vectors = self.embedder.embed_documents(texts) if texts else None
        out, at = [], 0
        for a, cs in zip(articles, chunks):
            out.append(Prepared(a, cs, None if vectors is None else vectors[at : at + len(cs)]))
            at += len(cs)
        return out

    def _add(self, source_id: int, prepared: list[Prepared]) -> tuple[int, int]:
        """Store the articles (uncommitted); returns (articles, chunks) added."""
        parts = [p.vectors for p in prepared if p.vectors is not None and len(p.vectors)]
        vectors = np.concatenate(parts) if parts else None
        self.index.add_articles(source_id, [p.article for p in prepared], [p.chunks for p in prepared], vectors)
        return len(prepared), sum(len(p.chunks) for p in prepared)


@dataclass
class Prepared:
    """An article with its chunks and their vectors, ready to store."""

    article: Article
    chunks: list[Chunk]
    vectors: np.ndarray | None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
