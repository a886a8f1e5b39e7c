"""The reader: a pair model trained here (bench/fit_reader.py) that reads a candidate sentence
against the question — the extractive answer's choice and its refusal, the LLM generators'
gate, and a passage reranker (``--reranker reader``).  See rag.reader.runtime."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from .inputs import pair_text, question_text
from .runtime import MODEL_DIR, Reader, ReaderConfig, ReaderUnavailable

log = logging.getLogger(__name__)
_shared: dict[str, Reader | None] = {}
_lock = threading.Lock()


def shared_reader(model_dir: str | None = None) -> Reader | None:
    """One Reader per weights folder in a process (None, said once in the log, when its weights
    are missing or damaged: the answers then come from the feature models)."""
    key = str(model_dir or MODEL_DIR)
    with _lock:
        if key not in _shared:
            try:
                _shared[key] = Reader(Path(model_dir) if model_dir else MODEL_DIR)
            except ReaderUnavailable as e:
                log.warning("%s; answering with the feature models instead", e)
                _shared[key] = None
        return _shared[key]


__all__ = ["MODEL_DIR", "Reader", "ReaderConfig", "ReaderUnavailable", "pair_text", "question_text", "shared_reader"]
