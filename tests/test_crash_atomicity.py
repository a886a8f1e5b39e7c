"""A writer killed at any point leaves the old state or the new one (issue 33): ``rag delete``
and the re-ingest of a changed file, killed before each of their file operations and commits in
turn (tests/crash_at.py), leave an index whose ``stats`` exit 0 with SQLite, vectors and BM25
agreeing, holding either everything before the command or everything after it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from tests.conftest import FAKE_HASH, ROOT, SAMPLE

pytestmark = pytest.mark.slow
runner = CliRunner()
ENV = {**os.environ, "RAG_EMBEDDING_MODEL": FAKE_HASH, "HF_HUB_OFFLINE": "1"}
COUNTS = ("sources", "articles", "chunks", "vectors", "bm25_docs")


def state(index: Path) -> tuple:
    result = runner.invoke(app, ["stats", "--index", str(index), "--json"], env={"RAG_EMBEDDING_MODEL": FAKE_HASH})
    assert result.exit_code == 0, result.output  # no problem named: nothing to repair
    s = json.loads(result.stdout)
    assert s["vectors"] == s["chunks"] == s["bm25_docs"], s
    return tuple(s[k] for k in COUNTS)


def crashed(step: int, index: Path, *args: str) -> tuple[int, str]:
    run = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "crash_at.py"), *args, "--index", str(index)],
        env={**ENV, "RAG_CRASH_AT": str(step)},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    return run.returncode, run.stderr


def kill_at_every_step(tmp_path: Path, built: Path, args: list[str]) -> list[str]:
    """Run ``args`` on a copy of ``built`` killed before step 1, 2, … until it runs through;
    each killed copy must hold the state before or after.  Returns what happened at each step."""
    before = state(built)
    done = tmp_path / "done"
    shutil.copytree(built, done)
    code, err = crashed(10_000, done, *args)
    assert code == 0, err
    after = state(done)
    assert after != before
    steps = int(err.rsplit("steps: ", 1)[1].split()[0])
    seen = []
    for n in range(1, steps + 1):
        copy = tmp_path / f"kill-{n}"
        shutil.copytree(built, copy)
        code, err = crashed(n, copy, *args)
        assert code == 137, err
        got = state(copy)
        assert got in (before, after), (err.strip().splitlines()[-1], got, before, after)
        seen.append(f"{err.strip().splitlines()[-1]} -> {'new' if got == after else 'old'}")
        # the next writer finds the index usable and goes on from there
        code, err = crashed(10_000, copy, *args)
        assert state(copy) == after or code != 0, err
        shutil.rmtree(copy)
    print(f"\n{' '.join(args[:1])}: killed before each of {steps} steps", *seen, sep="\n  ")  # (pytest -s)
    return seen


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    pages = tmp_path / "pages"
    shutil.copytree(SAMPLE, pages)
    index = tmp_path / "built"
    result = runner.invoke(app, ["ingest", str(pages), "--index", str(index)], env={"RAG_EMBEDDING_MODEL": FAKE_HASH})
    assert result.exit_code == 0, result.output
    return pages, index


def test_delete_killed_at_every_step_leaves_old_or_new(tmp_path: Path, built) -> None:
    _, index = built
    seen = kill_at_every_step(tmp_path, index, ["delete", "page_01.txt"])
    assert any(s.endswith("COMMIT -> old") for s in seen), seen


def test_replacing_a_changed_file_killed_at_every_step_leaves_old_or_new(tmp_path: Path, built) -> None:
    pages, index = built
    page = pages / "page_02.txt"
    changed = page.read_text(encoding="utf-8").replace("。", "。\n", 3) + "\n本报讯 新增一段。\n"
    page.write_text(changed, encoding="utf-8")
    seen = kill_at_every_step(tmp_path, index, ["ingest", str(page)])
    assert seen
