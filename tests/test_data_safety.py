"""Issue 14, "nothing lost, ever": one test per numbered item, named after it.  The real
pipeline (ingest, store, retrieval, answers) with the FakeEmbedder, so these run in seconds;
tests/test_data_safety_slow.py has the ones that need real processes or the real model."""

from __future__ import annotations

import json
import lzma
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.ingest.loaders import LoadError, decode_bytes
from rag.store import Index
from rag.store.errors import IndexDamagedError
from tests.conftest import make_fake_bot
from tests.test_reliability import page, records

runner = CliRunner()


def cli(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env={"RAG_EMBEDDING_MODEL": "fake:hash", **(env or {})})


@pytest.fixture
def bot(tmp_path: Path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.txt").write_text(page("老街", 120, 300), encoding="utf-8")
    (pages / "b.txt").write_text(page("东岸", 86, 240), encoding="utf-8")
    bot = make_fake_bot(tmp_path / "idx")
    report = bot.archive.ingest([pages])
    assert len(report.ingested) == 2
    yield bot
    bot.close()


def counts(path: Path) -> dict:
    con = sqlite3.connect(path / "rag.sqlite")
    try:
        return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("sources", "articles", "chunks")}
    finally:
        con.close()


# ---- 1. two writers, one index ---------------------------------------------------------------
def test_item01_second_writer_waits_reloads_and_loses_nothing(bot, tmp_path: Path) -> None:
    """Writer A holds the lock with an open transaction; writer B (another Index, another
    connection) waits, says so, and writes after A on top of A's commit: nothing lost."""
    path = bot.settings.index
    more = tmp_path / "more.jsonl"
    more.write_text(records(300), encoding="utf-8")
    a = make_fake_bot(path)
    first = Index.open(path)
    first.begin()  # A: lock held
    said: list[str] = []
    result: dict = {}
    b = threading.Thread(target=lambda: result.update(report=a.archive.ingest([more], on_wait=said.append)))
    b.start()
    time.sleep(1.0)
    assert b.is_alive() and said and "waiting for another writer (pid" in said[0]
    assert "等待另一个写入进程" in said[0]
    pages2 = tmp_path / "pages2"
    pages2.mkdir()
    (pages2 / "c.txt").write_text(page("西岸", 64, 180), encoding="utf-8")
    from rag.ingest.pipeline import Ingestor
    from tests.conftest import FakeEmbedder

    Ingestor(first, FakeEmbedder()).run([pages2])  # A writes and commits, then lets go
    first.close()
    b.join(60)
    assert not b.is_alive() and len(result["report"].ingested) == 1
    with Index.open(path) as idx:
        s = idx.stats()
        assert idx.problems() == []
        assert s["sources"] == 4 and s["chunks"] == s["vectors"] == s["bm25_docs"]
        assert s["articles"] == 3 + 300


def test_item01_wait_limit_exits_2_with_the_message(bot) -> None:
    holder = Index.open(bot.settings.index)
    holder.begin()
    try:
        got = cli("delete", "a.txt", "--index", str(bot.settings.index), "--wait", "0")
        assert got.exit_code == 2, got.output
        assert f"waiting for another writer (pid {os.getpid()})" in got.output
    finally:
        holder.close()


# ---- 2. a missing vectors.faiss never empties the index ------------------------------------------
def test_item02_missing_vectors_file_is_reported_never_deleted(bot) -> None:
    path = bot.settings.index
    before = counts(path)
    bot.close()
    (path / "vectors.faiss").unlink()
    got = cli("stats", "--index", str(path), "--json")
    assert got.exit_code == 2
    assert "vectors.faiss" in got.output and "rag repair" in got.output
    assert json.loads(got.stdout)["articles"] == before["articles"]
    assert counts(path) == before  # read-only: nothing deleted
    asked = cli("search", "便民桥", "--index", str(path))
    assert asked.exit_code == 2 and "rag repair" in asked.output
    assert counts(path) == before
    with pytest.raises(IndexDamagedError, match="rag repair"):  # and no writer goes on either
        bot.archive.ingest([Path(__file__).parent / "missing"])
    done = bot.archive.repair()
    assert done["reembedded"] == before["chunks"] and done["problems"] == []
    assert counts(path) == before and bot.archive.stats()["vectors"] == before["chunks"]
    assert bot.search("老街村 便民桥", 1)[0].article.text.count("120米")


