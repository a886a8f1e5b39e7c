"""The Milvus store through the whole product, against the real engine (milvus-lite 2.5, the
Milvus engine in-process; the same client code talks to a server): the CLI end to end, the
copy of an embedded index, replaced and deleted files, SIGKILL in the middle of an ingest.

The contract itself (search, fetch, catalog, filters, the pipeline) runs on every store in
tests/test_contract.py.  Tests that start child processes (each starting the engine: a second
or more) are marked ``slow``: ``make test`` and CI run them, ``make test-fast`` does not.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.embeddings.fake import FAKE_HASH
from rag.models import Article, Chunk, Source
from tests.conftest import ROOT, SAMPLE, copy_index, milvus_target

runner = CliRunner()
QUESTION = "鹭江引水工程柳溪段的输水管线有多长？"


def cli(*args: str, ok: bool = True) -> dict:
    result = runner.invoke(app, [*args, "--json"], env={"RAG_EMBEDDING_MODEL": FAKE_HASH})
    if ok:
        assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if result.exit_code == 0 else {"exit": result.exit_code, "out": result.output}


def on_milvus(index: Path, uri: str) -> list[str]:
    return ["--index", str(index), "--store", "milvus", "--milvus-uri", uri]


def hits(args: list[str], query: str, retriever: str, k: int = 20) -> list[dict]:
    return cli("search", query, *args, "--retriever", retriever, "-k", str(k))["hits"]


@pytest.mark.slow  # child processes, each starting the engine: in make test, not test-fast
def test_cli_ingest_ask_search_delete_on_milvus(tmp_path: Path) -> None:
    uri, _ = milvus_target(tmp_path)
    where = on_milvus(tmp_path / "sample", uri)
    report = cli("ingest", str(SAMPLE), *where)
    assert report["files_ingested"] == 4 and report["chunks"] > 20
    stats = cli("stats", *where)
    assert stats["chunks"] == stats["vectors"] == stats["bm25_docs"] == report["chunks"]
    assert stats["manifest"]["model_id"] == FAKE_HASH and stats["articles"] == report["articles"]
    answer = cli("ask", QUESTION, *where)
    assert "46.5公里" in answer["answer"] and answer["citations"][0]["source"] == "page_02.txt"
    for retriever in ("bm25", "dense", "hybrid"):
        assert any(h["source"] == "page_02.txt" for h in hits(where, "鹭江引水工程 输水管线", retriever))
    filtered = cli("search", "年货节", *where, "--since", "2024-03", "--until", "2024-03")["hits"]
    assert filtered and all(h["date"].startswith("2024-03") for h in filtered)

    deleted = runner.invoke(
        app, ["delete", str(SAMPLE / "page_02.txt"), *where], env={"RAG_EMBEDDING_MODEL": FAKE_HASH}
    )
    assert deleted.exit_code == 0 and deleted.output.startswith("removed ") and "removed 0 " not in deleted.output
    after = cli("stats", *where)
    assert after["chunks"] < stats["chunks"] and after["sources"] == 3
    for retriever in ("bm25", "dense", "hybrid"):
        assert all(h["source"] != "page_02.txt" for h in hits(where, "鹭江引水工程 输水管线", retriever))
    again = cli("ask", QUESTION, *where)
    assert all(c["source"] != "page_02.txt" for c in again["citations"])
    back = cli("ingest", str(SAMPLE), *where)  # the deleted file comes back, the rest is unchanged
    assert back["files_ingested"] == 1 and back["files_unchanged"] == 3
    assert cli("stats", *where)["chunks"] == stats["chunks"]


@pytest.mark.slow  # child processes, each starting the engine: in make test, not test-fast
def test_a_mismatched_model_is_refused_as_in_the_embedded_store(tmp_path: Path) -> None:
    uri, _ = milvus_target(tmp_path)
    where = on_milvus(tmp_path / "sample", uri)
    cli("ingest", str(SAMPLE / "page_01.txt"), *where)
    result = runner.invoke(app, ["search", "年货节", *where], env={"RAG_EMBEDDING_MODEL": "fake:other"})
    assert result.exit_code == 2 and "was built with model fake:hash" in result.output
    missing = runner.invoke(app, ["stats", "--index", str(tmp_path / "none"), "--store", "milvus", "--milvus-uri", uri])
    assert missing.exit_code == 2 and "no index in Milvus" in missing.output


def test_migrate_copies_the_vectors_and_answers_alike(sample_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "sample"
    copy_index(sample_index, index)
    uri, _ = milvus_target(tmp_path)
    copied = cli("migrate", "--to", "milvus", "--index", str(index), "--milvus-uri", uri)
    embedded, milvus = cli("stats", "--index", str(index)), cli("stats", *on_milvus(index, uri))
    assert copied["articles"] == embedded["articles"] == milvus["articles"]
    assert copied["chunks"] == embedded["chunks"] == milvus["chunks"] == milvus["vectors"]
    for retriever in ("dense", "bm25"):
        here = hits(["--index", str(index)], QUESTION, retriever, 10)
        there = hits(on_milvus(index, uri), QUESTION, retriever, 10)
        assert here[0]["doc_id"] == there[0]["doc_id"] and here[0]["source"] == "page_02.txt"
        if retriever == "dense":  # the same vectors: the same cosines, article by article
            theirs = {h["doc_id"]: h["score"] for h in there}
            shared = [(h["score"], theirs[h["doc_id"]]) for h in here if h["doc_id"] in theirs]
            assert len(shared) >= 8 and np.allclose(*zip(*shared), atol=1e-4)
    again = cli("migrate", "--to", "milvus", "--index", str(index), "--milvus-uri", uri)
    assert again["sources_unchanged"] == 4 and again["articles"] == 0  # resumable: nothing left to copy
    repaired = runner.invoke(app, ["repair", *on_milvus(index, uri)], env={"COLUMNS": "400"})  # issue 34 item 6
    assert repaired.exit_code == 0, repaired.output
    assert "nothing to re-embed or rebuild" in repaired.output and "BM25 rebuilt" not in repaired.output


def _store(tmp_path: Path, manifest: dict):
    from rag.store.milvus import MilvusStore

    uri, prefix = milvus_target(tmp_path)
    return MilvusStore.create_or_open(uri, prefix, manifest)


def _article(doc_id: str, text: str) -> tuple[Article, list[Chunk]]:
    return Article(doc_id, "a.txt", text, headline=doc_id, paper="测试日报"), [Chunk(0, text, 0, len(text), 0)]


def _add(store, path: str, sha: str, docs: dict[str, str], embedder) -> int:
    sid = store.add_source(Source(path, sha, 10))
    pairs = [_article(d, t) for d, t in docs.items()]
    store.add_articles(sid, [a for a, _ in pairs], [c for _, c in pairs], embedder.embed_documents(list(docs.values())))
    store.set_source_status(sid, "ok")
    return sid


def test_a_replacement_cut_short_is_mended_by_the_next_writer(tmp_path: Path, manifest, fake_embedder) -> None:
    """A changed file's new rows written, its old version's not yet deleted (a crash between
    the two steps): the next writer deletes the leftovers; nothing is doubled or lost."""
    store = _store(tmp_path, manifest)
    with store.batch():
        _add(
            store,
            "/data/a.txt",
            "v1",
            {"a1": "旧版第一篇，温县山药。", "a2": "旧版第二篇，孟州年货节。"},
            fake_embedder,
        )
    with store.batch():  # the interrupted replacement: no delete_source
        new = _add(store, "/data/a.txt", "v2", {"a1": "新版第一篇，温县山药丰收。"}, fake_embedder)
    assert store.stats()["sources"] == 2 and store.source_by_path("/data/a.txt").id == new
    store.close()
    store = _store(tmp_path, manifest)
    store.begin()  # the next writer
    store.release()
    stats = store.stats()
    assert stats["sources"] == 1 and stats["articles"] == 1 and stats["chunks"] == 1
    assert store.doc_ids_of_source(new) == {"a1"} and store.lexical_search("年货节", 5) == []
    ((chunk, article),) = store.chunks_by_ids([cid for cid, _ in store.lexical_search("山药", 5)])
    assert article.text == "新版第一篇，温县山药丰收。" and chunk.text == article.text


def _regions(lines: int) -> str:
    rows = [[1, 10, 20 + 30 * i, 500, 45 + 30 * i, 12 * i, 12 * i + 12] for i in range(lines)]
    return json.dumps({"file": "/data/p.png", "kind": "image", "pages": {"1": [1240, 1754]}, "lines": rows})


def test_a_long_article_is_stored_in_parts_and_read_back_whole(tmp_path: Path, manifest, fake_embedder) -> None:
    """Text and page regions (an article read from a scan keeps where its lines stand: a full
    page's lines run to ~38,000 characters of JSON) span parts; both are read back whole."""
    store = _store(tmp_path, manifest)
    text = "柳溪县" + "很长的报道内容。" * 5000  # 40,003 characters: three parts
    regions = _regions(800)
    article, chunks = _article("long", text)
    article.regions = regions
    with store.batch():
        sid = store.add_source(Source("/data/long.png", "x", 10))
        store.add_articles(sid, [article], [chunks], fake_embedder.embed_documents([text]))
        store.set_source_status(sid, "ok")
    ((_, back),) = store.chunks_by_ids([store.lexical_search("柳溪县", 1)[0][0]])
    assert back.text == text and back.regions == regions and store.stats()["articles"] == 1


def test_a_collection_made_before_page_regions_still_takes_articles(
    tmp_path: Path, manifest, fake_embedder, monkeypatch
) -> None:
    from rag.store.milvus import schema

    monkeypatch.setitem(schema.FIELDS, "articles", schema.FIELDS["articles"].replace(" regions", ""))
    store = _store(tmp_path, manifest)  # the collections as issue 18 made them
    monkeypatch.undo()
    article, chunks = _article("old", "温县山药丰收。")
    article.regions = _regions(3)
    with store.batch():
        sid = store.add_source(Source("/data/q.png", "s", 10))
        store.add_articles(sid, [article], [chunks], fake_embedder.embed_documents([article.text]))
        store.set_source_status(sid, "ok")
    ((_, back),) = store.chunks_by_ids([store.lexical_search("山药", 1)[0][0]])
    assert back.text == "温县山药丰收。" and back.regions == ""


def _child(index: Path, uri: str, data: Path) -> subprocess.Popen:
    """`rag ingest --store milvus` as the façade runs it, printing the articles committed after
    every batch (milvus-lite lets one process open a file, so the test cannot look inside)."""
    code = (
        "import sys\n"
        "from rag.assistant import Assistant\nfrom rag.settings import Settings\n"
        f"bot = Assistant(Settings.load(index={str(index)!r}, store='milvus', milvus_uri={uri!r}, "
        f"embedding_model={FAKE_HASH!r}))\n"
        f"bot.archive.ingest([__import__('pathlib').Path({str(data)!r})],\n"
        "    progress=lambda e: print(e.articles, flush=True))\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


@pytest.mark.slow  # child processes, each starting the engine: in make test, not test-fast
def test_sigkill_during_a_milvus_ingest_resumes_without_duplicates(tmp_path: Path) -> None:
    from tests.test_reliability import records

    data = tmp_path / "briefs.jsonl"
    data.write_text(records(900), encoding="utf-8")
    uri = str(tmp_path / "milvus.db")
    index = tmp_path / "idx"
    rng = random.Random(7)
    trials = []
    # (progress lines to wait for, then seconds before the kill)
    for lines, delay in [(0, 1.5), (1, rng.uniform(0.0, 0.2)), (1, rng.uniform(0.2, 0.6)), (2, 0.0)]:
        proc = _child(index, uri, data)
        watchdog = threading.Timer(300, proc.kill)  # a hung child fails the test instead of hanging it
        watchdog.start()
        seen = [proc.stdout.readline() for _ in range(lines)] if proc.stdout else []
        watchdog.cancel()
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        trials.append((lines, round(delay, 2), killed, [s.strip() for s in seen]))
    print("kill -9 trials (lines, delay s, killed, progress seen):", trials)
    assert sum(t[2] for t in trials) >= 2
    done = _child(index, uri, data)
    done.communicate(timeout=600)
    assert done.returncode == 0
    stats = cli("stats", *on_milvus(index, uri))
    embedded = tmp_path / "embedded"
    assert cli("ingest", str(data), "--index", str(embedded))["articles"] == 900
    assert stats["articles"] == 900 and stats["sources"] == 1
    assert stats["chunks"] == cli("stats", "--index", str(embedded))["chunks"]  # no chunk twice, none lost
    assert cli("ingest", str(data), *on_milvus(index, uri))["files_unchanged"] == 1  # complete: a no-op


@pytest.mark.slow  # child processes, each starting the engine: in make test, not test-fast
def test_the_chat_server_answers_from_milvus(sample_index: Path, tmp_path: Path) -> None:
    """`rag serve` with RAG_STORE=milvus: the UI's /ask API answers from the Milvus copy."""
    from gradio_client import Client
    from serving import served

    index = tmp_path / "sample"
    copy_index(sample_index, index)
    uri = str(tmp_path / "milvus.db")
    cli("migrate", "--index", str(index), "--milvus-uri", uri)
    env = {"RAG_STORE": "milvus", "RAG_MILVUS_URI": uri, "RAG_EMBEDDING_MODEL": FAKE_HASH}
    with served(index, env=env) as url:
        answer = Client(url, verbose=False).predict(QUESTION, 5, "", "", "", "", api_name="/ask")
    assert "46.5公里" in answer["answer"] and answer["citations"][0]["source"] == "page_02.txt"


@pytest.mark.slow  # child processes, each starting the engine: in make test, not test-fast
def test_a_changed_file_replaces_its_articles_and_lexical_only_works(tmp_path: Path) -> None:
    uri = str(tmp_path / "milvus.db")
    page = tmp_path / "pages" / "page_01.txt"
    page.parent.mkdir()
    shutil.copy(SAMPLE / "page_01.txt", page)
    where = [*on_milvus(tmp_path / "idx", uri), "--lexical-only"]
    first = cli("ingest", str(page), *where)
    before = cli("stats", *where[:-1])
    assert before["vectors"] == 0 and before["manifest"]["dim"] == "0"
    changed = re.sub(r"年(\s*)货(\s*)节", r"迎\1春\2会", page.read_text(encoding="utf-8"))  # column breaks too
    page.write_text(changed, encoding="utf-8")
    again = cli("ingest", str(page), *where)
    after = cli("stats", *where[:-1])
    assert again["files_ingested"] == 1 and after["articles"] == first["articles"] == again["articles"]
    assert after["chunks"] == before["chunks"] and after["sources"] == 1
    assert hits(where[:-1], "迎春会", "hybrid", 5)  # hybrid falls back to BM25 without vectors
    assert all("年货节" not in h["text"] for h in hits(where[:-1], "年货节", "bm25", 20))
