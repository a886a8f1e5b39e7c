"""The `Embedder` backed by a sentence-transformers model, loaded offline (never from a hub)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from rag import ensure_offline

# ONNX Runtime's arena grows with the batch: 4 passages a run is faster than 32 and peaks 0.9 GB lower
# (bench/ingest_speed.py and docs/scale.md#encoder-routes)
ONNX_PASSAGE_BATCH = 4
_QUIET_LOGGERS = ("sentence_transformers", "transformers", "huggingface_hub")


class EmbeddingModelError(ValueError):
    """The embedding model could not be found or loaded."""


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """Silence hub/transformers chatter and the weight-loading progress bar while loading."""
    levels = {name: logging.getLogger(name).level for name in _QUIET_LOGGERS}
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    restore = None
    try:
        from transformers.utils import logging as hf_logging

        if hf_logging.is_progress_bar_enabled():
            restore = hf_logging.enable_progress_bar
        hf_logging.disable_progress_bar()
    except (ImportError, AttributeError):  # pragma: no cover - older/newer transformers
        pass
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        if restore is not None:
            restore()


def _embedding_dimension(model: Any) -> int:
    """ST 6 renamed get_sentence_embedding_dimension to get_embedding_dimension: try both."""
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dim = getter()
    if not dim:
        raise EmbeddingModelError("the model does not report an embedding dimension")
    return int(dim)


def _prompts(configured: dict | None) -> tuple[str, str]:
    """(query prefix, document prefix) from a model's configured prompts; '' when absent."""
    prompts = {k: v for k, v in (configured or {}).items() if v}
    query = prompts.get("query", "")
    document = prompts.get("document") or prompts.get("passage") or prompts.get("doc", "")
    return query, document


def load_sentence_transformer(name_or_path: str | Path, device: str = "cpu") -> Any:
    """Load a local folder, or a model id already in the Hugging Face cache, without network."""
    name = str(name_or_path)
    local = Path(name).expanduser()
    looks_local = local.is_absolute() or name.startswith((".", "~")) or local.exists()
    if looks_local:
        if not local.is_dir():
            raise EmbeddingModelError(f"embedding model {name!r}: no such folder")
        if not ((local / "modules.json").is_file() or (local / "config.json").is_file()):
            raise EmbeddingModelError(f"embedding model {name!r}: folder has no modules.json or config.json")
        name = str(local)
    ensure_offline()
    with _quiet_loading():
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(name, device=device, local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - whatever fails, the user gets one line naming the model
            if looks_local:
                reason = f"cannot load folder {name!r}: {type(exc).__name__}: {exc}"
            else:
                reason = (
                    f"{name!r} is neither a local folder nor a sentence-transformers model in "
                    "the local Hugging Face cache (offline: nothing is downloaded)"
                )
            raise EmbeddingModelError(f"embedding model {name_or_path!s}: {reason}") from None


def _folder_description(folder: Path) -> tuple[int, tuple[str, str]] | None:
    """(dim, prompts) of a Transformer → mean Pooling → Normalize folder, read from its files so
    that torch need not load; None for any other model."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
        config = folder / "config_sentence_transformers.json"
        prompts = json.loads(config.read_text(encoding="utf-8")).get("prompts", {}) if config.exists() else {}
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None
    if kinds != ["Transformer", "Pooling", "Normalize"] or not pooling.get("pooling_mode_mean_tokens"):
        return None
    return int(pooling["word_embedding_dimension"]), _prompts(prompts)


class _LazyModel:
    """The torch model, loaded at first use; shared by the copies `load_embedder` hands out."""

    def __init__(self, source: str | Path, device: str) -> None:
        self.source, self.device = source, device
        self.model: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self.model is None:
            with self._lock:
                if self.model is None:
                    self.model = load_sentence_transformer(self.source, device=self.device)
        return self.model


class SentenceTransformerEmbedder:
    """`Embedder` over a sentence-transformers model; prefixes come from the model's prompts.

    With ONNX (`use_onnx`), questions go through one ONNX Runtime session and so do passages
    when ``passages_on_onnx``: a serving process then never loads torch (one copy of the
    weights).  Otherwise torch loads at the first passage batch."""

    def __init__(
        self,
        model_name_or_path: str | Path,
        batch_size: int = 32,
        device: str = "cpu",
        model_id: str | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.source = str(model_name_or_path)
        self._torch = _LazyModel(model_name_or_path, device)
        self.model_id = model_id or str(model_name_or_path)
        self.batch_size = batch_size
        local = Path(self.source).expanduser()
        described = _folder_description(local) if local.is_dir() else None
        if described is None:
            self.dim = _embedding_dimension(self.model)
            self.query_prefix, self.document_prefix = _prompts(getattr(self.model, "prompts", None))
        else:
            self.dim, (self.query_prefix, self.document_prefix) = described
        self.onnx: Any = None  # an OnnxEncoder once use_onnx() succeeded
        self.passages_on_onnx = False

    @property
    def model(self) -> Any:
        """The sentence-transformers model (loads torch on first access)."""
        return self._torch.get()

    @property
    def query_encoder(self) -> Any:
        return self.onnx

    def use_onnx(self, cache_dir: Path, passages: bool = False) -> bool:
        """Encode questions (and passages, with ``passages``) through ONNX Runtime when
        onnx/onnxruntime are installed and the model is a local Transformer → mean pooling →
        Normalize folder; False (torch answers) otherwise."""
        from rag.embeddings import onnx_query

        folder = Path(self.source).expanduser()
        if not folder.is_dir() or _folder_description(folder) is None or not onnx_query.available():
            return False
        try:
            self.onnx = onnx_query.OnnxEncoder(folder, cache_dir, lambda: self.model[0].auto_model)
        except Exception as exc:  # noqa: BLE001 - torch still answers
            logging.getLogger(__name__).warning("questions stay on torch: %s", exc)
            return False
        self.passages_on_onnx = passages
        return True

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self.passages_on_onnx and self.onnx is not None:
            return self.onnx.encode_batch(texts, ONNX_PASSAGE_BATCH)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised; batches are formed from texts of similar length."""
        docs = [self.document_prefix + t for t in texts]
        if not docs:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(docs)), key=lambda i: len(docs[i]), reverse=True)
        out = np.empty((len(docs), self.dim), dtype=np.float32)
        out[order] = self._encode([docs[i] for i in order])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """(dim,) float32, L2-normalised."""
        if self.onnx is not None:
            return self.onnx.encode(self.query_prefix + text)
        return self._encode([self.query_prefix + text])[0]

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.model_id!r}, dim={self.dim})"
