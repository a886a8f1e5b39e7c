"""Nothing lost, second pass (issue 33): NUL bytes, a removed bm25/, an empty input folder, a
damaged generation counter — each found by a probe of the landed code and failing before."""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import socket
import sqlite3
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.login import LoginGuard
from rag.cli import app
from rag.ingest.records import read_records
from rag.store import Index
from tests.conftest import FAKE_HASH, SAMPLE, build_small
from tests.test_concurrency import _add

runner = CliRunner()
ENV = {"RAG_EMBEDDING_MODEL": FAKE_HASH}


def cli(*args: str):
    return runner.invoke(app, list(args), env=ENV)


def test_item1_a_nul_past_the_first_4k_is_removed_with_a_warning(tmp_path: Path) -> None:
    raw = (SAMPLE / "page_01.txt").read_bytes()
    cut = raw.index(b"\n", 4100)  # past the binary check of the first 4 KiB
    page = tmp_path / "page_01.txt"
    page.write_bytes(raw[:cut] + b"\x00" + raw[cut:])
    got = cli("ingest", str(page), "--index", str(tmp_path / "idx"), "--json")
    assert got.exit_code == 3, got.output  # ingested, and said
    report = json.loads(got.stdout)
    assert report["articles"] > 0 and any("1 NUL characters removed" in w for w in report["warnings"])
    with sqlite3.connect(tmp_path / "idx" / "rag.sqlite") as conn:
        query = "SELECT COUNT(*), SUM(instr(text, char(0)) > 0), SUM(length(text)) FROM articles"
        stored = conn.execute(query).fetchone()
    assert stored[0] == report["articles"] and stored[1] == 0
    clean = cli("ingest", str(SAMPLE / "page_01.txt"), "--index", str(tmp_path / "clean"), "--json")
    with sqlite3.connect(tmp_path / "clean" / "rag.sqlite") as conn:
        assert conn.execute("SELECT SUM(length(text)) FROM articles").fetchone()[0] == stored[2]  # nothing cut
    assert clean.exit_code == 0


