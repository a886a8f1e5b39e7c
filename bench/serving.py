"""`rag serve` in a child process on a free loopback port (browser tests and benchmarks)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Terminate a server process, killing it if it has not exited within 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float) -> bool:
    """Poll ``url`` until it answers (True), the process exits or ``timeout`` passes (False)."""
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return True
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                return False
            time.sleep(0.5)


@contextmanager
def served(
    index: str | Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 180,
    started: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """Yield the URL of a running `rag serve --index INDEX`; stopped on exit.  A server that
    does not answer within ``timeout`` seconds raises RuntimeError with the end of its log.
    ``started(pid)`` is called once it answers (benchmarks read its memory)."""
    port = free_port()
    environ = {**os.environ, **(env or {})}  # rag sets the offline environment itself
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from rag.cli import main; main()",
                "serve",
                "--index",
                str(index),
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            if not wait_until_up(url, proc, timeout):
                log.seek(0)
                raise RuntimeError(f"rag serve did not start: {log.read()[-2000:]}")
            if started is not None:
                started(proc.pid)
            yield url
        finally:
            if proc.poll() is not None:  # it died while in use: say why (the callers saw only refusals)
                log.seek(0)
                sys.stderr.write(f"rag serve on {url} exited early (status {proc.returncode}): {log.read()[-3000:]}\n")
            stop(proc)
