"""What the reader costs a serving process (issue 32): the extractive generator's time per
question (``timings["generate"]``, p50/p95) and the process's resident memory, with the reader
and without it, each in a child process of its own (the same questions, the same index, the
same warm-up).  Prints JSON with the machine's CPU flags.

    python bench/reader_speed.py --index index/crud6k --questions ../shared/eval/crud_dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, percentiles_ms, rss_mb


def child(index: str, questions: str, reader: bool, limit: int) -> dict:
    """Runs in the child: open, warm, answer one question (the reader's first-use build), then
    time every question once (no score cached yet)."""
    from rag.assistant import Assistant
    from rag.evaluation.questions import load_questions
    from rag.settings import Settings

    bot = Assistant(Settings.load(index=Path(index), reader=reader)).for_serving()
    bot.warm()
    asked = [q.question for q in load_questions(questions)][:limit]
    bot.ask(asked[0])  # the first answer builds what is built at first use (the reader's session)
    before = rss_mb()
    times = []
    for q in asked:
        ans = bot.ask(q)
        times.append(ans.timings.get("generate", 0.0))
    return {
        "reader": reader,
        "questions": len(asked),
        "generate_ms": percentiles_ms(times),
        "rss_mb_warm": before,
        "rss_mb_after": rss_mb(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", default="index/crud6k")
    ap.add_argument("--questions", default="../shared/eval/crud_dev.jsonl")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--child", choices=["on", "off"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.index, args.questions, args.child == "on", args.limit)))
        return
    runs = {}
    for mode in ("off", "on"):
        cmd = [sys.executable, __file__, "--index", args.index, "--questions", args.questions]
        cmd += ["--limit", str(args.limit), "--child", mode]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        runs[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    out = {
        "machine": machine(),
        "index": args.index,
        "questions": args.questions,
        "without_reader": runs["off"],
        "with_reader": runs["on"],
        "rss_added_mb": round(runs["on"]["rss_mb_after"] - runs["off"]["rss_mb_after"], 1),
    }
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
