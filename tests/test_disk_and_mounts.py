"""Issue 33 items 12 and 15: a full disk during ingest, the temporary files a failed or killed
write leaves, and index folders that cannot be written (a read-only mount; a dropped table).

The disk and the mount are real where this machine allows a private mount namespace
(``unshare -m``, as CI's root has): a 400 KB tmpfs that fills up, a read-only bind mount.  The
same paths are also driven in-process by a write that fails with ENOSPC, so they are checked
everywhere."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from tests.conftest import ROOT, SAMPLE, copy_index

runner = CliRunner()
ENV = {"RAG_EMBEDDING_MODEL": "fake:hash"}


def cli(*args: str):
    return runner.invoke(app, list(args), env=ENV)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def in_namespace(script: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``script`` (sh) in a private mount namespace; skips where none can be made."""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0 or shutil.which("mount") is None:
        pytest.skip(f"no private mount namespace here (unshare -m: {probe.stderr.decode().strip()})")
    rag = f"{sys.executable} -c 'from rag.cli import main; main()'"
    env = {**os.environ, **ENV, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script.replace("RAG", rag)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )


# ---- 12. a full disk -------------------------------------------------------------------------
def test_a_real_full_disk_keeps_what_was_committed_and_says_so(tmp_path: Path) -> None:
    mnt = tmp_path / "small"
    mnt.mkdir()
    pages = tmp_path / "pages"
    shutil.copytree(SAMPLE, pages)
    text = "".join((SAMPLE / f"page_0{n}.txt").read_text("utf-8") for n in (1, 2, 3))
    for i in range(12):  # more text than fits in 400 KB beside the sample's index (read after it)
        (pages / f"zz_extra_{i:02d}.txt").write_text(text.replace("青禾", f"青禾{i:02d}"), "utf-8")
    got = in_namespace(
        f"mount -t tmpfs -o size=400k tmpfs {mnt} && RAG ingest {pages} --index {mnt}/idx --json; echo rc=$?; "
        f"RAG stats --index {mnt}/idx --json; echo rc=$?; mount -o remount,size=20m {mnt}; "
        f"RAG ingest {pages} --index {mnt}/idx --json; echo rc=$?; ls -a {mnt}/idx"
    )
    out = got.stdout + got.stderr
    assert "Traceback" not in out, out
    assert "disk full / 磁盘空间不足" in got.stderr, out
    first, stats, second = (part for part in got.stdout.split("rc=")[:3])
    report = json.loads(first)
    assert report["disk_full"] is True and report["files_ingested"] >= 1
    assert got.stdout.count("rc=3") >= 1 and "rc=0" in got.stdout.split("rc=3", 1)[1]
    kept = json.loads(stats[stats.index("{") :])
    assert kept["articles"] == report["articles"] > 0  # counted only once committed
    again = json.loads(second[second.index("{") :])
    assert again["disk_full"] is False and again["files_unchanged"] == report["files_ingested"]
    listing = got.stdout.rsplit("rc=", 1)[1].split()
    assert not [n for n in listing if n.endswith(".tmp")], listing  # the next writer cleaned up


def test_enospc_in_a_write_stops_the_run_with_exit_3(tmp_path: Path, monkeypatch) -> None:
    from rag.store import index as index_module

    real = index_module.Index.add_articles
    calls = {"n": 0}

    def add_then_fill(self, source_id, articles, chunks, vectors):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, source_id, articles, chunks, vectors)

    monkeypatch.setattr(index_module.Index, "add_articles", add_then_fill)
    got = cli("ingest", str(SAMPLE), "--index", str(tmp_path / "idx"), "--json")
    assert got.exit_code == 3, got.output
    assert "disk full / 磁盘空间不足: 2 files were committed" in got.stderr
    report = json.loads(got.stdout)
    assert report["disk_full"] and report["files_ingested"] == 2 and len(report["files_skipped"]) == 1
    monkeypatch.setattr(index_module.Index, "add_articles", real)
    stats = json.loads(cli("stats", "--index", str(tmp_path / "idx"), "--json").stdout)
    assert stats["articles"] == report["articles"] and stats["sources"] == 2


