"""Atomic reads and writes of the BM25 files beside rag.sqlite (vectors: ``vectors.py``), and
the staged search files of a commit (``staged``, ``promote``, ``settle_staged``)."""

from __future__ import annotations

import os
import re
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

    The same index bm25s builds from ``(ids, vocab)`` (lucene BM25, k1 1.5, b 0.75; scores
    compared in tests/test_store.py), in a fraction of its memory: the corpus is held as one
    int32 array (4 bytes an occurrence, not a Python list entry), and the score matrix is
    written straight into its compressed-column arrays, a block of documents at a time, instead
    of through a (doc, token, score) triple list and a scipy conversion.  At 249,075 chunks the
    build's peak over the open index fell from +1.16 GB to the figure in docs/scale.md.
    """
    from array import array

    vocab: dict[str, int] = {}
    flat, lengths = array("i"), array("i")
    for tokens in token_lists:
        flat.extend(vocab.setdefault(t, len(vocab)) for t in tokens)
        lengths.append(len(tokens))
    if not vocab:
        return None
    import bm25s

    bm25 = bm25s.BM25()
    corpus = np.frombuffer(flat, dtype=np.int32)
    del flat
    bm25.scores = _score_columns(corpus, np.frombuffer(lengths, dtype=np.int32), len(vocab), bm25.k1, bm25.b)
    bm25.vocab_dict = {**vocab, "": len(vocab)}  # bm25s's empty token, after the scored ones
    bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
    bm25.nonoccurrence_array = None  # lucene BM25 has none
    release_memory()
    return bm25


_BLOCK = 20_000  # documents a step: bounds the temporary arrays


def release_memory() -> None:
    """Give freed heap back to the system (glibc keeps it otherwise, and the next big build
    would stack on top of the last one's high-water mark)."""
    import contextlib
    import ctypes
    import ctypes.util

    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


def _doc_terms(corpus: np.ndarray, offsets: np.ndarray, start: int, stop: int, n_vocab: int):
    """(doc, token, term frequency) of documents ``start:stop``, sorted by doc then token."""
    tokens = corpus[offsets[start] : offsets[stop]].astype(np.int64)
    docs = np.repeat(np.arange(start, stop, dtype=np.int64), np.diff(offsets[start : stop + 1]))
    keys, tf = np.unique(docs * n_vocab + tokens, return_counts=True)
    return keys // n_vocab, keys % n_vocab, tf


def _score_columns(corpus: np.ndarray, lengths: np.ndarray, n_vocab: int, k1: float, b: float) -> dict:
    n_docs = len(lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    avg_len = lengths.astype(np.float64).mean()
    df = np.zeros(n_vocab, dtype=np.int64)
    for start in range(0, n_docs, _BLOCK):  # pass 1: document frequencies
        _, tokens, _ = _doc_terms(corpus, offsets, start, min(start + _BLOCK, n_docs), n_vocab)
        df += np.bincount(tokens, minlength=n_vocab)
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    data = np.empty(indptr[-1], dtype=np.float32)
    indices = np.empty(indptr[-1], dtype=np.int32)
    cursor = indptr[:-1].copy()
    for start in range(0, n_docs, _BLOCK):  # pass 2: scores, written column by column in doc order
        docs, tokens, tf = _doc_terms(corpus, offsets, start, min(start + _BLOCK, n_docs), n_vocab)
        norm = k1 * ((1 - b) + b * lengths[docs] / avg_len)
        scores = idf[tokens] * (tf / (norm + tf))
        order = np.argsort(tokens, kind="stable")
        column, first, count = np.unique(tokens[order], return_index=True, return_counts=True)
        position = cursor[tokens[order]] + (np.arange(len(order)) - np.repeat(first, count))
        data[position], indices[position] = scores[order], docs[order]
        cursor[column] += count
    if indptr[-1] < np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    return {"data": data, "indices": indices, "indptr": indptr, "num_docs": n_docs}


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


# A commit writes its search files under staged names (``vectors.faiss.next-7``, ``bm25.next-7/``),
# commits SQLite with generation 7, and only then moves them into place; readers of generation 7
# read the staged files while they are there.  A crash before the commit leaves staged files of a
# generation that never came (removed by the next writer); one after it, files the next writer
# moves into place.  So a kill at any point leaves the old state or the new one.
STAGED = re.compile(r"^(?P<name>.+)\.next-(?P<generation>\d+)(?P<leftover>\.tmp|\.old)?$")


def staged(folder: Path, name: str, generation: int | str) -> Path:
    """Where a commit of ``generation`` writes ``name`` before it is moved into place."""
    return folder / f"{name}.next-{generation}"


def current(folder: Path, name: str, generation: int | str) -> Path:
    """The file readers of committed ``generation`` read: its staged copy while there."""
    path = staged(folder, name, generation)
    return path if path.exists() else folder / name


def promote(folder: Path, name: str, generation: int | str) -> bool:
    """Move the staged ``name`` of ``generation`` into place (a folder through ``name.old``, a
    crash half way is finished by the next call); False when there is nothing staged."""
    source, final = staged(folder, name, generation), folder / name
    if not source.exists():
        return False
    if source.is_dir():
        old = folder / f"{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            os.replace(final, old)
        os.replace(source, final)
        fsync_path(folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, final)
        fsync_path(folder)
    return True


def settle_staged(folder: Path, names: Sequence[str], generation: int | str) -> list[str]:
    """A writer's first step: the staged files of the committed ``generation`` moved into place,
    those of any other (a commit that never came) and half-written ones removed.  Returns what
    it did, one line each."""
    done = []
    for name in names:
        if promote(folder, name, generation):
            done.append(f"{name}: generation {generation} moved into place")
    for entry in folder.iterdir() if folder.is_dir() else ():
        match = STAGED.match(entry.name)
        if match and match["name"] in names:
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
            done.append(f"{entry.name}: removed (its commit never came)")
    return done


LEFTOVER = re.compile(r"^(?:bm25\.tmp|vectors\.faiss\.tmp|lexicon\.marshal\.(?P<pid>\d+)\.tmp)$")


def remove_leftovers(folder: Path) -> list[str]:
    """Temporary files a killed or failed write left (``bm25.tmp``, a dead process's
    ``lexicon.marshal.<pid>.tmp``), removed by the next writer; one line each."""
    done = []
    for entry in folder.iterdir() if folder.is_dir() else ():
        match = LEFTOVER.match(entry.name)
        if not match or (match["pid"] and _alive(int(match["pid"]))):
            continue
        shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
        done.append(f"{entry.name}: removed (left by a write that did not finish)")
    return done


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_all(folder: Path, names: list[str], dirs: list[str]) -> None:
    """Delete these files and folders (and their .tmp/.old leftovers); drop ``folder`` if empty."""
    for name in names:
        for suffix in ("", ".tmp"):
            (folder / (name + suffix)).unlink(missing_ok=True)
    for name in dirs:
        for suffix in ("", ".tmp", ".old"):
            shutil.rmtree(folder / (name + suffix), ignore_errors=True)
    for entry in folder.iterdir() if folder.is_dir() else ():
        if STAGED.match(entry.name):
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def file_identity(path: Path) -> tuple[int, int] | None:
    """Which file ``path`` is (device, inode); None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def digest_of(path: Path) -> str:
    """sha256 of a file's contents, or of a folder's files (names and contents, in name order);
    the same under a staged name as in place."""
    import hashlib

    h = hashlib.sha256()
    folder = path.is_dir()
    for part in sorted(path.iterdir()) if folder else [path]:
        if folder:
            h.update(part.name.encode() + b"\0")
        with part.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()
