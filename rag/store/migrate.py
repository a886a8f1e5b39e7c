"""Copy an embedded index into another store (``rag migrate --to milvus``): every source,
article, chunk and stored vector, without re-embedding.

The copy goes through the target's ordinary write contract (add_source, add_articles,
commit), one committed batch at a time, so it resumes like an ingest: a file already copied
whole is skipped, a file copied in part continues after its last stored article.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rag.models import Source


@dataclass
class MigrateReport:
    sources: int = 0
    unchanged: int = 0
    articles: int = 0
    chunks: int = 0
    seconds: float = 0.0
    target: str = ""
    skipped_articles: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "sources_copied": self.sources,
            "sources_unchanged": self.unchanged,
            "articles": self.articles,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 2),
            "to": self.target,
        }


def copy_index(index, target, progress: Callable[[MigrateReport], None] | None = None) -> MigrateReport:
    """Copy ``index`` (rag.store.Index) into ``target`` (any store with the write contract)."""
    report, started = MigrateReport(), time.perf_counter()
    for source, batches in index.export():
        have = target.source_by_path(source.path)
        if have is not None and have.sha256 == source.sha256 and have.status == source.status == "ok":
            report.unchanged += 1
            continue
        resume = have is not None and have.sha256 == source.sha256
        done = target.doc_ids_of_source(have.id) if resume else set()
        source_id = have.id if resume else None
        for articles, chunk_lists, vectors in batches:
            keep = [i for i, a in enumerate(articles) if a.doc_id not in done]
            if not keep:
                continue
            with target.batch(bm25=False):
                target.begin()
                if source_id is None:
                    if have is not None:
                        target.delete_source(source.path)  # another version of the file
                    source_id = target.add_source(
                        Source(source.path, source.sha256, source.size, source.encoding, status="partial")
                    )
                target.add_articles(
                    source_id,
                    [articles[i] for i in keep],
                    [chunk_lists[i] for i in keep],
                    _rows_of(vectors, chunk_lists, keep),
                )
            report.articles += len(keep)
            report.chunks += sum(len(chunk_lists[i]) for i in keep)
            if progress:
                report.seconds = time.perf_counter() - started
                progress(report)
        if source_id is not None:
            with target.batch(bm25=False):
                target.set_source_status(source_id, source.status)
        report.sources += 1
    if target.bm25_behind:
        target.commit_search_indexes()
    report.seconds = time.perf_counter() - started
    return report


def _rows_of(vectors: np.ndarray | None, chunk_lists: list, keep: list[int]) -> np.ndarray | None:
    """The vector rows of the kept articles' chunks."""
    if vectors is None:
        return None
    starts = np.cumsum([0] + [len(cs) for cs in chunk_lists])
    rows = [np.arange(starts[i], starts[i + 1]) for i in keep]
    return vectors[np.concatenate(rows)] if rows else vectors[:0]