def test_sqlite_full_is_a_full_disk_too() -> None:
    from rag.ingest.errors import disk_full

    full = sqlite3.OperationalError("database or disk is full")
    assert disk_full(full) and disk_full(OSError(errno.EDQUOT, "quota"))
    assert disk_full(RuntimeError("Error in faiss::FileIOWriter: No space left on device"))
    assert not disk_full(OSError(errno.EACCES, "denied")) and not disk_full(ValueError("x"))


def test_the_next_writer_removes_leftovers_of_dead_writers(sample_index: Path, tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    copy_index(sample_index, idx)
    (idx / "bm25.tmp").mkdir()
    (idx / "bm25.tmp" / "data.npy").write_bytes(b"half")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (idx / f"lexicon.marshal.{dead.pid}.tmp").write_bytes(b"x")
    (idx / f"lexicon.marshal.{os.getppid()}.tmp").write_bytes(b"x")  # a live process's: kept
    assert cli("stats", "--index", str(idx)).exit_code == 0
    assert (idx / "bm25.tmp").exists()  # a reader removes nothing
    page = tmp_path / "new.txt"
    page.write_text((SAMPLE / "page_02.txt").read_text("utf-8").replace("青禾", "白杨"), "utf-8")
    assert cli("ingest", str(page), "--index", str(idx)).exit_code == 0
    assert not (idx / "bm25.tmp").exists() and not (idx / f"lexicon.marshal.{dead.pid}.tmp").exists()
    assert (idx / f"lexicon.marshal.{os.getppid()}.tmp").exists()


# ---- 15. opening never writes; a read-only folder answers --------------------------------------
def test_opening_an_index_without_its_lexicon_table_writes_nothing(sample_index: Path, tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    copy_index(sample_index, idx)
    with sqlite3.connect(idx / "rag.sqlite") as conn:
        conn.execute("DROP TABLE lexicon")
    conn.close()
    before = sha(idx / "rag.sqlite")
    assert cli("stats", "--index", str(idx)).exit_code == 0
    found = cli("search", "便民桥", "--index", str(idx), "--json", "-k", "1")
    assert found.exit_code == 0, found.output
    assert sha(idx / "rag.sqlite") == before  # opened, searched, not rewritten
    ro = sqlite3.connect(f"file:{idx / 'rag.sqlite'}?mode=ro", uri=True)
    assert not ro.execute("SELECT 1 FROM sqlite_master WHERE name = 'lexicon'").fetchone()  # (nor its WAL)
    ro.close()
    page = tmp_path / "new.txt"
    page.write_text((SAMPLE / "page_02.txt").read_text("utf-8").replace("青禾", "白杨"), "utf-8")
    assert cli("ingest", str(page), "--index", str(idx)).exit_code == 0  # a writer brings the table back
    with sqlite3.connect(idx / "rag.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM lexicon").fetchone()[0] > 0
    conn.close()


def test_a_read_only_mount_is_searched_and_refuses_writes_clearly(sample_index: Path, tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    copy_index(sample_index, idx)
    before = {p.name: sha(p) for p in idx.iterdir() if p.is_file()}
    got = in_namespace(
        f"mount --bind {idx} {idx} && mount -o remount,ro,bind {idx} && "
        f"RAG stats --index {idx} --json; echo rc=$?; "
        f"RAG ask 白鹭湖街道划分了多少个网格 --index {idx} --json; echo rc=$?; "
        f"RAG ingest {SAMPLE} --index {idx}; echo rc=$?"
    )
    parts = got.stdout.split("rc=")
    assert parts[1].startswith("0") and parts[2].startswith("0") and parts[3].startswith("2"), got.stdout + got.stderr
    stats = json.loads(parts[0])
    assert stats["articles"] > 0 and stats["chunks"] == stats["bm25_docs"]
    answer = json.loads(parts[1][parts[1].index("{") :])
    assert "87" in answer["answer"] and answer["citations"], answer
    assert f"{idx} is read-only" in got.stderr and "Traceback" not in got.stderr
    assert {p.name: sha(p) for p in idx.iterdir() if p.is_file()} == before
