"""Query latency (p50/p95) of bm25, dense and hybrid retrieval at an index's size, with load
time, serving memory and size on disk; prints JSON.

    python bench/query_latency.py INDEX [--questions ../shared/eval/crud_dev.jsonl] [--n 100]
        [--vectors-from DENSE_INDEX] [--store embedded|milvus|both [--milvus-uri URI]]

``--store both`` measures the embedded index and its Milvus copy (``rag migrate``) one after
the other in one run, the same questions in the same order (the milvus-lite engine runs in a
process of its own: its memory is reported as ``milvus_server_rss_mb``).

Each query runs the whole retrieval path a user waits for (normalise, filters read from the
question, first stage, answer-type rescoring, one-passage-per-article collapse, SQLite fetch),
with the model loaded; ``ask`` adds the extractive answer (no LLM).

``--vectors-from`` is for a lexical-only INDEX bigger than any dense index this machine can
embed in a session (issue 7: ≥ 150,000 chunks; the encoder does ~20 chunks/s): every chunk of
INDEX gets the real vector of the same chunk (same doc id and position) in DENSE_INDEX, and
the rest get a synthetic one (the real vector of a random chunk plus Gaussian noise,
renormalised).  The counts are printed.  Timing only: quality is measured on real indexes.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
from common import machine, peak_rss_mb, percentiles_ms, rss_mb

from rag.assistant import Assistant
from rag.evaluation import load_questions
from rag.settings import Settings
from rag.store import Index
from rag.store.vectors import VectorStore

SHARED = Path(__file__).resolve().parents[2] / "shared"


def disk(path: Path) -> dict:
    parts = {"rag.sqlite": 0, "vectors.faiss": 0, "bm25": 0}
    for f in path.rglob("*"):
        if f.is_file():
            key = (
                "bm25"
                if "bm25" in f.relative_to(path).parts[0]
                else ("rag.sqlite" if f.name.startswith("rag.sqlite") else f.name)
            )
            parts[key] = parts.get(key, 0) + f.stat().st_size
    return {k: round(v / 2**20, 1) for k, v in parts.items()}


def chunk_keys(path: Path) -> tuple[np.ndarray, list[tuple[str, int]]]:
    with sqlite3.connect(path / "rag.sqlite") as conn:
        rows = conn.execute(
            "SELECT c.id, a.doc_id, c.position FROM chunks c JOIN articles a ON a.id = c.article_id ORDER BY c.id"
        ).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64), [(r[1], r[2]) for r in rows]


def borrowed_vectors(index: Index, dense: Path) -> tuple[VectorStore, dict]:
    """Vectors for every chunk of ``index``: real ones from ``dense`` where the same chunk is
    there, synthetic ones elsewhere."""
    source = VectorStore.load(dense / "vectors.faiss", int(Index.peek(dense)["dim"]), mmap=False)
    dense_ids, dense_keys = chunk_keys(dense)
    lookup = dict(zip(dense_keys, dense_ids))
    ids, keys = chunk_keys(index.path)
    real_from = np.array([lookup.get(k, -1) for k in keys], dtype=np.int64)
    have = real_from >= 0
    vectors = np.empty((len(ids), source.dim), dtype=np.float32)
    vectors[have] = source.vectors_of(real_from[have])
    rng = np.random.default_rng(11)
    pool = source.vectors_of(source.ids())
    fake = pool[rng.integers(len(pool), size=int((~have).sum()))]
    fake = fake + rng.normal(scale=0.03, size=fake.shape).astype(np.float32)
    vectors[~have] = fake / np.linalg.norm(fake, axis=1, keepdims=True)
    store = VectorStore(source.dim)
    store.add(vectors, ids)
    t0 = time.perf_counter()
    store.reorganize()
    return store, {
        "real_vectors": int(have.sum()),
        "synthetic_vectors": int((~have).sum()),
        "vector_index": store.kind,
        "build_s": round(time.perf_counter() - t0, 1),
    }


def children_rss_mb() -> float:
    """Resident memory of this process's children (the milvus-lite engine)."""
    total = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(os.getpid()):
            total += int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
    return round(total, 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("index", type=Path)
    p.add_argument("--questions", type=Path, default=SHARED / "eval" / "crud_dev.jsonl")
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--vectors-from", type=Path)
    p.add_argument("--store", choices=("embedded", "milvus", "both"), default="embedded")
    p.add_argument("--milvus-uri", default="")
    a = p.parse_args(argv)
    questions = [q.question for q in load_questions(a.questions)][: a.n]
    stores = ("embedded", "milvus") if a.store == "both" else (a.store,)
    runs = {store: measure(a, store, questions) for store in stores}
    out = {"machine": machine(), "index": str(a.index), "queries": len(questions)}
    out.update(runs[stores[0]] if len(stores) == 1 else runs)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


def measure(a: argparse.Namespace, store: str, questions: list[str]) -> dict:
    out: dict = {"store": store}
    base = rss_mb()
    model = Index.peek(a.index).get("model_id") if store != "milvus" else None  # questions as the index was built
    if model in ("", "none"):
        model = None
    bot = Assistant(Settings.load(index=a.index, store=store, milvus_uri=a.milvus_uri or None, embedding_model=model))
    t0 = time.perf_counter()
    index = bot.index  # SQLite + memory-mapped FAISS + memory-mapped bm25s + lexicon; or Milvus collections
    out["load_index_s"] = round(time.perf_counter() - t0, 3)
    out["rss_after_load_mb"] = round(rss_mb() - base, 1)
    stats = index.stats()
    size = stats.get("size_bytes") or sum(f.stat().st_size for f in a.index.rglob("milvus.db*") if f.is_file())
    out.update(
        articles=stats["articles"],
        chunks=stats["chunks"],
        vector_index=stats["vector_index"],
        disk_mb=disk(a.index) if store == "embedded" else {"milvus.db": round(size / 2**20, 1)},
        disk_mb_total=round(size / 2**20, 1),
    )
    out["disk_mb_per_10k_chunks"] = round(size / 2**20 / stats["chunks"] * 10_000, 2)
    retrievers = ["bm25"]
    if a.vectors_from:
        store, info = borrowed_vectors(index, a.vectors_from)
        index.vectors, index.dim = store, store.dim
        out["vectors"] = info
    if not index.lexical_only:
        t0 = time.perf_counter()
        bot.embedder.embed_query("预热")
        out["load_model_s"] = round(time.perf_counter() - t0, 2)
        retrievers += ["dense", "hybrid"]
    for name in retrievers:
        for q in questions[:3]:
            bot.search(q, 5, name)  # warm caches and the model
        times = []
        for q in questions:
            t0 = time.perf_counter()
            bot.search(q, 5, name)
            times.append(time.perf_counter() - t0)
        out[name] = percentiles_ms(times)
        print(name, json.dumps(out[name]), file=sys.stderr)
    times = []
    for q in questions:
        t0 = time.perf_counter()
        bot.ask(q, 5)
        times.append(time.perf_counter() - t0)
    out["ask_extractive"] = percentiles_ms(times)
    out["rss_serving_mb"] = rss_mb()
    out["peak_rss_mb"] = peak_rss_mb()
    if store == "milvus":
        out["milvus_server_rss_mb"] = children_rss_mb()
    bot.close()
    return out


if __name__ == "__main__":
    sys.exit(main())
