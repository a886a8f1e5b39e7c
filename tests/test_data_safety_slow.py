"""Issue 14 items that need real processes or the real embedding model (see test_data_safety.py
for the rest): two `rag ingest` processes on one index, `rag repair` re-embedding a lost
vectors.faiss, and a writer that waits longer than SQLite's 30 s busy timeout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.store import Index
from tests.conftest import ROOT, SAMPLE, copy_index, make_fake_bot
from tests.test_reliability import _articles, page, records

pytestmark = pytest.mark.slow
runner = CliRunner()
ENV = dict(os.environ)  # the child imports rag, which makes it offline


def rag(*args: str, env: dict | None = None) -> list[str]:
    return [sys.executable, "-c", "from rag.cli import main; main()", *args]


def test_item01_two_ingest_processes_on_one_index_lose_nothing(tmp_path: Path) -> None:
    """`rag ingest A.jsonl` (three batches) and, after its first commit, `rag ingest pages/`:
    both succeed and every chunk of both has its vector and BM25 entry."""
    data = tmp_path / "A.jsonl"
    data.write_text(records(600), encoding="utf-8")
    index = tmp_path / "idx"
    first = subprocess.Popen(
        rag("ingest", str(data), "--index", str(index), "--json"),
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 300
    while _articles(index) == 0:
        assert first.poll() is None and time.time() < deadline, first.communicate()
        time.sleep(0.05)
    second = subprocess.run(
        rag("ingest", str(SAMPLE), "--index", str(index), "--json"),
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out, errors = first.communicate(timeout=600)
    assert first.returncode == 0, errors[-2000:]
    assert second.returncode == 0, second.stderr[-2000:]
    assert json.loads(out)["articles"] == 600
    stats = json.loads(
        subprocess.run(
            rag("stats", "--index", str(index), "--json"), cwd=ROOT, env=ENV, capture_output=True, text=True
        ).stdout
    )
    assert stats["problems"] == []
    assert stats["sources"] == 5 and stats["articles"] == 600 + 18
    assert stats["chunks"] == stats["vectors"] == stats["bm25_docs"]


def test_item02_rag_repair_reembeds_a_lost_vectors_file(sample_index_e5: Path, tmp_path: Path) -> None:
    index = tmp_path / "idx"
    copy_index(sample_index_e5, index)
    (index / "vectors.faiss").unlink()
    stats = runner.invoke(app, ["stats", "--index", str(index), "--json"])
    assert stats.exit_code == 2 and "rag repair" in stats.output
    chunks = json.loads(stats.stdout)["chunks"]
    question = "鹭江引水工程柳溪段的输水管线有多长？"
    refused = runner.invoke(app, ["ask", question, "--index", str(index)])
    assert refused.exit_code == 2 and "vectors.faiss" in refused.output
    fixed = runner.invoke(app, ["repair", "--index", str(index)])
    assert fixed.exit_code == 0, fixed.output
    assert f"re-embedded {chunks} chunks" in fixed.output
    answer = runner.invoke(app, ["ask", question, "--index", str(index), "--json"])
    assert "46.5公里" in json.loads(answer.stdout)["answer"]
    again = runner.invoke(app, ["repair", "--index", str(index)])
    assert "re-embedded 0 chunks" in again.output and "nothing was wrong" in again.output


def test_item15_a_waiting_writer_outlives_sqlite_busy_timeout(tmp_path: Path) -> None:
    """Another writer keeps its transaction open for 35 s: `rag delete` waits (saying so) and
    then succeeds, never `database is locked` after SQLite's 30 s busy timeout."""
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.txt").write_text(page("老街", 120, 300), encoding="utf-8")
    (pages / "b.txt").write_text(page("东岸", 86, 240), encoding="utf-8")
    bot = make_fake_bot(tmp_path / "idx")
    bot.archive.ingest([pages])
    bot.close()
    holder = Index.open(tmp_path / "idx")
    holder.begin()
    threading.Timer(35, holder.close).start()
    started = time.time()
    done = subprocess.run(
        rag("delete", "a.txt", "--index", str(tmp_path / "idx")),
        cwd=ROOT,
        env={**ENV, "RAG_EMBEDDING_MODEL": "fake:hash"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert time.time() - started >= 34
    assert "waiting for another writer" in done.stderr and "database is locked" not in done.stderr
    assert "removed" in done.stdout