# ---- 3. uploads sharing a sanitised name -----------------------------------------------------------
def test_item03_uploads_with_the_same_name_never_replace_each_other(bot, tmp_path: Path) -> None:
    from app.uploads import ingest_uploads

    def upload(name: str, text: str, folder: str) -> Path:
        (tmp_path / folder).mkdir(exist_ok=True)
        f = tmp_path / folder / name
        f.write_text(text, encoding="utf-8")
        return f

    one = upload("第一版.txt", page("南岸", 52, 150), "u1")
    two = upload("第一版.txt", page("北岸", 40, 90), "u2")
    three = upload("温县 新闻.txt", page("上岸", 33, 70), "u3")
    four = upload("温县_新闻.txt", page("下岸", 21, 60), "u4")
    same = upload("copy.txt", page("南岸", 52, 150), "u5")
    got = ingest_uploads(bot, [one, two, three, four])
    assert [r.status for r in got] == ["已添加"] * 4, [r.row() for r in got]
    again = ingest_uploads(bot, [same, one])
    assert [r.status for r in again] == ["未改变", "未改变"]
    assert "第一版.txt" in again[0].detail
    for place, length in (("南岸", 52), ("北岸", 40), ("上岸", 33), ("下岸", 21)):
        hit = bot.search(f"{place}村 便民桥 总长", 1)[0]
        assert f"总长{length}米" in hit.article.text, place
    stored = sorted(
        p.relative_to(bot.settings.index / "uploads").as_posix()
        for p in (bot.settings.index / "uploads").rglob("*.txt")
    )
    assert len(stored) == 4 and len({s.split("/")[0] for s in stored}) == 4


