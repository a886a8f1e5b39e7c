"""Questions through ONNX Runtime: the same fp32 weights, a third of torch's time for one short text.

A question is one short text: PyTorch's per-operator overhead dominates it (15.9 ms p50 for a
crud_dev question on 2 cores, against 5.8 ms through ONNX Runtime; vectors equal to cosine
0.99999).  Passages stay on torch, which is as fast for batches (bench/ingest_speed.py).
The model is exported once into the model cache (needs the optional ``onnx`` and
``onnxruntime`` packages: ``pip install -e '.[onnx]'``); without them questions stay on torch.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import logging
import os
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


class OnnxQueryEncoder:
    """Mean-pooled, L2-normalised vectors of one text at a time (e5's pooling)."""

    def __init__(self, model: Any, source: str, cache_dir: Path, threads: int = 0) -> None:
        import onnxruntime as ort

        key = hashlib.sha1(f"{EXPORT_VERSION}:{Path(source).resolve()}".encode()).hexdigest()[:12]
        path = Path(cache_dir) / "onnx" / key / "model.onnx"
        if not path.exists():
            log.info("exporting %s to %s for fast questions (once)", source, path)
            export_fp32(model[0].auto_model, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.max_tokens = int(getattr(model, "max_seq_length", 512) or 512)
        # the Rust tokenizer under the Hugging Face one: same ids, ~2 ms less per question
        rust = getattr(model.tokenizer, "backend_tokenizer", None)
        if rust is not None:
            rust = copy.deepcopy(rust)
            rust.no_padding()
            rust.enable_truncation(self.max_tokens)
        self.rust, self.tokenizer = rust, model.tokenizer

    def _ids(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        if self.rust is not None:
            enc = self.rust.encode(text)
            return (np.array([enc.ids], dtype=np.int64), np.array([enc.attention_mask], dtype=np.int64))
        enc = self.tokenizer([text], truncation=True, max_length=self.max_tokens, return_tensors="np")
        return enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)

    def encode(self, text: str) -> np.ndarray:
        ids, mask = self._ids(text)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        vec = (hidden * weights).sum(1)[0] / weights.sum()
        return (vec / np.linalg.norm(vec)).astype(np.float32)
