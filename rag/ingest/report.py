"""What an ingest run tells its caller: progress after each committed batch, and the report at
the end (files in, unchanged and skipped, warnings; every reason also in Chinese)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rag.models import Said


@dataclass
class IngestProgress:
    """Where a run stands after a committed batch: bytes are of the input files as stored
    (compressed bytes for .xz/.gz), so ``fraction`` and an ETA exist while streaming."""

    name: str  # the file being read
    chunks: int  # chunks added this run
    articles: int
    done_bytes: int
    total_bytes: int
    seconds: float
    stage: str = "files"  # "files" while reading and embedding, "bm25" for the final index build
    pages: int = 0  # scan and PDF pages read this run (OCR or text layer)
    total_pages: int = 0  # of the scans and PDFs given (0: none)

    @property
    def fraction(self) -> float:
        if self.total_pages:
            return min(1.0, self.pages / self.total_pages)
        return min(1.0, self.done_bytes / self.total_bytes) if self.total_bytes else 1.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the rate so far (None before there is a rate): by pages when there
        are scans or PDFs (OCR is the slow part), else by bytes."""
        done, total = (self.pages, self.total_pages) if self.total_pages else (self.done_bytes, self.total_bytes)
        if done <= 0 or self.seconds <= 0:
            return None
        return max(0.0, self.seconds * (total - done) / done)


Progress = Callable[[IngestProgress], None]


@dataclass
class IngestReport:
    ingested: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kept_out: list[str] = field(default_factory=list)  # read, kept out of the articles: captions, labels, chart words
    articles: int = 0
    chunks: int = 0
    seconds: float = 0.0
    disk_full: bool = False  # the run stopped there: what was committed before is kept

    # (skip reasons and warnings are Said texts: their Chinese, for the chat's upload tab, in
    # ``zh``; a warning's Chinese leaves out the file it is about)
    def skip(self, path: str, why: str, why_zh: str) -> None:
        self.skipped.append((path, Said(why, why_zh)))

    def warn(self, text: str, text_zh: str) -> None:
        self.warnings.append(Said(text, text_zh))

    def to_dict(self) -> dict:
        return {
            "files_ingested": len(self.ingested),
            "files_unchanged": len(self.unchanged),
            "files_skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "warnings": self.warnings,
            "kept_out": self.kept_out,
            "articles": self.articles,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 2),
            "disk_full": self.disk_full,
        }
