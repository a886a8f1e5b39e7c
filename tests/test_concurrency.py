"""Many readers at once (issue 21): one Assistant answering questions from many threads while
its writer adds a page, the served app running two /ask requests at the same time, and one
index searched from threads while it is written to and reloaded."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from serving import free_port

from rag.models import Article, Source
from rag.store import Index
from rag.store.lock import pid_alive
from tests.conftest import ROOT, UPLOAD_PAGE, FakeEmbedder, copy_index, make_fake_bot, split_sentences

QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "eval" / "questions.jsonl").open(encoding="utf-8")][:6]


def said(answer) -> tuple:
    """What a reader is told: the answer and its citations (not timings or scores)."""
    d = answer.to_dict()
    return d["answer"], d["refused"], json.dumps(d["citations"], ensure_ascii=False, sort_keys=True)


def test_questions_from_many_threads_while_a_page_is_ingested(sample_index: Path, tmp_path: Path) -> None:
    """12 threads ask (each of 6 questions twice, again and again while the ingest runs) one
    Assistant while its writer adds three other pages: no errors, and every answer is the one
    the question gets asked alone (before the pages, or after them: they are about something else)."""
    index = tmp_path / "idx"
    copy_index(sample_index, index)
    bot = make_fake_bot(index)
    alone = {q: said(bot.ask(q)) for q in QUESTIONS}
    pages = tmp_path / "pages"
    pages.mkdir()
    for town, village in (("砚山镇", "白石村"), ("石桥镇", "青石村"), ("云岭镇", "松涧村")):  # a commit each
        text = UPLOAD_PAGE.replace("砚山镇", town).replace("白石村", village).replace("砚山新闻", town[:2] + "新闻")
        (pages / f"{town}.txt").write_text(text, encoding="utf-8")
    ingesting, done = threading.Event(), threading.Event()
    report: list = []

    def ingest() -> None:
        ingesting.set()
        try:
            report.append(bot.archive.ingest([pages]))
        finally:
            done.set()

    def ask(i: int) -> list[tuple[str, tuple]]:
        question = QUESTIONS[i % len(QUESTIONS)]
        ingesting.wait(60)
        got = [(question, said(bot.ask(question)))]
        while not done.is_set() and len(got) < 20:
            got.append((question, said(bot.ask(question))))
        return got

    writer = threading.Thread(target=ingest)
    with ThreadPoolExecutor(12) as pool:
        asked = pool.map(ask, range(12))
        writer.start()
        answers = [a for got in asked for a in got]  # (an exception in a thread is raised here)
    writer.join(120)
    assert report and len(report[0].ingested) == 3 and not report[0].skipped
    after = {q: said(bot.ask(q)) for q in QUESTIONS}
    assert len(answers) >= 12
    for question, answer in answers:
        assert answer in (alone[question], after[question]), question
    assert after == alone  # the page is about something else
    new = bot.ask("白石村渔光互补项目的装机容量是多少？")  # the readers' index picked up the commit
    assert "2.4兆瓦" in new.text and bot.index.manifest["generation"] == Index.peek(index)["generation"]
    bot.close()


class Meeting:
    """The assistant's generator, except that ``question`` waits inside it until ``parties``
    of them are inside at once: a server answering one at a time never lets them through."""

    def __init__(self, inner, question: str, parties: int = 2) -> None:
        self.inner, self.question = inner, question
        self.barrier = threading.Barrier(parties, timeout=60)  # (a deadlock guard, not a timing)
        self.spans: list[tuple[float, float]] = []

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def stream(self, question, hits, history=()):
        if question.text != self.question:
            yield from self.inner.stream(question, hits, history)
            return
        entered = time.monotonic()
        self.barrier.wait()
        yield from self.inner.stream(question, hits, history)
        self.spans.append((entered, time.monotonic()))


def test_the_served_app_answers_two_api_questions_at_once(sample_index: Path, tmp_path: Path) -> None:
    """Two /ask requests through `rag serve`'s app (app.ui.serve) are inside the generator at
    the same time, and both are answered."""
    from gradio_client import Client

    from app.ui import serve

    index = tmp_path / "idx"
    copy_index(sample_index, index)
    bot = make_fake_bot(index)
    question = "鹭江引水工程柳溪段的输水管线有多长？"
    expected = said(bot.ask(question))
    meeting = Meeting(bot.generator(), question)
    bot.use_generator(bot.settings.generator, meeting)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    demo = serve(bot, "127.0.0.1", port, prevent_thread_lock=True)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.1)

        def ask(_: int) -> dict:
            return Client(url, verbose=False, ssl_verify=False).predict(question, 5, "", "", "", "", api_name="/ask")

        with ThreadPoolExecutor(2) as pool:
            got = list(pool.map(ask, range(2)))
    finally:
        demo.close()
        bot.close()
    assert [(g["answer"], g["refused"]) for g in got] == [expected[:2]] * 2 and "46.5公里" in got[0]["answer"]
    (in1, out1), (in2, out2) = meeting.spans
    assert max(in1, in2) < min(out1, out2)  # both were being answered at once


def _articles(prefix: str, n: int) -> tuple[list[Article], list[list]]:
    arts = [
        Article(
            doc_id=f"{prefix}-{i}",
            source=f"{prefix}.txt",
            text=f"{prefix}第{i}号简报：青禾县民生项目完工，道路{i}公里。县住建局牵头验收。",
            headline=f"{prefix}简报{i}",
            paper="青禾日报",
            date="2024-07-01",
        )
        for i in range(n)
    ]
    for a in arts:
        a.end = len(a.text)
    return arts, [split_sentences(a) for a in arts]


def _add(store: Index, embedder: FakeEmbedder, prefix: str, n: int = 8) -> None:
    arts, chunks = _articles(prefix, n)
    sid = store.add_source(Source(path=f"/data/{prefix}.txt", sha256=f"sha-{prefix}", size=1, encoding="utf-8"))
    store.add_articles(sid, arts, chunks, embedder.embed_documents([c.text for cs in chunks for c in cs]))


def test_an_index_read_from_threads_while_it_is_written_and_reloaded(small_index: Index, index_path: Path) -> None:
    """Reader threads search one Index while it writes through itself and another writer (a
    second Index) commits: no errors, and every look at its search state sees one generation
    (as many vectors as BM25 documents: both come from the same commit)."""
    embedder = FakeEmbedder()
    query = np.asarray(embedder.embed_query("民生项目 道路"), dtype=np.float32)
    stop = threading.Event()
    seen: list[tuple[int, int]] = []

    def read() -> int:
        looks = 0
        while not stop.is_set() or looks < 5:
            small_index.refresh()
            ids = [cid for cid, _ in small_index.vector_search(query, 10)]
            ids += [cid for cid, _ in small_index.lexical_search("民生项目 道路", 10)]
            small_index.chunks_by_ids(ids)
            s = small_index.stats()
            seen.append((s["vectors"], s["bm25_docs"]))
            looks += 1
        return looks

    with ThreadPoolExecutor(4) as pool:
        readers = [pool.submit(read) for _ in range(4)]
        try:
            for round_ in range(3):
                with small_index.batch():  # written through the index the readers read
                    _add(small_index, embedder, f"self{round_}")
                with Index.open(index_path) as other, other.batch():  # another writer; readers reload
                    _add(other, embedder, f"other{round_}")
        finally:
            stop.set()  # (a failed write must not leave the readers running)
        assert all(r.result(120) >= 5 for r in readers)
    assert seen and all(vectors == docs for vectors, docs in seen), sorted(set(seen))
    small_index.refresh()
    final = small_index.stats()
    assert final["chunks"] == final["vectors"] == final["bm25_docs"]
    assert final["articles"] == 6 + 6 * 8


def test_a_reader_leaves_a_running_writers_deferred_bm25_to_it(small_index: Index, index_path: Path) -> None:
    """An ingest defers BM25 to its last commit: a reader reloading in between searches the new
    vectors and waits for that BM25 rather than build one of its own; a writer gone without
    writing it (killed) leaves it to the reader."""
    embedder = FakeEmbedder()

    def counts() -> tuple[int, int, int]:
        s = small_index.stats()
        return s["chunks"], s["vectors"], s["bm25_docs"]

    with Index.open(index_path) as writer:
        with writer.batch(bm25=False):
            _add(writer, embedder, "deferred")
        assert small_index.refresh()
        chunks, vectors, docs = counts()
        assert chunks == vectors and docs < chunks  # dense finds the new chunks; BM25 waits
        writer.commit_search_indexes()  # the writer's last commit writes BM25
    assert small_index.refresh() and len(set(counts())) == 1
    with Index.open(index_path) as writer, writer.batch(bm25=False):
        _add(writer, embedder, "killed")
    gone = next(str(pid) for pid in range(4_000_000, 4_100_000) if not pid_alive(str(pid)))
    with sqlite3.connect(index_path / "rag.sqlite") as db:  # as if its process had been killed
        db.execute("UPDATE manifest SET value = ? WHERE key = 'bm25_deferred_by'", (gone,))
    assert small_index.refresh() and len(set(counts())) == 1