def test_item1_a_nul_in_the_first_4k_refuses_the_file_with_a_reason(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(b"\x00" + (SAMPLE / "page_01.txt").read_bytes())
    got = cli("ingest", str(page), "--index", str(tmp_path / "idx"), "--json")
    assert got.exit_code == 1, got.output
    assert [s["reason"] for s in json.loads(got.stdout)["files_skipped"]] == ["binary file (NUL bytes)"]


def test_item10_a_removed_bm25_folder_is_named_and_repaired(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    assert cli("ingest", str(SAMPLE), "--index", str(index)).exit_code == 0
    shutil.rmtree(index / "bm25")
    stats = cli("stats", "--index", str(index), "--json")
    assert stats.exit_code == 2 and f"{index / 'bm25'}: missing" in stats.output
    hits = cli("search", "县委常委会", "--index", str(index), "--retriever", "bm25", "--json")
    assert hits.exit_code == 0 and json.loads(hits.stdout)["hits"]  # rebuilt in memory meanwhile
    assert cli("repair", "--index", str(index)).exit_code == 0
    assert (index / "bm25").is_dir() and cli("stats", "--index", str(index)).exit_code == 0


def test_item17_an_empty_folder_ingests_nothing_and_exits_1(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    got = cli("ingest", str(empty), "--index", str(tmp_path / "idx"))
    assert got.exit_code == 1 and "nothing to ingest" in got.output


def test_item11_a_damaged_generation_counter_does_not_block_writes(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    assert cli("ingest", str(SAMPLE / "page_01.txt"), "--index", str(index)).exit_code == 0
    with sqlite3.connect(index / "rag.sqlite") as conn:
        conn.execute("UPDATE manifest SET value = 'x' WHERE key = 'generation'")
    assert cli("ingest", str(SAMPLE / "page_02.txt"), "--index", str(index)).exit_code == 0
    assert cli("repair", "--index", str(index)).exit_code == 0
    stats = json.loads(cli("stats", "--index", str(index), "--json").stdout)
    assert stats["sources"] == 2 and stats["chunks"] == stats["vectors"] == stats["bm25_docs"]
    assert int(stats["manifest"]["generation"]) > 0


def test_item13_record_dates_are_read_or_reported_never_stored_invalid(tmp_path: Path) -> None:
    dates = {
        "a": "２０２３年１月１０日",  # full-width
        "b": "2023/1/11",
        "c": "2023-08-17 15:15:57",
        "d": "9999-99-99",
        "e": "2023-02-30",
        "f": "-5000-01-01",
    }
    lines = [
        json.dumps(
            {"id": k, "title": f"简报{k}", "text": f"青禾县第{k}号简报：道路修缮完工。", "date": v}, ensure_ascii=False
        )
        for k, v in dates.items()
    ]
    records = tmp_path / "briefs.jsonl"
    records.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = cli("ingest", str(records), "--index", str(tmp_path / "idx"), "--json")
    assert got.exit_code == 3, got.output  # all six kept; three dates reported
    report = json.loads(got.stdout)
    assert report["articles"] == 6
    bad = [w for w in report["warnings"] if "is not a real date" in w]
    assert len(bad) == 3 and all(v in " ".join(bad) for v in ("9999-99-99", "2023-02-30", "-5000-01-01"))
    with sqlite3.connect(tmp_path / "idx" / "rag.sqlite") as conn:
        stored = dict(conn.execute("SELECT doc_id, date FROM articles"))
    assert stored == {"a": "2023-01-10", "b": "2023-01-11", "c": "2023-08-17", "d": "", "e": "", "f": ""}
    stats = json.loads(cli("stats", "--index", str(tmp_path / "idx"), "--json").stdout)
    assert stats["date_range"] == ["2023-01-10", "2023-08-17"]


def test_item5_a_decompression_bomb_line_is_skipped_with_memory_bounded(tmp_path: Path) -> None:
    """One 64 MiB line in 0.3 MB of gzip, then a good record: the good one is read, the long one
    reported, and reading it never holds more than the line limit (16 M characters)."""
    bomb = tmp_path / "news.jsonl.gz"
    with gzip.open(bomb, "wb", compresslevel=1) as out:
        out.write(b'{"id": "bomb", "text": "')
        for _ in range(64):
            out.write(b"a" * (1 << 20))
        out.write(b'"}\n' + json.dumps({"id": "ok", "text": "青禾县道路修缮完工。"}).encode() + b"\n")
    assert bomb.stat().st_size < 1 << 20
    errors: list = []
    tracemalloc.start()
    try:
        read = [r.id for r in read_records(bomb, errors)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read == ["ok"] and [str(e) for e in errors] == ["line 1: longer than 16 M characters: skipped"]
    assert peak < 48 * 2**20, peak / 2**20  # the whole line is 64 MiB
    got = cli("ingest", str(bomb), "--index", str(tmp_path / "idx"), "--json", "--lexical-only")
    assert got.exit_code == 3, got.output
    report = json.loads(got.stdout)
    assert report["articles"] == 1 and any("longer than 16 M characters" in w for w in report["warnings"])


@pytest.mark.slow
def test_item4_a_running_server_follows_a_rebuild_and_what_comes_after(tmp_path: Path) -> None:
    from gradio_client import Client
    from serving import served  # bench/serving.py

    pages, others, index = tmp_path / "pages", tmp_path / "others", tmp_path / "idx"
    shutil.copytree(SAMPLE, pages)
    others.mkdir()
    for page in sorted(pages.glob("page_0[234].*")):
        shutil.copy(page, others / page.name)
    assert cli("ingest", str(pages), "--index", str(index)).exit_code == 0
    question = "柳溪县委常委会召开第几次扩大会议？"
    with served(index, env=ENV) as url:
        client = Client(url, verbose=False)

        def sources() -> set[str]:
            return {h["source"] for h in client.predict(question, 5, "", "", "", "", api_name="/ask")["hits"]}

        assert "page_01.txt" in sources()
        assert cli("ingest", str(others), "--index", str(index), "--rebuild").exit_code == 0
        assert "page_01.txt" not in sources()  # the rebuilt index, not the deleted files
        assert cli("ingest", str(pages / "page_01.txt"), "--index", str(index)).exit_code == 0
        assert "page_01.txt" in sources()  # a file ingested afterwards is answered


def test_item14_a_commit_landing_while_a_reader_opens_is_not_taken_for_missing_vectors(
    index_path: Path, fake_embedder, manifest
) -> None:
    """A reader loads the files of generation G; a writer commits G+1; the reader then compares
    SQLite with its files (as ``rag stats`` does right after opening): it must see one
    generation, not G+1's new chunks as chunks without vectors."""
    build_small(Index.create_or_open(index_path, manifest), fake_embedder).close()
    reader = Index.open(index_path, manifest)
    with Index.open(index_path, manifest) as writer:
        _add(writer, fake_embedder, "later")
        writer.commit_search_indexes()
    reader._reconcile()  # what opening does once the files are loaded
    try:
        assert reader.problems() == []
        s = reader.stats()
        assert s["chunks"] == s["vectors"] == s["bm25_docs"]
    finally:
        reader.close()


def test_item7_wrong_passwords_lock_the_name_out_and_slow_down(caplog) -> None:
    now = [0.0]
    waited: list[float] = []
    guard = LoginGuard(
        "editor", "秘密123", max_failures=5, window=300, lockout=300, clock=lambda: now[0], sleep=waited.append
    )
    with caplog.at_level(logging.WARNING, logger="app.login"):
        assert [guard("editor", f"guess{i}") for i in range(5)] == [False] * 5
        assert waited == sorted(waited) and waited[-1] > waited[0]  # each wrong answer slower
        assert guard("editor", "秘密123") is False  # locked out, even with the right password
        now[0] += 301
        assert guard("editor", "秘密123") is True  # the lockout ends
    assert any("locked for 'editor'" in r.getMessage() for r in caplog.records)
    assert sum("wrong password for" in r.getMessage() for r in caplog.records) == 4


def test_item7_the_served_login_locks_out_after_five_wrong_passwords(tmp_path: Path) -> None:
    import httpx

    from app.ui import serve
    from tests.conftest import make_fake_bot

    bot = make_fake_bot(tmp_path / "idx", auth="editor:秘密123")
    bot.archive.ingest([SAMPLE / "page_01.txt"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = serve(bot, "127.0.0.1", port, prevent_thread_lock=True)
    try:
        client = httpx.Client(timeout=30)
        login = f"http://127.0.0.1:{port}/login"
        wrong = [client.post(login, data={"username": "editor", "password": f"guess{i}"}) for i in range(5)]
        assert all(r.status_code >= 400 for r in wrong)
        assert client.post(login, data={"username": "editor", "password": "秘密123"}).status_code >= 400
    finally:
        demo.close()
        bot.close()


@pytest.mark.parametrize("name", ["vectors.faiss", "write.lock"])
def test_item11_a_folder_in_place_of_an_index_file_is_named_not_a_traceback(tmp_path: Path, name: str) -> None:
    index = tmp_path / "idx"
    assert cli("ingest", str(SAMPLE / "page_01.txt"), "--index", str(index)).exit_code == 0
    (index / name).unlink()
    (index / name).mkdir()
    for args in (["stats"], ["repair"], ["ingest", str(SAMPLE / "page_02.txt")]):
        got = cli(*args, "--index", str(index))
        assert got.exit_code == 2, (args, got.output)
        assert "is a folder, not the index's file" in got.output and "Traceback" not in got.output
    (index / name).rmdir()
    assert cli("repair", "--index", str(index)).exit_code == 0
    assert cli("stats", "--index", str(index)).exit_code == 0


def _overwrite(path: Path, share: float) -> None:
    """Overwrite ``share`` of a file's bytes in its middle (its header intact: it still loads)."""
    data = bytearray(path.read_bytes())
    start, n = len(data) // 4, int(len(data) * share)
    data[start : start + n] = bytes((b + 101) % 256 for b in data[start : start + n])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage, named",
    [
        (lambda idx: _overwrite(idx / "vectors.faiss", 0.4), "vectors.faiss"),
        (lambda idx: _overwrite(idx / "bm25" / "data.csc.index.npy", 0.1), "bm25"),
    ],
    ids=["vectors", "bm25"],
)
def test_item9_silently_overwritten_search_files_are_named_and_rebuilt(tmp_path: Path, damage, named) -> None:
    index = tmp_path / "idx"
    assert cli("ingest", str(SAMPLE), "--index", str(index)).exit_code == 0
    questions = ["白鹭区划分了多少个三级网格？", "柳溪县委常委会召开第几次扩大会议？", "鹭江引水工程总投资多少？"]

    def tops() -> list[list[str]]:
        found = []
        for q in questions:
            got = cli("search", q, "--index", str(index), "--json", "-k", "5")
            found.append([h["doc_id"] for h in json.loads(got.stdout)["hits"]])
        return found

    before = tops()
    damage(index)
    stats = cli("stats", "--index", str(index))
    assert stats.exit_code == 2 and f"{index / named}: its contents changed" in " ".join(stats.output.split())
    repaired = cli("repair", "--index", str(index))
    assert repaired.exit_code == 0, repaired.output
    assert cli("stats", "--index", str(index)).exit_code == 0
    assert tops() == before  # rebuilt from rag.sqlite: the same answers as before the damage


def test_item5_a_compressed_file_that_unpacks_past_the_limit_stops_there(tmp_path: Path) -> None:
    """Many ordinary lines (each under the line limit) adding up past ``max_expanded_mb``: the
    records before the limit are kept, reading stops with the reason, the rest is never unpacked."""
    bomb = tmp_path / "many.jsonl.gz"
    good = json.dumps({"id": "first", "text": "青禾县道路修缮完工，全长三公里。"}, ensure_ascii=False).encode()
    filler = json.dumps({"id": "x", "text": "a" * (1 << 20)}).encode() + b"\n"
    with gzip.open(bomb, "wb", compresslevel=1) as out:
        out.write(good + b"\n")
        for _ in range(40):  # 40 MiB unpacked
            out.write(filler)
    got = runner.invoke(
        app,
        ["ingest", str(bomb), "--index", str(tmp_path / "idx"), "--json", "--lexical-only"],
        env={**ENV, "RAG_MAX_EXPANDED_MB": "8"},
    )
    assert got.exit_code == 3, got.output
    report = json.loads(got.stdout)
    assert report["articles"] >= 1
    assert any("unpacks to more than 8 MB (max_expanded_mb)" in w for w in report["warnings"]), report
    errors: list = []
    with pytest.raises(Exception, match="unpacks to more than 8 MB"):
        list(read_records(bomb, errors, max_expanded=8 << 20))


def test_item11_damage_found_after_opening_names_the_file(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    assert cli("ingest", str(SAMPLE), "--index", str(index)).exit_code == 0
    db = index / "rag.sqlite"
    size = db.stat().st_size
    with db.open("r+b") as fh:  # the tables' pages, not the header and schema the opening checks
        fh.seek(size // 2)
        fh.write(b"\x13" * (size - size // 2))
    got = cli("stats", "--index", str(index))
    assert got.exit_code == 2 and "Traceback" not in got.output
    assert f"{db} is damaged" in got.output and f"--index {index} --rebuild" in got.output
