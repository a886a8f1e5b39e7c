"""Median search latency inside one process (model loaded), over the dev questions; prints JSON.

Usage: python bench/search_latency.py INDEX_DIR [QUESTIONS.jsonl] [--n 20]
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from pathlib import Path

from rag.assistant import Assistant
from rag.evaluation import load_questions
from rag.settings import Settings


def main() -> None:
    index = Path(sys.argv[1])
    qfile = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("../shared/eval/dev.jsonl")
    questions = [q.question for q in load_questions(qfile)][:20]
    bot = Assistant(Settings.load(index=index))
    out = {"machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
           "index": str(index), "queries": len(questions)}
    for retriever in ("bm25", "dense", "hybrid"):
        bot.search(questions[0], 5, retriever)  # warm: load model and files
        times = []
        for q in questions:
            t0 = time.perf_counter()
            bot.search(q, 5, retriever)
            times.append(time.perf_counter() - t0)
        out[retriever] = {"median_ms": round(1000 * statistics.median(times), 2),
                          "max_ms": round(1000 * max(times), 2)}
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
