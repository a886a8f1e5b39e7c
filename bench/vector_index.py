"""Flat vs IVF on real embeddings: latency by size, recall@10 against flat; prints JSON.

    python bench/vector_index.py INDEX [--questions ../shared/eval/crud_dev.jsonl]
        [--sizes 10000,25000,50000,ALL] [--pad 160000,250000] [--nprobe 16,32,64,128,256] [--sq8]

Vectors come from INDEX/vectors.faiss (chunks embedded by ``rag ingest``), queries are the
question set embedded with the model the index was built with (its manifest).  ``--pad``
sizes add synthetic vectors (real ones plus Gaussian noise, renormalised) beyond the real
ones: those rows time the search at a size no index here reaches; their recall is not
reported.  ``--sq8`` adds IVF over 8-bit codes.  This is how ``IVF_MIN`` and ``IVF_NPROBE``
in rag/store/vectors.py were chosen.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import faiss
import numpy as np
from common import machine, percentiles_ms

from rag.embeddings import load_embedder
from rag.evaluation import load_questions
from rag.settings import Settings
from rag.store.vectors import VectorStore, nprobe_for

K = 10
DEPTH = 50  # the hybrid retriever asks each side for this many candidates


def timed_search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    index.search(queries[:1], k)  # warm
    found, times = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, ids = index.search(q[None], k)
        times.append(time.perf_counter() - t0)
        found.append(ids[0])
    return np.array(found), times


def recall(approx: np.ndarray, exact: np.ndarray, k: int) -> float:
    return float(np.mean([len(set(a[:k]) & set(e[:k])) / k for a, e in zip(approx, exact)]))


def padded(real: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    extra = real[rng.integers(len(real), size=n - len(real))]
    extra = extra + rng.normal(scale=0.03, size=extra.shape).astype(np.float32)
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    return np.vstack([real, extra.astype(np.float32)])


def scalar_quantised(data, ivf, queries, exact, probes: list[int], synthetic: bool) -> dict:
    """The same lists (the product IVF's coarse quantiser) over 8-bit codes: a quarter of the
    memory; latency and recall at the same probes."""
    sq = faiss.IndexIVFScalarQuantizer(
        ivf.quantizer, data.shape[1], ivf.nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    t0 = time.perf_counter()
    sq.train(data)
    sq.add(data)
    out: dict = {"build_s": round(time.perf_counter() - t0, 2), "bytes_per_vector": data.shape[1]}
    for nprobe in probes:
        sq.nprobe = nprobe
        approx, times = timed_search(sq, queries, DEPTH)
        cell = percentiles_ms(times)
        if not synthetic:
            cell[f"recall@{K}"] = round(recall(approx, exact, K), 4)
        out[str(nprobe)] = cell
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("index", type=Path)
    p.add_argument(
        "--questions", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval" / "crud_dev.jsonl"
    )
    p.add_argument("--sizes", default="10000,25000,50000,ALL")
    p.add_argument("--pad", default="160000,250000")
    p.add_argument("--nprobe", default="16,32,64,128,256")
    p.add_argument("--sq8", action="store_true", help="also IVF over 8-bit scalar-quantised vectors (IVF-SQ8)")
    a = p.parse_args(argv)
    settings = Settings.load(index=a.index)
    store = VectorStore.load(a.index / "vectors.faiss", int(_manifest(a.index)["dim"]), mmap=False)
    ids = store.ids()
    real = store.vectors_of(ids)
    model = _manifest(a.index).get("model_id") or settings.embedding_model  # questions as the index was built
    embedder = load_embedder(model, settings.model_cache)
    questions = [q.question for q in load_questions(a.questions)]
    queries = np.vstack([embedder.embed_query(q) for q in questions]).astype(np.float32)
    rng = np.random.default_rng(7)
    order = rng.permutation(len(real))
    sizes = [len(real) if s == "ALL" else int(s) for s in a.sizes.split(",")]
    rows = []
    for n, synthetic in [(s, False) for s in sizes if s <= len(real)] + [
        (int(s), True) for s in a.pad.split(",") if s and int(s) > len(real)
    ]:
        data = padded(real, n, rng) if synthetic else real[order[:n]]
        flat = faiss.IndexFlatIP(data.shape[1])
        flat.add(data)
        exact, flat_times = timed_search(flat, queries, DEPTH)
        ivf_store = VectorStore(data.shape[1], ivf_min=0)
        ivf_store.add(data, np.arange(n))
        t0 = time.perf_counter()
        ivf_store.reorganize()
        train_s = time.perf_counter() - t0
        ivf = ivf_store._index  # the product's own IVF (nlist_for(n)); nprobe varied below
        row = {
            "vectors": n,
            "synthetic_beyond": len(real) if synthetic else None,
            "product_nprobe": nprobe_for(ivf.nlist),
            "flat": percentiles_ms(flat_times),
            "ivf_nlist": int(ivf.nlist),
            "ivf_build_s": round(train_s, 2),
            "ivf": {},
        }
        for nprobe in [int(x) for x in a.nprobe.split(",")]:
            ivf.nprobe = nprobe
            approx, times = timed_search(ivf, queries, DEPTH)
            cell = percentiles_ms(times)
            if not synthetic:
                cell[f"recall@{K}"] = round(recall(approx, exact, K), 4)
                cell[f"recall@{DEPTH}"] = round(recall(approx, exact, DEPTH), 4)
            row["ivf"][str(nprobe)] = cell
        if a.sq8:
            row["ivf_sq8"] = scalar_quantised(
                data, ivf, queries, exact, [int(x) for x in a.nprobe.split(",")], synthetic
            )
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    print(
        json.dumps(
            {
                "machine": machine(),
                "index": str(a.index),
                "real_vectors": len(real),
                "queries": len(queries),
                "depth": DEPTH,
                "faiss_threads": faiss.omp_get_max_threads(),
                "rows": rows,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    return 0


def _manifest(path: Path) -> dict:
    from rag.store import Index

    return Index.peek(path)


if __name__ == "__main__":
    sys.exit(main())
