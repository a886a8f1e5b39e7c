"""The "fast route" tried for issue 7 and not kept: e5-small exported to ONNX, int8 dynamic
quantisation, run by ONNX Runtime.  An `Embedder` so that the same pipeline and evaluation run
on it.

sentence-transformers' own ``backend="onnx"`` needs optimum-onnx, which pins
transformers < 4.58 while sentence-transformers 6 needs transformers >= 5: the two cannot be
installed together, so the export and quantisation are done here with torch.onnx and
onnxruntime.quantization directly (same recipe: dynamic int8 weights, fp32 activations).
(The fp32 export is the one rag/embeddings/onnx_query.py uses for questions.)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def export_int8(model_dir: Path, out_dir: Path) -> Path:
    """model_dir (a BertModel folder) → out_dir/model_int8.onnx (cached)."""
    target = out_dir / "model_int8.onnx"
    if target.exists():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    from rag.embeddings.onnx_query import export_fp32

    fp32 = export_fp32(AutoModel.from_pretrained(model_dir).eval(), out_dir / "model.onnx")
    quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True)
    fp32.unlink()
    return target


class OnnxInt8Embedder:
    """Mean-pooled, L2-normalised e5 vectors from the int8 ONNX model (prefixes as the original)."""

    def __init__(
        self,
        model_dir: Path,
        cache_dir: Path,
        threads: int = 0,
        batch_size: int = 32,
        query_prefix: str = "query: ",
        document_prefix: str = "passage: ",
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            str(export_int8(model_dir, cache_dir)), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(512)
        self.tokenizer.enable_padding()
        self.model_id, self.dim, self.batch_size = "onnx-int8:multilingual-e5-small", 384, batch_size
        self.query_prefix, self.document_prefix = query_prefix, document_prefix

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            part = order[start : start + self.batch_size]
            enc = self.tokenizer.encode_batch([texts[i] for i in part])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            m = mask[..., None].astype(np.float32)
            vec = (hidden * m).sum(1) / m.sum(1)
            out[part] = vec / np.linalg.norm(vec, axis=1, keepdims=True)
        return out

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode([self.document_prefix + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self.encode([self.query_prefix + text])[0]
