"""A deterministic stand-in for an embedding model: character bigrams (and single characters)
hashed into 64 dimensions, L2-normalised.  No weights, no torch, microseconds per text.

Selected with ``embedding_model = "fake:hash"`` (rag.toml, ``RAG_EMBEDDING_MODEL`` or
Settings).  It is what the fast test suite builds its indexes with, so the whole pipeline —
ingest, store, retrieval, answers, CLI, UI — runs without loading a model.  Its vectors carry
surface overlap only (texts sharing characters are near), never meaning: not for real archives.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

FAKE_HASH = "fake:hash"


class HashEmbedder:
    model_id = FAKE_HASH
    dim = 64
    query_prefix = ""
    document_prefix = ""

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        grams = [text[i : i + 2] for i in range(len(text) - 1)] + list(text)
        for g in grams:
            if g.strip():
                v[zlib.crc32(g.encode("utf-8")) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts]) if len(texts) else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec(text)
