"""Sweep RRF k, per-retriever weights and the per-article cap on a question set; print JSON.

    python bench/tune_fusion.py INDEX QUESTIONS.jsonl [--depth 100]

Dense and BM25 candidate lists are computed once per question (depth ``--depth``), then fused
offline for every setting; hit@1/5/10 and MRR@10 use the evaluation harness's relevance rules
(rag.evaluation.relevance.hit_rank), so numbers match `rag eval` for the same settings.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.assistant import Assistant  # noqa: E402
from rag.evaluation.questions import load_questions  # noqa: E402
from rag.evaluation.relevance import hit_at, hit_rank, mrr  # noqa: E402
from rag.retrieval import make_hits, rrf_fuse  # noqa: E402
from rag.retrieval.diversity import collapse  # noqa: E402
from rag.text.normalize import normalize_query  # noqa: E402
from rag.settings import Settings  # noqa: E402
from common import machine  # noqa: E402

KS = (5, 10, 20, 30, 60, 100)
WEIGHTS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)  # bm25 weight; dense fixed at 1
CAPS = (0, 1, 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("index", type=Path)
    ap.add_argument("questions", type=Path)
    ap.add_argument("--depth", type=int, default=100)
    args = ap.parse_args()

    bot = Assistant(Settings.load(index=args.index))
    hybrid = bot.retriever("hybrid")
    questions = [q for q in load_questions(args.questions) if q.answerable]
    started = time.perf_counter()
    lists = []
    for q in questions:
        query = normalize_query(q.question)
        lists.append({
            "dense": [c for c, _ in hybrid.dense.candidates(query, args.depth, None)],
            "bm25": [c for c, _ in hybrid.bm25.candidates(query, args.depth, None)],
        })
    pool = {c for l in lists for ids in l.values() for c in ids}
    hits_of = {h.chunk.id: h for h in make_hits(bot.index, [(c, 0.0) for c in sorted(pool)])}
    rows = []
    for k, w, cap in itertools.product(KS, WEIGHTS, CAPS):
        ranks = []
        for q, l in zip(questions, lists):
            fused = rrf_fuse(l, k, {"dense": 1.0, "bm25": w})
            hits = [hits_of[c] for c, _ in fused if c in hits_of]
            hits = collapse(hits, 10, cap, 1.0)
            ranks.append(hit_rank(q, hits))
        rows.append({"rrf_k": k, "bm25_weight": w, "per_article": cap,
                     "hit@1": round(hit_at(ranks, 1), 3), "hit@5": round(hit_at(ranks, 5), 3),
                     "hit@10": round(hit_at(ranks, 10), 3), "mrr": round(mrr(ranks), 3)})
    best = sorted(rows, key=lambda r: (-r["hit@5"], -r["mrr"]))[:10]
    print(json.dumps({
        "machine": machine(),
        "index": str(args.index), "questions": len(questions), "depth": args.depth,
        "seconds": round(time.perf_counter() - started, 1),
        "default": next(r for r in rows if (r["rrf_k"], r["bm25_weight"], r["per_article"]) == (60, 1.0, 0)),
        "best": best, "all": rows,
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
