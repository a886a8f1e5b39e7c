"""The state the parts of an index share (rag.store.index.Index sets it; the search-file and
reading parts use it)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import numpy as np

from rag.store.vectors import VectorStore
from rag.text.tokenize import JiebaTokenizer


class IndexState:
    path: Path
    dim: int
    model_id: str
    manifest: dict[str, str]
    tokenizer: JiebaTokenizer
    vectors: VectorStore
    bm25_state: tuple[Any, np.ndarray]  # (bm25s index or None, chunk ids in its order)
    missing_vectors: np.ndarray
    stray_vectors: int
    vector_file_problem: str
    bm25_problem: str
    _conn: sqlite3.Connection
    _lock: threading.RLock
    _faiss_dirty: bool
    _bm25_dirty: bool
    _repairing: bool

    def _begin(self) -> None:
        raise NotImplementedError

    def commit_search_indexes(self, bm25: bool = True) -> None:
        raise NotImplementedError
