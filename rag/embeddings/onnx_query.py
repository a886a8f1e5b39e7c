"""Questions, and passages in a serving process, through ONNX Runtime: the same fp32 weights.

A question is one short text: PyTorch's per-operator overhead dominates it (15.9 ms p50 for a
crud_dev question on 2 cores, against 5.8 ms through ONNX Runtime; vectors equal to cosine
0.99999).  For big batches torch is faster (bench/ingest_speed.py), so ``rag ingest`` embeds
passages with torch; a serving process sends its uploads through this same session, so it holds
one copy of the weights and never imports torch.  The model is exported once into the model
cache (torch is loaded for that export only); the tokenizer is the folder's ``tokenizer.json``
through the Rust ``tokenizers`` library.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
EXPORT_VERSION = "1"


def available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


def export_fp32(transformer: Any, target: Path) -> Path:
    """Export a Hugging Face encoder (``last_hidden_state``) to ``target``, atomically."""
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    dummy = torch.ones(1, 8, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(
            Hidden(transformer).eval(),
            (dummy, dummy),
            str(tmp),
            dynamo=False,
            opset_version=17,
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
        )
    os.replace(tmp, target)
    return target


def export_path(source: str | Path, cache_dir: Path) -> Path:
    key = hashlib.sha1(f"{EXPORT_VERSION}:{Path(source).resolve()}".encode()).hexdigest()[:12]
    return Path(cache_dir) / "onnx" / key / "model.onnx"


def max_tokens_of(folder: Path) -> int:
    try:
        config = json.loads((Path(folder) / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config.get("max_seq_length") or 512)
    except (OSError, ValueError):
        return 512


_tokenizers: dict[tuple[str, int], Any] = {}
_tokenizers_lock = threading.Lock()


def shared_tokenizer(folder: str | Path, max_tokens: int) -> Any:
    """The folder's ``tokenizer.json`` (Rust ``tokenizers``, no padding, cut at ``max_tokens``),
    loaded once per process: e5's takes ~280 MB, so the reader (rag.reader) uses this one too."""
    from tokenizers import Tokenizer

    key = (str(Path(folder).resolve()), max_tokens)
    with _tokenizers_lock:
        if key not in _tokenizers:
            tok = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
            tok.no_padding()
            tok.enable_truncation(max_tokens)
            _tokenizers[key] = tok
        return _tokenizers[key]


class OnnxEncoder:
    """Mean-pooled, L2-normalised vectors (e5's pooling); the session is opened, and exported
    through ``transformer()`` when missing, at the first text."""

    def __init__(self, folder: str | Path, cache_dir: Path, transformer: Callable[[], Any], threads: int = 0) -> None:
        self.path = export_path(folder, cache_dir)
        self._transformer, self._threads = transformer, threads
        self._session: Any = None
        self._lock = threading.Lock()
        self.max_tokens = max_tokens_of(Path(folder))
        self.tokenizer = shared_tokenizer(folder, self.max_tokens)

    @property
    def session(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._open()
        return self._session

    def _open(self) -> Any:
        import onnxruntime as ort

        if not self.path.exists():
            log.info("exporting the model to %s for fast questions (once)", self.path)
            export_fp32(self._transformer(), self.path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self._threads or min(2, os.cpu_count() or 1)
        options.log_severity_level = 3
        return ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        vectors = (hidden * weights).sum(1) / weights.sum(1)
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    def encode(self, text: str) -> np.ndarray:
        enc = self.tokenizer.encode(text)
        return self._run(np.array([enc.ids], dtype=np.int64), np.array([enc.attention_mask], dtype=np.int64))[0]

    def encode_batch(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """(n, dim): texts of similar length batched together, padded with masked zeros."""
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids), reverse=True)
        parts = []
        for start in range(0, len(order), batch_size):
            batch = [encodings[i] for i in order[start : start + batch_size]]
            width = max(len(e.ids) for e in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, enc in enumerate(batch):
                ids[row, : len(enc.ids)], mask[row, : len(enc.ids)] = enc.ids, 1
            parts.append(self._run(ids, mask))
        out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        out[order] = np.concatenate(parts)
        return out
