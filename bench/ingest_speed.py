"""Ingest throughput against the raw encoder, fp32 and the ONNX int8 route; prints JSON.

    python bench/ingest_speed.py [--articles 300] [--corpus ../shared/corpus/crud_rag/news.jsonl.xz]
        [--no-onnx] [--no-dev]

On the same texts (the first N CRUD-RAG articles, chunked exactly as ``rag ingest`` does):
* raw: ``model.encode`` of the embedding texts, batch 32 (measured before and after the
  pipeline run; the mean is used), also with one torch thread;
* pipeline: ``Ingestor.run`` of the same articles into a fresh index (read, chunk, tokenise,
  learn words, embed, SQLite, FAISS, BM25) - ratio pipeline/raw is the issue 7 target (≥ 0.9);
* onnx-int8 (bench/onnx_route.py, needs onnxruntime + onnx): the same two numbers, its speed-up
  over fp32 and cosine to the fp32 vectors; with dev, the seed pages ingested with each route
  and ../shared/eval/dev.jsonl scored (hit@5, MRR): the route is kept only at ≥ 1.8× with MRR
  within 0.01.
"""

from __future__ import annotations

import argparse
import json
import lzma
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

from common import machine, peak_rss_mb

from rag.assistant import Assistant
from rag.chunking import embedding_text
from rag.ingest.loaders import read_records
from rag.ingest.pipeline import Ingestor, chunk_article, record_article
from rag.settings import Settings
from rag.store import Index, make_manifest

SHARED = Path(__file__).resolve().parents[2] / "shared"


def texts_of(records: Path, settings: Settings) -> list[str]:
    texts = []
    for rec in read_records(records):
        art = record_article(rec, records.name)
        texts += [
            embedding_text(art.headline, c.text) for c in chunk_article(art, settings.chunk_min, settings.chunk_max)
        ]
    return texts


def raw_rate(encode, texts: list[str]) -> float:
    t0 = time.perf_counter()
    encode(texts)
    return time.perf_counter() - t0


def pipeline_run(embedder, records: Path, settings: Settings, work: Path) -> dict:
    folder = Path(tempfile.mkdtemp(dir=work))
    index = Index.create_or_open(
        folder / "idx",
        make_manifest(embedder.model_id, embedder.dim, "bench", embedder.query_prefix, embedder.document_prefix),
    )
    report = Ingestor(index, embedder, settings.chunk_min, settings.chunk_max).run([records])
    index.close()
    return {"seconds": report.seconds, "chunks": report.chunks, "articles": report.articles}


def measure(name: str, embedder, encode_docs, texts: list[str], records: Path, settings, work) -> dict:
    chars = sum(len(t) for t in texts)
    encode_docs(texts[:16])  # warm
    before = raw_rate(encode_docs, texts)
    pipe = pipeline_run(embedder, records, settings, work)
    after = raw_rate(encode_docs, texts)
    raw_s = (before + after) / 2
    out = {
        "raw": {
            "seconds": round(raw_s, 2),
            "passages_per_s": round(len(texts) / raw_s, 2),
            "chars_per_s": round(chars / raw_s, 1),
            "runs_s": [round(before, 2), round(after, 2)],
        },
        "pipeline": {
            "seconds": round(pipe["seconds"], 2),
            "chunks_per_s": round(pipe["chunks"] / pipe["seconds"], 2),
            "chars_per_s": round(chars / pipe["seconds"], 1),
            "chunks": pipe["chunks"],
        },
    }
    out["pipeline_to_raw"] = round(out["pipeline"]["chunks_per_s"] / out["raw"]["passages_per_s"], 3)
    print(name, json.dumps(out), file=sys.stderr)
    return out


def dev_scores(settings: Settings, embedder, work: Path) -> dict:
    """Seed pages ingested with ``embedder`` (None = the configured model), dev set scored."""
    from rag.evaluation import evaluate, load_questions
    from rag.evaluation.result import RANK_DEPTH

    folder = Path(tempfile.mkdtemp(dir=work))
    model = embedder.model_id if embedder is not None else settings.embedding_model
    bot = Assistant(Settings.load(index=folder / "idx", embedding_model=model))
    if embedder is not None:
        bot._embedder = embedder
    bot.ingest([SHARED / "corpus" / "seeds"])
    qs = load_questions(SHARED / "eval" / "dev.jsonl")
    result = evaluate(qs, lambda q: bot.ask(q, 5, depth=RANK_DEPTH), k=5).overall
    bot.close()
    return {key: round(result[key], 4) for key in ("hit@1", "hit@5", "mrr") if key in result}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--articles", type=int, default=300)
    p.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "crud_rag" / "news.jsonl.xz")
    p.add_argument("--no-onnx", action="store_true")
    p.add_argument("--no-dev", action="store_true")
    a = p.parse_args(argv)
    import numpy as np
    import torch

    settings = Settings.load()
    bot = Assistant(settings)
    fp32 = bot.embedder
    work = Path(tempfile.mkdtemp(prefix="ingest-speed-"))
    records = work / "articles.jsonl"
    with lzma.open(a.corpus, "rt", encoding="utf-8") as src, records.open("w", encoding="utf-8") as dst:
        dst.writelines(islice(src, a.articles))
    texts = texts_of(records, settings)
    docs = [fp32.document_prefix + t for t in texts]

    def st_encode(ts):
        return fp32.model.encode(ts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)

    out = {
        "machine": machine(),
        "articles": a.articles,
        "chunks": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "torch_threads": torch.get_num_threads(),
        "routes": {},
    }
    out["routes"]["fp32"] = measure("fp32", fp32, st_encode, docs, records, settings, work)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    one = raw_rate(st_encode, docs)
    torch.set_num_threads(threads)
    out["routes"]["fp32"]["raw_one_thread_passages_per_s"] = round(len(docs) / one, 2)
    if not a.no_onnx:
        from onnx_route import OnnxInt8Embedder

        from rag.embeddings import resolve_model_path

        model_dir = Path(resolve_model_path(settings.embedding_model, settings.model_cache))
        int8 = OnnxInt8Embedder(model_dir, Path(settings.model_cache) / (model_dir.name + "-onnx-int8"))
        route = measure("onnx-int8", int8, int8.encode, docs, records, settings, work)
        route["raw_speedup_vs_fp32"] = round(
            route["raw"]["passages_per_s"] / out["routes"]["fp32"]["raw"]["passages_per_s"], 3
        )
        ref, got = np.asarray(st_encode(docs[:200])), int8.encode(docs[:200])
        cos = (ref * got).sum(1)
        route["cosine_to_fp32"] = {"min": round(float(cos.min()), 4), "mean": round(float(cos.mean()), 4)}
        out["routes"]["onnx-int8"] = route
        if not a.no_dev:
            out["dev"] = {"fp32": dev_scores(settings, None, work), "onnx-int8": dev_scores(settings, int8, work)}
            out["dev"]["mrr_change"] = round(out["dev"]["onnx-int8"]["mrr"] - out["dev"]["fp32"]["mrr"], 4)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
