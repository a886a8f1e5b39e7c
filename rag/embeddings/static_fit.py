"""Fit a static table to the e5 passage vectors an index already holds (the tokenlearn idea).

The distilled table (static_distill.py) only knows each piece alone.  Here the rows - every
piece plus ``buckets`` hashed pairs of neighbouring pieces - are trained so that the mean of a
passage's rows points where e5 put that passage (cosine loss, sparse Adam, torch's
``EmbeddingBag``), starting from the distilled rows.  The training pairs are the chunk texts and
vectors of an embedded e5 index (a sample of the archive embedded once with e5); 2,000 of them
(a fifth of a small index) are held out to report the cosine reached.  ``rag fit-static --from INDEX --out FOLDER``.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np

from rag.chunking import embedding_text
from rag.embeddings.static import META, features
from rag.store import Index
from rag.store.vectors import VectorStore

HELD_OUT = 2_000
MIN_PAIRS = 50
_CHUNKS = "SELECT c.id, a.doc_id, a.headline, c.text FROM chunks c JOIN articles a ON a.id = c.article_id ORDER BY c.id"


def training_pairs(index: Path, exclude: frozenset[str] | set[str] = frozenset()) -> tuple[list[str], np.ndarray]:
    """(embedding texts with the passage prefix, their vectors) of an embedded e5 index,
    leaving out the articles whose doc_id is in ``exclude``."""
    manifest = Index.peek(index)
    conn = sqlite3.connect(f"file:{index / 'rag.sqlite'}?mode=ro", uri=True)
    try:
        rows = [r for r in conn.execute(_CHUNKS) if r[1] not in exclude]
    finally:
        conn.close()
    if int(manifest.get("dim", 0)) == 0:
        raise ValueError(f"{index} has no vectors (a lexical-only index): nothing to fit to")
    prefix = manifest.get("document_prefix", "")
    store = VectorStore.load(index / "vectors.faiss", int(manifest["dim"]), mmap=False)
    vectors = store.vectors_of(np.array([r[0] for r in rows], dtype=np.int64)).astype(np.float32)
    texts = [prefix + embedding_text(headline, text) for _, _, headline, text in rows]
    return texts, vectors


def fit_table(
    base: Path, texts: list[str], vectors: np.ndarray, buckets: int, epochs: int = 8, seed: int = 0
) -> tuple[np.ndarray, dict]:
    """The trained table (float16) and a report (held-out cosine per epoch, seconds)."""
    import torch
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    start_rows = np.load(base / "table.npy").astype(np.float32)
    vocab = start_rows.shape[0]
    rows = [features(np.asarray(e.ids, dtype=np.int64), vocab, buckets) for e in tokenizer.encode_batch(texts)]
    lengths = np.array([len(r) for r in rows])
    keep = np.flatnonzero(lengths > 0)
    table = torch.nn.EmbeddingBag(vocab + buckets, start_rows.shape[1], mode="mean", sparse=True)
    with torch.no_grad():
        table.weight.zero_()
        table.weight[:vocab] = torch.from_numpy(start_rows / np.linalg.norm(start_rows, axis=1).clip(1e-9).mean())
    optimiser = torch.optim.SparseAdam(table.parameters(), lr=3e-3)
    target = torch.from_numpy(vectors)
    rng = np.random.default_rng(seed)
    order = rng.permutation(keep)
    held_out = min(HELD_OUT, len(order) // 5)
    held, train = order[:held_out], order[held_out:]

    def batch(ix: np.ndarray):
        flat = torch.from_numpy(np.concatenate([rows[i] for i in ix]))
        offsets = torch.from_numpy(np.concatenate([[0], np.cumsum(lengths[ix])[:-1]]))
        return table(flat, offsets)

    report: dict = {"pairs": len(keep), "held_out": len(held), "buckets": buckets, "held_out_cosine": []}
    began = time.perf_counter()
    for _ in range(epochs):
        rng.shuffle(train)
        for s in range(0, len(train), 512):
            ix = train[s : s + 512]
            loss = 1 - torch.nn.functional.cosine_similarity(batch(ix), target[ix]).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            cosine = torch.nn.functional.cosine_similarity(batch(held), target[held]).mean()
        report["held_out_cosine"].append(round(float(cosine), 4))
    report["seconds"] = round(time.perf_counter() - began, 1)
    return table.weight.detach().numpy().astype(np.float16), report


def fit_static(
    index: Path,
    out: Path,
    base: Path,
    buckets: int = 0,
    epochs: int = 6,
    exclude: frozenset[str] | set[str] = frozenset(),
    questions: str = "",
) -> dict:
    """Fit a table to ``index``'s vectors and write the folder ``out`` (table, tokenizer,
    static.json); ``questions`` names a model that encodes questions instead of the table."""
    texts, vectors = training_pairs(Path(index), exclude)
    if len(texts) < MIN_PAIRS:
        raise ValueError(f"{index} has {len(texts)} passages with vectors: fitting needs at least {MIN_PAIRS}")
    table, report = fit_table(Path(base), texts, vectors, buckets, epochs)
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.save(tmp / "table.npy", table)
    shutil.copy(Path(base) / "tokenizer.json", tmp / "tokenizer.json")
    meta = {"bigram_buckets": buckets, "questions": questions, "fitted_to": str(index), **report}
    (tmp / META).write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return meta
