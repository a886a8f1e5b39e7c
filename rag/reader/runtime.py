"""The reader: a pair model that reads a candidate sentence against the question and gives the
probability that the sentence answers it (issue 32).

What ships is small: ``reader.safetensors`` (the change to the trained layers of the first six
of multilingual-e5-small and a head, trained here by bench/fit_reader.py; rag.reader.network) and
``reader.json`` (its shape, the calibration of its logit fitted on a held-out fold of items, how
it was trained).  Its probability is a feature of the extractive answerer's choice and
answerability models (rag.generation), which decide.  The runnable model is built at first use
on top of the provisioned e5 folder — the trained change added to those layers, exported once
to ONNX with int8 weights into the model cache (torch is loaded for that export only) — and run
by ONNX Runtime.  The word-embedding table is read straight from the e5 folder's
``model.safetensors``, row by row: it is never copied.

Scores are cached per (question, passage text), so a sentence scored once for a question is not
scored again by the generator, the gate or the reranker.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .inputs import question_text

log = logging.getLogger(__name__)
MODEL_DIR = Path(__file__).with_name("weights")
WEIGHTS, CONFIG = "reader.safetensors", "reader.json"
BUILD_VERSION = "2"  # 2: weights int8 (ONNX Runtime's dynamic quantisation)
CACHE_SIZE = 4096


class ReaderUnavailable(RuntimeError):
    """The reader's weights are missing or damaged, or its model cannot be built."""


@dataclass(frozen=True)
class ReaderConfig:
    layers: int = 6
    rank: int = 0  # LoRA rank (0: the layers from train_from up were trained themselves)
    alpha: float = 32.0
    train_from: int = 2  # layers below this one were not trained (rank 0)
    max_tokens: int = 128
    calibration: tuple[float, float] = (1.0, 0.0)  # p = sigmoid(a · logit + b), fitted on the held-out fold
    trained: dict[str, Any] = field(default_factory=dict)  # how, on what, and the held-out figures


def encoder_tokenizer(e5_folder: Path) -> Any:
    """e5's tokenizer, the one instance the question encoder also uses (it is ~280 MB)."""
    from rag.embeddings.onnx_query import max_tokens_of, shared_tokenizer

    return shared_tokenizer(e5_folder, max_tokens_of(Path(e5_folder)))


def encode_pairs(tok: Any, pairs: Sequence[tuple[str, str]], max_tokens: int) -> list[list[int]]:
    """``<s> question </s></s> passage </s>``, cut longest first to ``max_tokens`` — what the
    tokenizer's own pair encoding gives, built from single encodings so that the shared
    tokenizer's settings are never changed."""
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    firsts = tok.encode_batch([q for q, _ in pairs], add_special_tokens=False)
    seconds = tok.encode_batch([p for _, p in pairs], add_special_tokens=False)
    out = []
    for a, b in zip(firsts, seconds, strict=True):
        q, p = list(a.ids), list(b.ids)
        while len(q) + len(p) + 4 > max_tokens:
            (q if len(q) > len(p) else p).pop()
        out.append([bos, *q, eos, eos, *p, eos])
    return out


