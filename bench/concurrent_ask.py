"""N simultaneous questions to the UI's `/ask` endpoint; prints JSON (median, p95, max, errors).

    python bench/concurrent_ask.py [--index index/seeds] [-n 20] [--question 孟州市人大常委会主任是谁？]
        [--questions QUESTIONS.jsonl] [--upload DIR_OR_FILES...]

Starts `rag serve` (app.ui.serve, in a child process) on a free loopback port, asks once to
warm up, then fires n gradio_client requests from n threads at once and times each (client
construction included: ``median_s``, ``p95_s``, ``max_s``; the request alone: ``predict_*``).
Clients skip loading CA certificates (``ssl_verify=False``: the server is plain HTTP on
loopback), which otherwise costs the benchmark itself ~70 ms of CPU twice per client.  Also
reports the server's resident memory after the run and its peak (VmRSS / VmHWM).  Asking one
question n times, the server reuses its vector (the dense retriever keeps the last few); with
``--questions`` (JSONL with a "question" field, or one a line) the n requests ask n different
ones (the first n, then the next n for the run during the upload), and ``same_answer`` compares
each with the answer its question gets alone, asked after the runs.

``--upload`` (page files, or folders of them) runs the n questions a second time while the
server adds copies of those pages through the 上传 tab's handler (``ChatApp.upload``: the same
assistant that answers, its writer): ``during_upload`` has the same figures, how long the upload
took and whether it was still running when the last answer came.  The index is then copied to
a temporary folder first (the one given is never written).  Text pages are copied with a line
of their own appended, so each run adds new articles.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import machine
from serving import ROOT, free_port, stop, wait_until_up


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default="index/seeds")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--question", default="孟州市人大常委会主任是谁？")
    ap.add_argument("--questions", type=Path, help="ask different questions: JSONL with 'question', or one a line")
    ap.add_argument("--upload", nargs="*", default=None, help="page files or folders added during a second run")
    ap.add_argument("--child", nargs=2, metavar=("INDEX", "PORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), int(args.child[1]))
        return
    with tempfile.TemporaryDirectory(prefix="concurrent-ask-") as work:
        index = Path(args.index)
        if args.upload is not None:
            index = Path(work) / "index"
            shutil.copytree(args.index, index, ignore=shutil.ignore_patterns("write.lock", "uploads", "milvus.db"))
        many = read_questions(args.questions) if args.questions else [args.question]
        first = [many[i % len(many)] for i in range(args.n)]
        second = [many[(args.n + i) % len(many)] for i in range(args.n)]
        with server(index) as (url, proc):
            single, answer = ask_once(url, args.question)  # loads the embedding model in the server
            alone = timed_run(url, first, args.n)
            during = None
            if args.upload is not None:
                pages = page_copies(args.upload, Path(work) / "pages")
                during = timed_run(url, second, args.n, upload=(proc, pages))
            memory = server_memory(proc.pid)
            told = {q: answer for q in many} if not args.questions else {q: ask_once(url, q)[1] for q in set(many)}
        for run in (alone, during):
            if run is not None:
                answers = run.pop("answers")
                run["same_answer"] = all(told[q] == a for q, a in answers if a is not None)
    out = {
        "machine": machine(),
        "index": args.index,
        "requests": args.n,
        "questions": len(set(many)),
        "same_answer": alone.pop("same_answer"),
        "first_s_with_model_load": round(single, 3),
        **alone,
        **memory,
    }
    if during is not None:
        out["during_upload"] = during
    print(json.dumps(out, ensure_ascii=False, indent=1))


def ask_once(url: str, question: str) -> tuple[float, str]:
    from gradio_client import Client

    t0 = time.perf_counter()
    got = Client(url, verbose=False, ssl_verify=False).predict(question, 5, "", "", "", "", api_name="/ask")
    return time.perf_counter() - t0, got["answer"]


def read_questions(path: Path) -> list[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [json.loads(line)["question"] if line.startswith("{") else line for line in lines]


def timed_run(url: str, questions: list[str], n: int, upload=None) -> dict:
    """n requests at once (each thread makes its client, then asks its question); with
    ``upload`` (the child process, the pages) the server starts adding the pages first."""
    from gradio_client import Client

    start = threading.Barrier(n)

    def one(i: int) -> tuple[float, float, str | None, tuple[str, str | None]]:
        question = questions[i]
        start.wait()
        t0 = time.perf_counter()
        try:
            client = Client(url, verbose=False, ssl_verify=False)
            t1 = time.perf_counter()
            got = client.predict(question, 5, "", "", "", "", api_name="/ask")
            return time.perf_counter() - t0, time.perf_counter() - t1, None, (question, got["answer"])
        except Exception as exc:  # noqa: BLE001 - counted and shown, not fatal
            return time.perf_counter() - t0, 0.0, f"{type(exc).__name__}: {exc}"[:200], (question, None)

    adding = None
    if upload is not None:
        proc, pages = upload
        adding = Upload(proc, pages)
        adding.started.wait(600)
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(one, range(n)))
    out = figures(results)
    if adding is not None:
        out["upload_running_at_last_answer"] = adding.done is None
        adding.thread.join(600)
        out.update(upload_s=adding.seconds, upload_result=adding.result)
    return out


def figures(results: list) -> dict:
    ok = [r for r in results if r[2] is None]
    total = sorted(r[0] for r in ok) or [0.0]
    alone = sorted(r[1] for r in ok) or [0.0]
    return {
        "answers": [r[3] for r in results],
        "median_s": round(statistics.median(total), 3),
        "p95_s": round(p95(total), 3),
        "max_s": round(total[-1], 3),
        "predict_median_s": round(statistics.median(alone), 3),
        "predict_p95_s": round(p95(alone), 3),
        "errors": len(results) - len(ok),
        "error_samples": sorted({r[2] for r in results if r[2]})[:3],
    }


def p95(sorted_seconds: list[float]) -> float:
    return sorted_seconds[max(0, round(0.95 * len(sorted_seconds)) - 1)]


class Upload:
    """The child server adds ``pages`` through its 上传 handler; ``started`` once it has begun."""

    def __init__(self, proc: subprocess.Popen, pages: list[Path]) -> None:
        self.started = threading.Event()
        self.done: float | None = None
        self.seconds, self.result = 0.0, None
        self.proc, self.pages = proc, pages
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps([str(p) for p in self.pages]) + "\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            if line.startswith("UPLOAD-STARTED"):
                self.started.set()
            elif line.startswith("UPLOAD-DONE "):
                reply = json.loads(line.split(" ", 1)[1])
                self.done = time.perf_counter()
                self.seconds, self.result = round(reply["seconds"], 3), reply["rows"]
                break
        self.started.set()


def page_copies(given: list[str], folder: Path) -> list[Path]:
    """Copies of the page files given (folders: the page files in them), renamed; text pages
    get a line of their own, so that their content is new to the index."""
    from app.uploads import kind_ok

    files = [f for g in map(Path, given) for f in (sorted(g.iterdir()) if g.is_dir() else [g])]
    folder.mkdir(parents=True)
    stamp = time.strftime("%H%M%S")
    out = []
    for i, src in enumerate(f for f in files if f.is_file() and kind_ok(f.name)):
        target = folder / f"bench-{stamp}-{i}-{src.name}"
        shutil.copyfile(src, target)
        if target.suffix == ".txt":
            with target.open("a", encoding="utf-8") as fh:
                fh.write(f"\n（并发测试副本 {stamp}-{i}）\n")
        out.append(target)
    return out


@contextmanager
def server(index: Path, timeout: float = 300) -> Iterator[tuple[str, subprocess.Popen]]:
    """This script as `rag serve` over ``index`` in a child process; yields (URL, the process)."""
    port = free_port()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(index), str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        if not wait_until_up(url, proc, timeout):
            raise RuntimeError("the server did not start")
        yield url, proc
    finally:
        stop(proc)


def child(index: Path, port: int) -> None:
    """`rag serve` (app.ui.serve) over ``index``; each line on stdin (a JSON list of paths) is
    added through the ChatApp's upload handler, announced on stdout before and after."""
    import app.ui as ui
    from rag.assistant import Assistant
    from rag.settings import Settings

    made: list = []

    class Kept(ui.ChatApp):  # the ChatApp serve() makes, to upload through
        def __init__(self, *a, **k) -> None:
            super().__init__(*a, **k)
            made.append(self)

    ui.ChatApp = Kept  # type: ignore[misc]
    ui.serve(Assistant(Settings.load(index=index)), "127.0.0.1", port, prevent_thread_lock=True)
    for line in sys.stdin:
        paths = json.loads(line)
        print("UPLOAD-STARTED", flush=True)
        t0 = time.perf_counter()
        rows = made[0].upload(paths)[0]
        print("UPLOAD-DONE " + json.dumps({"seconds": time.perf_counter() - t0, "rows": rows}), flush=True)


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