# ---- 4. uploads have a size limit, leave no temporary files, and can need a login --------------------
def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_item04_upload_limit_temp_files_and_login(tmp_path: Path, monkeypatch) -> None:
    import httpx

    from app.ui import ChatApp, parse_auth, serve

    cache = tmp_path / "gradio-cache"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.txt").write_text(page("老街", 120, 300), encoding="utf-8")
    bot = make_fake_bot(tmp_path / "idx", max_upload_mb=1, auth="editor:秘密123")
    bot.archive.ingest([pages])
    port = _free_port()
    demo = serve(bot, "127.0.0.1", port, prevent_thread_lock=True)
    base = f"http://127.0.0.1:{port}/gradio_api"
    try:
        big = ("x" * 1024 * 1024 + "y" * 10).encode()  # just over the 1 MiB limit
        small = page("南岸", 52, 150).encode()
        anonymous = httpx.post(f"{base}/upload", files={"files": ("a.txt", small)}, timeout=30)
        assert anonymous.status_code == 401  # no login, no upload
        client = httpx.Client(timeout=30)
        login = client.post(f"http://127.0.0.1:{port}/login", data={"username": "editor", "password": "秘密123"})
        assert login.status_code == 200, login.text
        refused = client.post(f"{base}/upload", files={"files": ("big.jsonl", big)})
        assert refused.status_code == 413
        kept = [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else []
        assert kept == []  # nothing of the refused upload stays behind
        ok = client.post(f"{base}/upload", files={"files": ("第一版.txt", small)})
        assert ok.status_code == 200
        uploaded = Path(ok.json()[0])
        assert cache in uploaded.parents and uploaded.is_file()
        rows = ChatApp(bot).upload([str(uploaded)])[0]
        assert rows[0][1] == "已添加"
        assert not uploaded.exists()  # handled: Gradio's copy is gone, ours is in the index folder
    finally:
        demo.close()
    assert parse_auth("") is None
    with pytest.raises(ValueError, match="user:password"):
        parse_auth("no-colon")


# ---- 5-12. one bad record must not end the run -------------------------------------------------------
BAD_LINES = {
    "lone surrogate": ('{"id": "s1", "text": "正文\\ud800正文"}', "invalid Unicode"),
    "deep nesting": ("[" * 200_000, "nested too deeply"),
    "text is a list": ('{"id": "l1", "text": ["a", "b"]}', "not a string (a list)"),
    "text is a number": ('{"id": "n1", "text": 12345}', "not a string (a number)"),
    "text is true": ('{"id": "t1", "text": true}', "not a string (true/false)"),
    "text is NaN": ('{"id": "x1", "text": NaN}', "not a string (NaN/Infinity)"),
    "control only": ('{"id": "c1", "text": "\\u0007\\u0008\\u001b"}', "no visible characters"),
    "zero width only": ('{"id": "z1", "text": "\\u200b\\u200c\\ufeff\\u200d"}', "no visible"),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_item05_06_09_bad_record_is_reported_and_the_rest_ingested(tmp_path: Path, case) -> None:
    line, why = BAD_LINES[case]
    data = tmp_path / "mixed.jsonl"
    good = records(2).splitlines()
    data.write_text("\n".join([good[0], line, good[1]]) + "\n", encoding="utf-8")
    later = tmp_path / "later.txt"  # files after the bad one are still read
    later.write_text(page("老街", 120, 300), encoding="utf-8")
    got = cli("ingest", str(data), str(later), "--index", str(tmp_path / "idx"), "--json", "--lexical-only")
    assert got.exit_code == 3, got.output
    report = json.loads(got.stdout)
    assert report["files_ingested"] == 2 and report["articles"] == 3
    assert any("line 2" in w and why in w for w in report["warnings"]), report["warnings"]


def test_item07_non_utf8_file_name_is_ingested_and_printable(tmp_path: Path) -> None:
    folder = tmp_path / "zip"
    folder.mkdir()
    name = "温县新闻.txt".encode("gbk")  # a Windows zip's file name
    with open(os.path.join(os.fsencode(folder), name), "w", encoding="utf-8") as fh:
        fh.write(page("老街", 120, 300))
    (folder / "z.txt").write_text(page("东岸", 86, 240), encoding="utf-8")
    index = tmp_path / "idx"
    got = cli("ingest", str(folder), "--index", str(index), "--json", "--lexical-only")
    assert got.exit_code == 0, got.output
    report = json.loads(got.stdout)
    assert report["files_ingested"] == 2
    found = cli("search", "老街村 便民桥", "--index", str(index), "--json", "-k", "1")
    assert json.loads(found.stdout)["hits"][0]["source"] == "温县新闻.txt"
    gone = cli("delete", os.fsdecode(os.path.join(os.fsencode(folder), name)), "--index", str(index))
    assert gone.exit_code == 0 and "removed" in gone.output


def test_item08_markup_in_ids_and_paths_is_printed_as_is(tmp_path: Path) -> None:
    folder = tmp_path / "t[red]"
    folder.mkdir()
    data = folder / "t[b]a.jsonl"
    data.write_text(records(1, prefix="[/red]") + records(1, prefix="[/red]"), encoding="utf-8")
    (folder / "t[b]a.docx").write_bytes(b"PK")
    got = cli("ingest", str(folder), "--index", str(tmp_path / "idx"), "--lexical-only")
    assert got.exit_code == 3, got.output
    assert "t[red]/t[b]a.docx" in got.output and "[/red]-0" in got.output
    hits = cli("search", "工作简报", "--index", str(tmp_path / "idx"))
    assert hits.exit_code == 0 and "第0号工作简报" in hits.output


@pytest.mark.parametrize("encoding, name", [("big5", "Big5"), ("shift_jis", "Shift-JIS")])
def test_item10_big5_and_shift_jis_are_refused_not_stored_as_garbage(encoding, name) -> None:
    text = {
        "big5": "臺北市政府今日公佈新的交通政策，將於下個月開始實施，市民可以搭乘捷運前往。" * 8,
        "shift_jis": "東京都は本日、新しい政策を発表しました。市民の生活を支援する計画です。" * 8,
    }
    with pytest.raises(LoadError, match=name):
        decode_bytes(text[encoding].encode(encoding))
    plain = "柳溪县委常委会召开扩大会议，听取全县经济运行情况汇报，对岁末年初重点工作作出安排。" * 8
    assert decode_bytes(plain.encode("gb18030"))[1] == "gb18030"  # real GB pages still pass


def test_item11_records_without_ids_in_two_folders_do_not_clash(tmp_path: Path) -> None:
    for folder, word in (("a", "甲"), ("b", "乙")):
        (tmp_path / folder).mkdir()
        rows = [
            json.dumps({"text": f"{word}县第{i}号简报：本月完成道路{i}公里。"}, ensure_ascii=False) for i in range(3)
        ]
        (tmp_path / folder / "news.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    got = cli(
        "ingest", str(tmp_path / "a"), str(tmp_path / "b"), "--index", str(tmp_path / "idx"), "--json", "--lexical-only"
    )
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["articles"] == 6


def test_item12_truncated_xz_keeps_what_was_read_and_says_so(tmp_path: Path) -> None:
    data = lzma.compress(records(700).encode())
    broken = tmp_path / "news.jsonl.xz"
    broken.write_bytes(data[: int(len(data) * 0.7)])
    got = cli("ingest", str(broken), "--index", str(tmp_path / "idx"), "--json", "--lexical-only")
    assert got.exit_code == 3, got.output
    report = json.loads(got.stdout)
    assert report["files_ingested"] == 1 and 256 < report["articles"] < 700
    assert any("reading stopped" in w for w in report["warnings"])
    assert counts(tmp_path / "idx")["articles"] == report["articles"]


# ---- 13-14. damaged files: one clear line, exit 2 ---------------------------------------------------
def test_item13_missing_bm25_params_is_rebuilt_and_reported(bot) -> None:
    path = bot.settings.index
    bot.close()
    (path / "bm25" / "params.index.json").unlink()
    s = cli("stats", "--index", str(path), "--json")
    assert s.exit_code == 2 and "bm25" in s.output and "params.index.json" in s.output
    assert json.loads(s.stdout)["bm25_docs"] == counts(path)["chunks"]  # the truth, not a stale count
    hits = cli("search", "老街村 便民桥", "--index", str(path), "--retriever", "bm25", "--json")
    assert hits.exit_code == 0 and json.loads(hits.stdout)["hits"]  # rebuilt in memory, not empty
    assert bot.archive.repair()["problems"] == []
    assert cli("stats", "--index", str(path)).exit_code == 0


def _zero(p: Path) -> None:
    (p / "vectors.faiss").write_bytes(b"")


def _truncate_vectors(p: Path) -> None:
    f = p / "vectors.faiss"
    f.write_bytes(f.read_bytes()[:100])


def _truncate_sqlite(p: Path) -> None:
    f = p / "rag.sqlite"
    with sqlite3.connect(f) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    f.write_bytes(f.read_bytes()[:8192])


def _garbage_sqlite(p: Path) -> None:
    (p / "rag.sqlite").write_bytes(os.urandom(50_000))
    for extra in ("rag.sqlite-wal", "rag.sqlite-shm"):
        (p / extra).unlink(missing_ok=True)


def _sql(statement: str):
    def change(p: Path) -> None:
        con = sqlite3.connect(p / "rag.sqlite")
        con.execute(statement)
        con.commit()
        con.close()

    return change


DAMAGE = {
    "zero-byte vectors.faiss": (_zero, "vectors.faiss", "rag repair"),
    "truncated vectors.faiss": (_truncate_vectors, "vectors.faiss", "rag repair"),
    "truncated rag.sqlite": (_truncate_sqlite, "rag.sqlite", "--rebuild"),
    "garbage rag.sqlite": (_garbage_sqlite, "rag.sqlite", "--rebuild"),
    "manifest without dim": (_sql("DELETE FROM manifest WHERE key = 'dim'"), "dim", "--rebuild"),
    "missing table": (_sql("DROP TABLE chunks"), "chunks", "--rebuild"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_item14_damaged_file_gets_one_clear_line_and_exit_2(bot, case) -> None:
    damage, names, fix = DAMAGE[case]
    path = bot.settings.index
    bot.close()
    damage(path)
    for command in (["stats"], ["search", "便民桥"], ["delete", "a.txt"]):
        got = cli(*command, "--index", str(path))
        assert got.exit_code == 2, (command, got.output)
        assert names in got.output and fix in got.output, got.output
        assert ("Traceback" not in got.output and got.exception is None) or isinstance(got.exception, SystemExit)


def test_item14_index_pointing_at_a_file(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("x")
    for command in (["stats"], ["ingest", str(f)]):
        got = cli(*command, "--index", str(f))
        assert got.exit_code == 2 and "is a file, not an index folder" in got.output, got.output


# ---- 16. readers never wait for the writer --------------------------------------------------------
def test_item16_questions_are_answered_while_a_writer_holds_the_index(bot, tmp_path: Path) -> None:
    from app.ui import ChatApp

    ui = ChatApp(bot)
    writer = Index.open(bot.settings.index)
    writer.begin()  # an upload or an ingest in the middle of a batch
    upload = tmp_path / "u" / "新页.txt"
    upload.parent.mkdir()
    upload.write_text(page("青石", 77, 200), encoding="utf-8")
    done: list = []
    adding = threading.Thread(target=lambda: done.append(ui.upload([str(upload)])))
    adding.start()  # waits for the writer
    got: list = []
    asking = threading.Thread(target=lambda: got.append(ui.ask_api("老街村等三座便民桥总长多少米？")))
    asking.start()
    asking.join(30)
    assert got and "120米" in got[0]["answer"], "a question waited for the writer"
    assert adding.is_alive()  # the upload is still waiting for the lock
    writer.close()
    adding.join(60)
    assert done and done[0][0][0][1] == "已添加"
    later = ui.ask_api("青石村等三座便民桥总长多少米？")
    assert "77米" in later["answer"]  # the reader sees the committed upload


def test_item16_reader_sees_other_processes_after_an_in_process_upload(bot, tmp_path: Path) -> None:
    """Regression: checking rag.sqlite by opening the file itself (to read its header) dropped
    this process's SQLite locks; another process then checkpointed the WAL away under the open
    reader, which went on serving a stale or "malformed" database."""
    import subprocess
    import sys

    from app.uploads import ingest_uploads
    from rag.store.schema import read_manifest
    from tests.conftest import ROOT

    def commit_elsewhere() -> str:
        code = (
            f"from rag.store import Index; w = Index.open({str(bot.settings.index)!r}); w.begin(); "
            "w.commit_search_indexes(); print(w.manifest['generation'])"
        )
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    bot.search("老街", 1)  # the reader is open
    upload = tmp_path / "u" / "c.txt"
    upload.parent.mkdir()
    upload.write_text(page("西岸", 64, 180), encoding="utf-8")
    assert ingest_uploads(bot, [upload])[0].status == "已添加"
    for _ in range(2):
        generation = commit_elsewhere()
        assert read_manifest(bot.index._conn)["generation"] == generation
    assert bot.index._conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"


# ---- 17. the smaller ones --------------------------------------------------------------------------
def test_item17_symlinked_folder_is_reported(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "p.txt").write_text(page("老街", 120, 300), encoding="utf-8")
    top = tmp_path / "top"
    top.mkdir()
    (top / "q.txt").write_text(page("东岸", 86, 240), encoding="utf-8")
    os.symlink(real, top / "linked")
    got = cli("ingest", str(top), "--index", str(tmp_path / "idx"), "--json", "--lexical-only")
    assert got.exit_code == 3
    skipped = json.loads(got.stdout)["files_skipped"]
    assert skipped[0]["path"].endswith("linked") and "link to a folder" in skipped[0]["reason"]


def test_item17_delete_of_an_unknown_source_exits_2(bot) -> None:
    got = cli("delete", "typo.txt", "--index", str(bot.settings.index))
    assert got.exit_code == 2 and "no such source" in got.output and "typo.txt" in got.output
    by_name = cli("delete", "a.txt", "--index", str(bot.settings.index))
    assert by_name.exit_code == 0 and "removed" in by_name.output


def test_item17_api_errors_do_not_leak_internals(bot) -> None:
    import gradio as gr

    from app.ui import ChatApp

    ui = ChatApp(bot)
    for bad in (
        dict(question=["a", "b"]),
        dict(question="县长是谁？", k="many"),
        dict(question="县长是谁？", paper=["x"]),
    ):
        with pytest.raises(gr.Error) as exc:
            ui.ask_api(**bad)
        assert "attribute" not in str(exc.value) and "object" not in str(exc.value)


def test_item17_negative_k_is_reported_as_given(bot) -> None:
    got = cli("ask", "县长是谁？", "-k", "-1", "--index", str(bot.settings.index))
    assert got.exit_code == 2 and "got -1" in got.output


def test_item17_emptied_file_stops_serving_its_old_articles(bot, tmp_path: Path) -> None:
    a = tmp_path / "pages" / "a.txt"
    assert bot.search("老街村 便民桥", 1)[0].article.source == "a.txt"
    a.write_text("")
    report = bot.archive.ingest([a.parent])
    assert report.skipped and "removed" in report.skipped[0][1]
    assert all(h.article.source != "a.txt" for h in bot.search("老街村 便民桥", 5))
    assert counts(bot.settings.index)["sources"] == 1
