"""Passage-encoding routes against fp32 e5: speed on the same texts, quality on crud_dev; prints JSON.

    python bench/ingest_speed.py [--articles 200] [--corpus ../shared/corpus/crud_rag/news.jsonl.xz]
        [--fitted FOLDER] [--no-onnx] [--no-dev]
        [--quality ROUTE=INDEX ...]   e.g. fp32=index/crud6k static=index/crud6k-static

On the same texts (the first N CRUD-RAG articles, chunked exactly as ``rag ingest`` does), per route:
* raw: the route's passage encoding of the embedding texts (batch 32), passages/s and the
  ratio to fp32 torch; pipeline: ``Ingestor.run`` of the same articles into a fresh index;
* routes: ``fp32`` (torch, what ``rag ingest`` uses), ``onnx-fp32`` (the questions' ONNX
  session, what ``rag serve`` uses for uploads), ``static`` (the distilled table,
  static:multilingual-e5-small), ``fitted`` (a ``rag fit-static`` folder, with ``--fitted``),
  ``onnx-int8`` (bench/onnx_route.py, issue 7, not kept);
* quality: each ``ROUTE=INDEX`` (crud6k ingested with that route; its manifest names the model)
  scored on ../shared/eval/crud_dev.jsonl with the hybrid retriever: hit@5 and MRR, and their
  change against ``fp32``.  A route is kept as an option at ≥ 4x with both within 0.02, made the
  default within 0.01 (issue 21).
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
from rag.ingest.pipeline import Ingestor, chunk_article, record_article
from rag.ingest.records import read_records
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
    bot.archive.ingest([SHARED / "corpus" / "seeds"])
    qs = load_questions(SHARED / "eval" / "dev.jsonl")
    result = evaluate(qs, lambda q: bot.ask(q, 5, depth=RANK_DEPTH), k=5).overall
    bot.close()
    return {key: round(result[key], 4) for key in ("hit@1", "hit@5", "mrr") if key in result}


def crud_dev_scores(index: Path) -> dict:
    """crud_dev scored with the hybrid retriever over ``index``, opened with the model its
    manifest names (so a route's index is asked the way it was built)."""
    from rag.evaluation import load_questions
    from rag.evaluation.runner import evaluate_assistant

    model = Index.peek(index)["model_id"]
    bot = Assistant(Settings.load(index=index, embedding_model=model, retriever="hybrid"))
    source = SHARED / "eval" / "crud_dev.jsonl"
    result, _ = evaluate_assistant(bot, load_questions(source), source)
    bot.close()
    overall = result.overall
    return {"index": str(index), "model": model, "hit@5": round(overall["hit@5"], 4), "mrr": round(overall["mrr"], 4)}


def route_speed(name: str, embedder, docs_encode, texts, records, settings, work, reference) -> dict:
    route = measure(name, embedder, docs_encode, texts, records, settings, work)
    if reference is not None:
        route["raw_speedup_vs_fp32"] = round(route["raw"]["passages_per_s"] / reference["raw"]["passages_per_s"], 3)
    return route


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--articles", type=int, default=200)
    p.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "crud_rag" / "news.jsonl.xz")
    p.add_argument("--fitted", type=Path, help="a `rag fit-static` folder to time as the route 'fitted'")
    p.add_argument("--no-onnx", action="store_true", help="skip the ONNX int8 route of issue 7")
    p.add_argument("--no-dev", action="store_true")
    p.add_argument("--quality", nargs="*", default=[], metavar="ROUTE=INDEX")
    a = p.parse_args(argv)
    import numpy as np
    import torch

    from rag.embeddings import STATIC_E5, load_embedder

    settings = Settings.load()
    fp32 = load_embedder(settings.embedding_model, settings.model_cache, 32, "onnx", "torch")
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
    routes = out["routes"]
    routes["fp32"] = measure("fp32", fp32, st_encode, docs, records, settings, work)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    one = raw_rate(st_encode, docs)
    torch.set_num_threads(threads)
    routes["fp32"]["raw_one_thread_passages_per_s"] = round(len(docs) / one, 2)
    reference = np.asarray(st_encode(docs[:200]))

    def cosine_to_fp32(vectors) -> dict:
        cos = (reference * np.asarray(vectors)[: len(reference)]).sum(1)
        return {"min": round(float(cos.min()), 4), "mean": round(float(cos.mean()), 4)}

    serving = load_embedder(settings.embedding_model, settings.model_cache, 32, "onnx", "onnx")
    routes["onnx-fp32"] = route_speed(
        "onnx-fp32", serving, serving.onnx.encode_batch, docs, records, settings, work, routes["fp32"]
    )
    routes["onnx-fp32"]["cosine_to_fp32"] = cosine_to_fp32(serving.onnx.encode_batch(docs[:200]))
    static_routes = [("static", STATIC_E5)] + ([("fitted", str(a.fitted))] if a.fitted else [])
    for name, model in static_routes:
        embedder = load_embedder(model, settings.model_cache)
        routes[name] = route_speed(
            name, embedder, embedder.embed_documents, texts, records, settings, work, routes["fp32"]
        )
        routes[name]["model"] = model
        routes[name]["cosine_to_fp32"] = cosine_to_fp32(embedder.embed_documents(texts[:200]))
    if not a.no_onnx:
        from onnx_route import OnnxInt8Embedder

        from rag.embeddings import resolve_model_path

        model_dir = Path(resolve_model_path(settings.embedding_model, settings.model_cache))
        int8 = OnnxInt8Embedder(model_dir, Path(settings.model_cache) / (model_dir.name + "-onnx-int8"))
        routes["onnx-int8"] = route_speed("onnx-int8", int8, int8.encode, docs, records, settings, work, routes["fp32"])
        routes["onnx-int8"]["cosine_to_fp32"] = cosine_to_fp32(int8.encode(docs[:200]))
        if not a.no_dev:
            out["dev"] = {"fp32": dev_scores(settings, None, work), "onnx-int8": dev_scores(settings, int8, work)}
            out["dev"]["mrr_change"] = round(out["dev"]["onnx-int8"]["mrr"] - out["dev"]["fp32"]["mrr"], 4)
    quality = {}
    for item in a.quality:
        name, _, folder = item.partition("=")
        quality[name] = crud_dev_scores(Path(folder))
    if "fp32" in quality:
        for name, scores in quality.items():
            scores["hit@5_change"] = round(scores["hit@5"] - quality["fp32"]["hit@5"], 4)
            scores["mrr_change"] = round(scores["mrr"] - quality["fp32"]["mrr"], 4)
            speed = routes.get(name, {}).get("raw_speedup_vs_fp32", 1.0 if name == "fp32" else None)
            worst = min(scores["hit@5_change"], scores["mrr_change"])
            scores["verdict"] = (
                "reference"
                if name == "fp32"
                else "default"
                if speed and speed >= 4 and worst >= -0.01
                else "option"
                if speed and speed >= 4 and worst >= -0.02
                else "not kept"
            )
    out["crud_dev_hybrid"] = quality
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
