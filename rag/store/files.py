"""Atomic reads and writes of the BM25 files beside rag.sqlite (vectors: ``vectors.py``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import faiss
import numpy as np

IDS_FILE = "chunk_ids.npy"
# what bm25s.BM25.save writes (checked on load: a missing one would silently score nothing)
BM25_FILES = (
    "params.index.json",
    "vocab.index.json",
    "data.csc.index.npy",
    "indices.csc.index.npy",
    "indptr.csc.index.npy",
)


def fsync_path(path: Path) -> None:
    """Flush a file (or a directory entry) to disk."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def normalized(vectors: np.ndarray | None, n: int, dim: int) -> np.ndarray:
    """A C-contiguous float32 (n, dim) copy with L2-normalised rows; ValueError on a bad shape."""
    vectors = np.zeros((0, dim)) if vectors is None else np.asarray(vectors)
    if n == 0 and vectors.size == 0:
        vectors = vectors.reshape(0, dim)
    if vectors.shape != (n, dim):
        raise ValueError(f"expected vectors of shape ({n}, {dim}), got {vectors.shape}")
    vectors = np.array(vectors, dtype=np.float32, order="C", copy=True)
    faiss.normalize_L2(vectors)
    return vectors


def batch_vectors(articles: Sequence, chunks_per_article: Sequence[Sequence], vectors: np.ndarray | None, dim: int):
    """An ``add_articles`` batch checked (one chunk list an article) and its vectors, one row a
    chunk, L2-normalised; None for a lexical-only store (``dim`` 0)."""
    if len(articles) != len(chunks_per_article):
        raise ValueError(f"{len(articles)} articles but {len(chunks_per_article)} chunk lists")
    return None if dim == 0 else normalized(vectors, sum(len(cs) for cs in chunks_per_article), dim)


def build_bm25(token_lists: Iterable[Sequence[str]]):
    """A bm25s index over the token lists (streamed), or None when there is nothing to index.

    Tokens are turned into vocabulary ids on the fly and bm25s gets ``(ids, vocab)``: every
    occurrence of a token is then one shared int, not its own string - at 250,000 chunks this
    is the difference between ~0.4 GB and ~3 GB of peak memory (same scores: tests/test_store.py).
    """
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in tokens] for tokens in token_lists]
    if not vocab:
        return None
    import bm25s

    bm25 = bm25s.BM25()
    bm25.index((ids, vocab), show_progress=False)
    return bm25


def write_bm25(folder: Path, bm25, ids: np.ndarray) -> None:
    """Save the bm25s index and its chunk ids to ``folder.tmp``, then swap it into place."""
    tmp = folder.with_name(folder.name + ".tmp")
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if bm25 is not None:
        bm25.save(str(tmp), show_progress=False)
    np.save(tmp / IDS_FILE, np.asarray(ids, dtype=np.int64))
    for f in tmp.iterdir():
        fsync_path(f)
    fsync_path(tmp)
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    fsync_path(folder.parent)
    shutil.rmtree(old, ignore_errors=True)


def load_bm25(folder: Path):
    """Return ``(bm25 | None, chunk ids)``; recovers a swap interrupted between its renames.

    Raises ValueError naming the file when bm25/ is damaged (a file missing or unreadable):
    the caller rebuilds it from SQLite's stored tokens rather than search an empty index.
    """
    old = folder.with_name(folder.name + ".old")
    if not folder.exists() and old.exists():
        os.replace(old, folder)
    ids_path = folder / IDS_FILE
    if not ids_path.exists():
        if folder.exists() and any(folder.iterdir()):
            raise ValueError(f"{ids_path.name} is missing")
        return None, np.zeros(0, dtype=np.int64)
    try:
        ids = np.load(ids_path).astype(np.int64)
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{ids_path.name} is unreadable ({exc})") from None
    if len(ids) == 0:
        return None, ids
    missing = [n for n in BM25_FILES if not (folder / n).is_file()]
    if missing:
        raise ValueError(f"{', '.join(missing)} missing")
    import bm25s

    try:
        # memory-mapped: the score matrix stays in the page cache, shared by every process
        bm25 = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
    except Exception as exc:  # noqa: BLE001 - bm25s raises whatever numpy/json raise
        raise ValueError(f"unreadable ({type(exc).__name__}: {exc})") from None
    if int(bm25.scores.get("num_docs", len(ids))) != len(ids):
        raise ValueError(f"holds {bm25.scores.get('num_docs')} documents for {len(ids)} ids")
    return bm25, ids


def remove_all(folder: Path, names: list[str], dirs: list[str]) -> None:
    """Delete these files and folders (and their .tmp/.old leftovers); drop ``folder`` if empty."""
    for name in names:
        for suffix in ("", ".tmp"):
            (folder / (name + suffix)).unlink(missing_ok=True)
    for name in dirs:
        for suffix in ("", ".tmp", ".old"):
            shutil.rmtree(folder / (name + suffix), ignore_errors=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
