"""N simultaneous questions to the UI's `/ask` endpoint; prints JSON (median, p95, max).

    python bench/concurrent_ask.py [--index index/seeds] [-n 20] [--question 孟州市人大常委会主任是谁？]

Starts `rag serve` on a free loopback port, asks once to warm up, then fires n gradio_client
requests from n threads at once and times each (client construction included).  Also reports
the server's resident memory after the run and its peak (VmRSS / VmHWM).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import machine
from serving import served


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default="index/seeds")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--question", default="孟州市人大常委会主任是谁？")
    args = ap.parse_args()
    from gradio_client import Client

    pid: list[int] = []
    with served(args.index, started=pid.append) as url:

        def one(_: int) -> tuple[float, str]:
            t0 = time.perf_counter()
            got = Client(url, verbose=False).predict(args.question, 5, "", "", "", "", api_name="/ask")
            return time.perf_counter() - t0, got["answer"]

        single, answer = one(0)  # loads the embedding model in the server
        with ThreadPoolExecutor(args.n) as pool:
            results = list(pool.map(one, range(args.n)))
        memory = server_memory(pid[0])
    seconds = sorted(s for s, _ in results)
    print(
        json.dumps(
            {
                "machine": machine(),
                "index": args.index,
                "requests": args.n,
                "same_answer": all(a == answer for _, a in results),
                "first_s_with_model_load": round(single, 3),
                "median_s": round(statistics.median(seconds), 3),
                "p95_s": round(seconds[max(0, round(0.95 * len(seconds)) - 1)], 3),
                "max_s": round(seconds[-1], 3),
                **memory,
            },
            ensure_ascii=False,
            indent=1,
        )
    )


def server_memory(pid: int) -> dict:
    """The serving process's resident memory now and at its peak, in MB."""
    out = {}
    with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
        for line in fh:
            key = {"VmRSS:": "server_rss_mb", "VmHWM:": "server_peak_rss_mb"}.get(line.split(":")[0] + ":")
            if key:
                out[key] = round(int(line.split()[1]) / 1024, 1)
    return out


if __name__ == "__main__":
    main()
