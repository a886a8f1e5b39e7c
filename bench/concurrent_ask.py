"""N simultaneous questions to the UI's `/ask` endpoint; prints JSON (median, p95, max).

    python bench/concurrent_ask.py [--index index/seeds] [-n 20] [--question 孟州市人大常委会主任是谁？]

Starts `rag serve` on a free loopback port, asks once to warm up, then fires n gradio_client
requests from n threads at once and times each (client construction included).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default="index/seeds")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--question", default="孟州市人大常委会主任是谁？")
    args = ap.parse_args()
    from gradio_client import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", "from rag.cli import main; main()", "serve",
                             "--index", args.index, "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise SystemExit("rag serve did not start")
                time.sleep(0.5)

        def one(_: int) -> tuple[float, str]:
            t0 = time.perf_counter()
            got = Client(url, verbose=False).predict(args.question, 5, "", "", "", "", api_name="/ask")
            return time.perf_counter() - t0, got["answer"]

        single, answer = one(0)  # loads the embedding model in the server
        with ThreadPoolExecutor(args.n) as pool:
            results = list(pool.map(one, range(args.n)))
    finally:
        proc.terminate()
        proc.wait(10)
    seconds = sorted(s for s, _ in results)
    print(json.dumps({
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "index": args.index, "requests": args.n, "same_answer": all(a == answer for _, a in results),
        "first_s_with_model_load": round(single, 3), "median_s": round(statistics.median(seconds), 3),
        "p95_s": round(seconds[max(0, round(0.95 * len(seconds)) - 1)], 3),
        "max_s": round(seconds[-1], 3),
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