class WordTable:
    """Rows of the word-embedding matrix in the e5 folder's ``model.safetensors``, read from the
    file as needed (``os.pread``): nothing mapped, so serving memory does not grow with the
    vocabulary seen (a memory map did, by ~100 MB per hundred questions)."""

    def __init__(self, path: Path, offset: int, rows: int, dim: int) -> None:
        self.path, self.offset, self.rows, self.dim = path, offset, rows, dim
        self._fd = os.open(path, os.O_RDONLY)
        self.row_bytes = dim * 4

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        flat = np.asarray(ids, dtype=np.int64).ravel()
        unique, inverse = np.unique(flat, return_inverse=True)
        rows = np.empty((len(unique), self.dim), dtype=np.float32)
        for i, row in enumerate(unique):
            raw = os.pread(self._fd, self.row_bytes, self.offset + int(row) * self.row_bytes)
            rows[i] = np.frombuffer(raw, dtype=np.float32)
        return rows[inverse].reshape(*np.shape(ids), self.dim)

    def __del__(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            os.close(self._fd)


def word_table(e5_folder: Path) -> WordTable:
    """The word-embedding matrix of the e5 folder's ``model.safetensors``, read row by row."""
    path = Path(e5_folder) / "model.safetensors"
    with path.open("rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
    name = next((k for k in header if k.endswith("word_embeddings.weight")), None)
    if name is None or header[name]["dtype"] != "F32":
        raise ReaderUnavailable(f"{path} has no float32 word-embedding table")
    start, _ = header[name]["data_offsets"]
    rows, dim = header[name]["shape"]
    return WordTable(path, 8 + size + start, rows, dim)


class Reader:
    """Scores (question, passage text) pairs; see the module docstring."""

    def __init__(self, model_dir: Path = MODEL_DIR, e5_folder: Path | None = None, cache_dir: Path | None = None):
        self.model_dir = Path(model_dir)
        self.config = self.read_config(self.model_dir)
        weights = self.model_dir / WEIGHTS
        try:
            self.digest = hashlib.sha1(weights.read_bytes()).hexdigest()[:16]
        except OSError as e:
            raise ReaderUnavailable(f"the reader's weights are missing: {weights} ({e.strerror})") from e
        self._e5 = Path(e5_folder) if e5_folder else None
        self._cache_dir = Path(cache_dir) if cache_dir else None
        self._session: Any = None
        self._tok: Any = None
        self._table: WordTable | None = None
        self._lock = threading.Lock()
        self._scores: OrderedDict[tuple[str, str], float] = OrderedDict()

    @staticmethod
    def read_config(model_dir: Path) -> ReaderConfig:
        path = Path(model_dir) / CONFIG
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            raw["calibration"] = tuple(raw.get("calibration", (1.0, 0.0)))
            return ReaderConfig(**raw)
        except OSError as e:
            raise ReaderUnavailable(f"the reader's settings are missing: {path} ({e.strerror})") from e
        except (ValueError, TypeError) as e:
            raise ReaderUnavailable(f"the reader's settings are damaged: {path} ({e})") from e

    @staticmethod
    def write(model_dir: Path, state: dict[str, Any], config: ReaderConfig, base: dict[str, Any]) -> None:
        """Save trained weights (safetensors, as ``network.pack`` ships them against the frozen
        e5 weights ``base``) and settings (JSON) into ``model_dir``."""
        from safetensors.torch import save_file

        from .network import pack

        model_dir.mkdir(parents=True, exist_ok=True)
        save_file(pack(state, base), str(model_dir / WEIGHTS))
        body = {**config.__dict__, "calibration": list(config.calibration)}
        (model_dir / CONFIG).write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    # -- the runnable model ---------------------------------------------------------------------------------------
    def _open(self) -> None:
        from rag.embeddings.model_cache import build_once
        from rag.embeddings.provision import ensure_e5_model
        from rag.settings import Settings

        cache = self._cache_dir or Settings().model_cache
        e5 = self._e5 or ensure_e5_model(Settings().model_cache)
        c = self.config
        marker: dict[str, Any] = {"version": BUILD_VERSION, "weights": self.digest, "e5": str(Path(e5).resolve())}
        marker |= {"layers": c.layers, "rank": c.rank, "alpha": c.alpha, "train_from": c.train_from}
        name = f"reader-{self.digest}"
        folder = build_once(Path(cache), name, marker, lambda tmp: self._export(Path(e5), tmp))
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 0
        opts.inter_op_num_threads = 1
        opts.enable_cpu_mem_arena = False  # an arena would keep the largest batch's buffers
        self._session = ort.InferenceSession(str(folder / "model.onnx"), opts, providers=["CPUExecutionProvider"])
        self._tok = encoder_tokenizer(Path(e5))
        self._table = word_table(Path(e5))

    def _export(self, e5: Path, target: Path) -> None:
        from safetensors.torch import load_file

        from .network import build, export_onnx, frozen_state, unpack

        c = self.config
        try:
            packed = load_file(str(self.model_dir / WEIGHTS))
        except Exception as e:  # safetensors raises its own error types for a damaged file
            raise ReaderUnavailable(f"the reader's weights are damaged: {self.model_dir / WEIGHTS} ({e})") from e
        model, _ = build(e5, c.layers, c.rank, c.alpha, c.train_from)
        try:
            model.load_trained(unpack(packed, frozen_state(model)))
        except (ValueError, KeyError) as e:
            raise ReaderUnavailable(f"the reader's weights do not fit its settings: {e}") from e
        export_onnx(model, target / "fp32.onnx")
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # int8 weights: ~1.5x faster on AVX2 and a quarter of the memory (logits within ~0.1)
        quantize_dynamic(str(target / "fp32.onnx"), str(target / "model.onnx"), weight_type=QuantType.QInt8)
        (target / "fp32.onnx").unlink()

    def warm(self) -> None:
        with self._lock:
            if self._session is None:
                self._open()

    # -- scoring --------------------------------------------------------------------------------------------------
    def logits(self, questions: Sequence[str], passages: Sequence[str]) -> np.ndarray:
        """Raw logits of pairs (uncached; questions as asked, passages as rag.reader.inputs.pair_text).
        Each pair runs alone: the int8 model quantises its activations with one scale per run, so
        a pair batched with others would score differently by what it was batched with (by 0.3 of
        a logit on average, measured); alone it is as fast here, and nothing is padded."""
        self.warm()
        assert self._table is not None
        pairs = [(question_text(q), p) for q, p in zip(questions, passages, strict=True)]
        out = np.zeros(len(pairs))
        for i, ids in enumerate(encode_pairs(self._tok, pairs, self.config.max_tokens)):
            row = np.asarray([ids], dtype=np.int64)
            feed = {"inputs_embeds": self._table[row], "attention_mask": np.ones_like(row)}
            (scores,) = self._session.run(None, feed)
            out[i] = float(np.asarray(scores).reshape(-1)[0])
        return out

    def calibrated(self, logits: np.ndarray) -> np.ndarray:
        a, b = self.config.calibration
        return 1.0 / (1.0 + np.exp(-(a * logits + b)))

    def probabilities(self, question: str, passages: Sequence[str]) -> list[float]:
        """Calibrated probability that each passage text answers ``question`` (cached)."""
        keys = [(question, p) for p in passages]
        with self._lock:
            todo = sorted({k for k in keys if k not in self._scores})
        if todo:
            fresh = self.calibrated(self.logits([q for q, _ in todo], [p for _, p in todo]))
            with self._lock:
                for k, v in zip(todo, fresh, strict=True):
                    self._scores[k] = float(v)
                while len(self._scores) > CACHE_SIZE:
                    self._scores.popitem(last=False)
        with self._lock:
            return [self._scores.get(k, 0.0) for k in keys]
