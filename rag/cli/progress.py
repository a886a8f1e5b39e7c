"""The ingest progress display of `rag ingest`: a bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager

from rich.console import Console

LOG_EVERY = 30.0  # seconds between progress lines when stderr is not a terminal


@contextmanager
def ingest_progress(err: Console, quiet: bool):
    """A bar with %, chunks/s and ETA on a terminal; otherwise (nohup, CI logs) one plain line
    on stderr every ``LOG_EVERY`` seconds, so short runs print nothing."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    from rag.archive import IngestProgress

    def rate(e: IngestProgress) -> str:
        pages = f"{e.pages}/{e.total_pages} pages, {e.pages_per_second:.2f} pages/s, " if e.total_pages else ""
        return f"{pages}{e.chunks} chunks, {e.articles} articles, {e.chunks / max(e.seconds, 1e-9):.1f} chunks/s"

    if err.is_terminal and not quiet:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err,
        ) as bar:
            task = bar.add_task("ingest", total=None, rate="")

            def show(e: IngestProgress) -> None:
                name = "building BM25 over all chunks" if e.stage == "bm25" else e.name
                if e.total_pages:
                    bar.update(task, description=name, total=e.total_pages, completed=e.pages, rate=rate(e))
                else:
                    bar.update(task, description=name, total=e.total_bytes or 1, completed=e.done_bytes, rate=rate(e))

            yield show
        return
    last = [time.monotonic()]

    def log(e: IngestProgress) -> None:
        if e.stage == "bm25":
            sys.stderr.write(f"ingest: files done ({rate(e)}); building BM25 over all chunks\n")
            sys.stderr.flush()
        elif time.monotonic() - last[0] >= LOG_EVERY:
            last[0] = time.monotonic()
            eta = e.eta_seconds
            left = "?" if eta is None else time.strftime("%H:%M:%S", time.gmtime(eta))
            sys.stderr.write(f"ingest {e.name}: {100 * e.fraction:.1f}% · {rate(e)} · ETA {left}\n")
            sys.stderr.flush()

    yield log
