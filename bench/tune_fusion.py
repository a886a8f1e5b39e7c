"""Sweep RRF k, the BM25 weight and the per-article cap on a question set; print JSON.

    python bench/tune_fusion.py INDEX QUESTIONS.jsonl

Every setting runs the product's own retrieve step (rag.retrieval.pipeline: normalise, stated
filters, hybrid first stage, the configured reranker, collapse) with that setting; dense and
BM25 candidate lists are computed once per question and replayed for every setting (the
first-stage retrievers are memoised), so a setting costs only fusion, reranking and collapse.
hit@1/5/10 and MRR@10 use the evaluation harness's relevance rules, so numbers match
`rag eval` for the same settings.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import machine

from rag.assistant import Assistant
from rag.evaluation.questions import load_questions
from rag.evaluation.relevance import hit_at, hit_rank, mrr
from rag.retrieval import HybridRetriever
from rag.retrieval.pipeline import PipelineOptions, RetrievalPipeline
from rag.settings import Settings

KS = (5, 10, 20, 30, 60, 100)
WEIGHTS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)  # bm25 weight; dense fixed at 1
CAPS = (0, 1, 2)


class Memo:
    """A first-stage retriever whose candidate lists are computed once per query."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.index = inner, inner.name, inner.index
        self._lists: dict = {}

    def candidates(self, query, depth, allowed=None):
        key = (query, depth, None if allowed is None else allowed.tobytes())
        if key not in self._lists:
            self._lists[key] = self.inner.candidates(query, depth, allowed)
        return self._lists[key]

    def score_ids(self, query, ids):
        return self.inner.score_ids(query, ids)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("index", type=Path)
    ap.add_argument("questions", type=Path)
    args = ap.parse_args()

    bot = Assistant(Settings.load(index=args.index))
    hybrid = bot.retriever("hybrid")
    dense, bm25 = Memo(hybrid.dense), Memo(hybrid.bm25)
    base = PipelineOptions.from_settings(bot.settings)
    questions = [q for q in load_questions(args.questions) if q.answerable]
    started = time.perf_counter()
    rows = []
    for k, w, cap in itertools.product(KS, WEIGHTS, CAPS):
        first = HybridRetriever(dense, bm25, k, {"dense": 1.0, "bm25": w})
        pipeline = RetrievalPipeline(bot.index, first, bot.reranker, replace(base, per_article=cap))
        ranks = [hit_rank(q, pipeline.run(q.question, 10).hits) for q in questions]
        rows.append(
            {
                "rrf_k": k,
                "bm25_weight": w,
                "per_article": cap,
                "hit@1": round(hit_at(ranks, 1), 3),
                "hit@5": round(hit_at(ranks, 5), 3),
                "hit@10": round(hit_at(ranks, 10), 3),
                "mrr": round(mrr(ranks), 3),
            }
        )
    best = sorted(rows, key=lambda r: (-r["hit@5"], -r["mrr"]))[:10]
    s = bot.settings
    default = (s.rrf_k, s.rrf_weight_bm25, s.per_article)
    print(
        json.dumps(
            {
                "machine": machine(),
                "index": str(args.index),
                "questions": len(questions),
                "seconds": round(time.perf_counter() - started, 1),
                "default": next((r for r in rows if (r["rrf_k"], r["bm25_weight"], r["per_article"]) == default), None),
                "best": best,
                "all": rows,
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
