"""The index store: SQLite + FAISS + BM25 kept in step, manifest checks, deletes, recovery."""

from __future__ import annotations

import shutil
import sqlite3

import numpy as np
import pytest

from rag.models import Article, Chunk, Filters, Source
from rag.retrieval import BM25Retriever
from rag.store import Index, IndexMismatchError, IndexNotFoundError, IndexStoreError, files, make_manifest
from rag.store.vectors import VectorStore
from tests.conftest import CHUNKER_VERSION, DOCS, ingest_source


def sqlite_ids(index: Index) -> np.ndarray:
    with sqlite3.connect(index.path / "rag.sqlite") as conn:
        return np.array([r[0] for r in conn.execute("SELECT id FROM chunks ORDER BY id")])


def assert_in_step(index: Index, bm25_on_disk: bool = True) -> None:
    """SQLite, the in-memory and on-disk FAISS and BM25 hold exactly the same chunk ids."""
    ids = sqlite_ids(index)
    assert np.array_equal(np.sort(index.vectors.ids()), ids)
    assert np.array_equal(index.bm25_ids, ids)
    on_disk = VectorStore.load(index.path / "vectors.faiss", index.dim)
    assert np.array_equal(np.sort(on_disk.ids()), ids)
    _, disk_bm25_ids = files.load_bm25(index.path / "bm25")
    assert np.array_equal(disk_bm25_ids, ids) == bm25_on_disk


def test_round_trip(small_index: Index):
    stats = small_index.stats()
    assert stats["sources"] == 2 and stats["articles"] == len(DOCS)
    ids = sqlite_ids(small_index)
    pairs = small_index.chunks_by_ids(ids[::-1])
    assert [c.id for c, _ in pairs] == list(ids[::-1])  # order of the request kept
    by_doc = {d.doc_id: d for d in DOCS}
    for chunk, article in pairs:
        doc = by_doc[article.doc_id]
        assert (article.headline, article.paper, article.date, article.page, article.section) == (
            doc.headline,
            doc.paper,
            doc.date,
            doc.page,
            doc.section,
        )
        assert article.source == doc.source  # the file name, as ingestion sets it
        assert article.text == doc.text
        assert article.text[chunk.start : chunk.end] == chunk.text
        assert chunk.article_id == article.id
        assert small_index.article(article.id) == article
    assert small_index.chunks_by_ids([10**9]) == []
    assert small_index.article(10**9) is None


def test_ids_assigned_on_objects(index_path, fake_embedder, manifest):
    with Index.create_or_open(index_path, manifest) as index:
        sid = index.add_source(Source(path="/x/a.txt", sha256="abc", size=3))
        art = Article(doc_id="d1", source="/x/a.txt", text="黄河大桥通车。", headline="大桥")
        chunk = Chunk(article_id=0, text="黄河大桥通车。", start=0, end=7, position=0)
        ids = index.add_articles(sid, [art], [[chunk]], fake_embedder.embed_documents([chunk.text]))
        index.commit_search_indexes()
        assert ids == [art.id] and chunk.article_id == art.id and chunk.id is not None
        assert index.source_by_sha("abc").id == sid
        assert index.source_by_path("/x/a.txt").sha256 == "abc"
        assert index.source_by_sha("nope") is None


def test_counts_agree_and_survive_reopen(small_index: Index, manifest):
    stats = small_index.stats()
    assert stats["chunks"] == stats["vectors"] == stats["bm25_docs"] > len(DOCS)
    assert stats["papers"] == {"焦作日报": 3, "河南日报": 3}
    assert stats["date_range"] == ("2022-12-20", "2023-03-15")
    assert stats["manifest"]["model_id"] == "fake:hash" and stats["size_bytes"] > 0
    assert_in_step(small_index)
    path, ids = small_index.path, sqlite_ids(small_index)
    small_index.close()
    with Index.open(path, manifest) as again:
        assert_in_step(again)
        assert np.array_equal(sqlite_ids(again), ids)  # ids stable
        assert again.stats()["chunks"] == stats["chunks"]


def test_layout_wal_and_no_temporary_files(small_index: Index):
    names = {p.name for p in small_index.path.iterdir()}
    assert {"rag.sqlite", "vectors.faiss", "bm25"} <= names
    assert not any(n.endswith((".tmp", ".old")) for n in names)
    assert (small_index.path / "bm25" / "chunk_ids.npy").exists()
    with sqlite3.connect(small_index.path / "rag.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        idx = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"articles_date", "articles_paper", "articles_source"} <= idx


def test_manifest_recorded(small_index: Index):
    m = small_index.manifest
    assert m["model_id"] == "fake:hash" and m["dim"] == "64"
    assert m["chunker_version"] == CHUNKER_VERSION and m["schema_version"] == "1"
    assert m["tokenizer"] == "jieba-search" and m["created_at"]


@pytest.mark.parametrize(
    "change, words",
    [
        (
            {"model_id": "intfloat/multilingual-e5-small", "dim": 384},
            ["fake:hash (dim 64)", "intfloat/multilingual-e5-small (dim 384)"],
        ),
        ({"dim": 32}, ["dim 64", "dim 32"]),
        ({"chunker_version": "v2"}, [CHUNKER_VERSION, "v2"]),
    ],
)
def test_manifest_mismatch_refused(small_index: Index, manifest, change, words):
    path = small_index.path
    small_index.close()
    with pytest.raises(IndexMismatchError) as err:
        Index.open(path, {**manifest, **change})
    message = str(err.value)
    for w in words:
        assert w in message
    assert "rag ingest --rebuild" in message and "--index" in message
    with pytest.raises(IndexMismatchError):
        Index.create_or_open(path, {**manifest, **change})
    Index.open(path).close()  # no expectation: opens


def test_schema_version_mismatch(small_index: Index):
    path = small_index.path
    small_index.close()
    with sqlite3.connect(path / "rag.sqlite") as conn:
        conn.execute("UPDATE manifest SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(IndexMismatchError, match="schema version 0"):
        Index.open(path)


def test_missing_index(tmp_path):
    with pytest.raises(IndexNotFoundError, match=r"no index at .*rag ingest"):
        Index.open(tmp_path / "nowhere")


def test_rebuild_starts_empty(small_index: Index, fake_embedder):
    path = small_index.path
    small_index.close()
    other = make_manifest("other-model", 64, CHUNKER_VERSION)
    with Index.create_or_open(path, other, rebuild=True) as index:
        assert index.stats()["chunks"] == 0 and index.model_id == "other-model"


def test_delete_source_removes_everywhere(small_index: Index, manifest):
    henan = small_index.chunk_ids_matching(Filters(paper="河南日报"))
    assert len(henan) > 0
    removed = small_index.delete_source("/data/henan-2023.txt")
    small_index.commit_search_indexes()
    assert removed == len(henan)
    stats = small_index.stats()
    assert stats["sources"] == 1 and stats["articles"] == 3 and stats["papers"] == {"焦作日报": 3}
    assert not np.isin(henan, small_index.vectors.ids()).any()
    assert not np.isin(henan, small_index.bm25_ids).any()
    assert small_index.chunks_by_ids(henan) == []
    assert "郑州" not in small_index.bm25.vocab_dict  # only henan articles mention it
    assert small_index.source_by_sha("sha-henan-2023.txt") is None
    assert_in_step(small_index)
    path = small_index.path
    small_index.close()
    with Index.open(path, manifest) as again:
        assert_in_step(again)
        assert again.stats()["articles"] == 3


def test_reingest_after_delete_gets_new_ids(small_index: Index, fake_embedder):
    before = set(small_index.chunk_ids_matching(Filters(paper="河南日报")).tolist())
    with small_index.batch():
        small_index.delete_source("/data/henan-2023.txt")
        ingest_source(small_index, fake_embedder, "henan-2023.txt")
    after = set(small_index.chunk_ids_matching(Filters(paper="河南日报")).tolist())
    assert len(after) == len(before) and not (before & after)  # ids never reused
    assert_in_step(small_index)


def test_duplicate_doc_id_rejected_whole_call(small_index: Index, fake_embedder):
    chunks_before = small_index.stats()["chunks"]
    sid = small_index.add_source(Source(path="/data/dup.txt", sha256="dup", size=1))
    fresh = Article(doc_id="new-1", source="", text="新文章。")
    dup = Article(doc_id=DOCS[0].doc_id, source="", text="重复。")
    chunks = [[Chunk(0, "新文章。", 0, 4, 0)], [Chunk(0, "重复。", 0, 3, 0)]]
    with pytest.raises(IndexStoreError, match=DOCS[0].doc_id):
        small_index.add_articles(sid, [fresh, dup], chunks, fake_embedder.embed_documents(["a", "b"]))
    assert fresh.id is None and chunks[0][0].id is None  # objects untouched on failure
    small_index.commit_search_indexes()
    assert small_index.stats()["chunks"] == chunks_before
    assert_in_step(small_index)


def test_vector_shape_checked(small_index: Index):
    sid = small_index.add_source(Source(path="/data/v.txt", sha256="v", size=1))
    art = Article(doc_id="v-1", source="", text="一句话。")
    with pytest.raises(ValueError, match="shape"):
        small_index.add_articles(sid, [art], [[Chunk(0, "一句话。", 0, 4, 0)]], np.zeros((1, 8)))
    small_index.rollback()


def test_uncommitted_batch_is_discarded(index_path, fake_embedder, manifest):
    index = Index.create_or_open(index_path, manifest)
    ingest_source(index, fake_embedder, "henan-2023.txt")
    index.commit_search_indexes()
    committed = index.stats()["chunks"]
    ingest_source(index, fake_embedder, "jiaozuo-2023.txt")
    assert index.pending
    index.close()  # no commit: the second source is rolled back
    with Index.open(index_path, manifest) as again:
        assert again.stats()["chunks"] == committed and again.stats()["sources"] == 1
        assert_in_step(again)


def test_batch_rolls_back_on_error(small_index: Index, fake_embedder):
    before = small_index.stats()
    with pytest.raises(RuntimeError), small_index.batch():
        small_index.delete_source("/data/henan-2023.txt")
        raise RuntimeError("boom")
    after = small_index.stats()
    assert after["chunks"] == before["chunks"] == after["vectors"] == after["bm25_docs"]


def test_files_ahead_of_sqlite_are_named_and_repaired(index_path, fake_embedder, manifest):
    """Search files newer than rag.sqlite (files from another moment; a commit can no longer
    leave this: tests/test_crash_atomicity.py): a reader leaves the stray vectors out in memory
    (writing nothing) and names the mismatch; the next writer's commit puts the files in step."""
    index = Index.create_or_open(index_path, manifest)
    ingest_source(index, fake_embedder, "henan-2023.txt")
    index.commit_search_indexes()
    committed = sqlite_ids(index)
    ingest_source(index, fake_embedder, "jiaozuo-2023.txt")
    index.vectors.write(index_path / "vectors.faiss")  # files written ...
    index.close()  # ... SQLite never committed
    ahead = VectorStore.load(index_path / "vectors.faiss", 64).ids()
    assert len(ahead) > len(committed)
    with Index.open(index_path, manifest) as again:
        assert np.array_equal(sqlite_ids(again), committed)
        assert np.array_equal(np.sort(again.vectors.ids()), committed)  # in memory
        (problem,) = again.problems()
        assert f"holds {len(ahead) - len(committed)} vectors of chunks rag.sqlite does not have" in problem
        assert "rag repair" in problem
    assert np.array_equal(VectorStore.load(index_path / "vectors.faiss", 64).ids(), ahead)
    with Index.open(index_path, manifest) as writer:
        writer.commit_search_indexes()
        assert_in_step(writer)
        assert writer.problems() == []


def test_a_copy_without_the_wal_keeps_every_commit(index_path, fake_embedder, manifest, tmp_path):
    """Every commit is checkpointed into rag.sqlite: a folder copied while its writer is still
    running (or after it was killed), without rag.sqlite-wal, holds every committed row."""
    index = Index.create_or_open(index_path, manifest)
    for name in ("henan-2023.txt", "jiaozuo-2023.txt"):
        ingest_source(index, fake_embedder, name)
        index.commit_search_indexes()
    committed = sqlite_ids(index)
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in index_path.iterdir():  # the writer's connection still open, as a kill leaves it
        if not f.name.endswith(("-wal", "-shm")):
            (shutil.copytree if f.is_dir() else shutil.copy2)(f, copy / f.name)
    index.close()
    with Index.open(copy, manifest) as again:
        assert np.array_equal(sqlite_ids(again), committed)
        assert again.problems() == []
        assert_in_step(again)


def test_sqlite_chunks_without_vectors_are_kept_and_repaired(small_index: Index, manifest, fake_embedder):
    """A vectors.faiss that lacks chunks SQLite has (a file from another moment: a commit can no
    longer leave this).  Nothing is dropped; the index says what is wrong — the chunks without
    vectors, and a file that is not the one its commit wrote (its checksum) — and repair()
    re-embeds from SQLite's text: every chunk, since the file is not to be trusted."""
    henan = small_index.chunk_ids_matching(Filters(paper="河南日报"))
    small_index.vectors.remove(henan)
    small_index.vectors.write(small_index.path / "vectors.faiss")
    small_index.rollback()
    path = small_index.path
    small_index.close()
    with Index.open(path, manifest) as again:
        assert again.source_by_path("/data/henan-2023.txt") is not None
        assert again.stats()["papers"] == {"河南日报": 3, "焦作日报": 3}
        assert np.array_equal(again.missing_vectors, henan)
        assert "rag repair" in again.problems()[0]
        assert "checksum differs" in again.verify_files()[0]
        done = again.repair(fake_embedder)
        assert done["reembedded"] == again.stats()["chunks"] and again.problems() == again.verify_files() == []
        assert_in_step(again)
        hit = again.vectors.search(fake_embedder.embed_query("郑州地铁六号线"), 1)
        assert hit[0][0] in set(henan.tolist())


@pytest.mark.parametrize(
    "filters, expected_docs",
    [
        (Filters(), None),
        (Filters(paper="河南日报"), {"hn-0203-01-1", "hn-0315-05-1", "hn-0120-02-1"}),
        (
            Filters(since="2023-01-12", until="2023-02-03"),
            {"jz-0112-a02-1", "hn-0120-02-1", "hn-0203-01-1"},
        ),  # both ends inclusive
        (Filters(until="2023-01"), {"jz-0110-a08-1", "jz-0112-a02-1", "jz-1220-a03-1", "hn-0120-02-1"}),
        (Filters(paper="焦作日报", section="武陟新闻"), {"jz-1220-a03-1"}),
        (Filters(source="henan-2023.txt", since="2023-03-01"), {"hn-0315-05-1"}),
        (Filters(source="/data/jiaozuo-2023.txt", paper="河南日报"), set()),
    ],
)
def test_chunk_ids_matching(small_index: Index, filters, expected_docs):
    ids = small_index.chunk_ids_matching(filters)
    if expected_docs is None:
        assert ids is None
        assert small_index.chunk_ids_matching(None) is None
        return
    assert ids.dtype == np.int64
    assert {a.doc_id for _, a in small_index.chunks_by_ids(ids)} == expected_docs
    pairs = small_index.chunks_by_ids(sqlite_ids(small_index))
    wanted = sorted(c.id for c, a in pairs if a.doc_id in expected_docs)
    assert ids.tolist() == wanted


def test_unknown_dates_never_pass_a_date_filter(small_index: Index, fake_embedder):
    with small_index.batch():
        sid = small_index.add_source(Source(path="/data/nodate.txt", sha256="nd", size=1))
        art = Article(doc_id="nd-1", source="", text="日期不详的稿件。", paper="河南日报")
        small_index.add_articles(
            sid, [art], [[Chunk(0, art.text, 0, len(art.text), 0)]], fake_embedder.embed_documents([art.text])
        )
    assert art.id not in {
        a.id for _, a in small_index.chunks_by_ids(small_index.chunk_ids_matching(Filters(until="2030-01-01")))
    }
    assert art.id in {
        a.id for _, a in small_index.chunks_by_ids(small_index.chunk_ids_matching(Filters(paper="河南日报")))
    }


def test_reader_refreshes_after_another_writer_commits(small_index: Index, manifest, fake_embedder):
    reader = Index.open(small_index.path, manifest)
    try:
        assert reader.refresh() is False
        small_index.delete_source("/data/henan-2023.txt")
        small_index.commit_search_indexes()
        assert reader.stats()["vectors"] > small_index.stats()["vectors"]  # stale until refresh
        assert reader.refresh() is True
        assert_in_step(reader)
        assert reader.stats()["vectors"] == small_index.stats()["vectors"]
    finally:
        reader.close()


def test_deferred_bm25_rebuild(index_path, fake_embedder, manifest):
    index = Index.create_or_open(index_path, manifest)
    with index.batch(bm25=False):
        ingest_source(index, fake_embedder, "henan-2023.txt")
    assert index.stats()["vectors"] > 0 and index.stats()["bm25_docs"] == 0  # deferred
    with index.batch(bm25=False):
        ingest_source(index, fake_embedder, "jiaozuo-2023.txt")
    index.close()  # closed with BM25 behind: rebuilt in memory on open, no write lock needed
    with Index.open(index_path, manifest) as again:
        assert_in_step(again, bm25_on_disk=False)
        assert BM25Retriever(again).search("铁棍山药", k=1)[0].article.doc_id == "jz-1220-a03-1"
        again.commit_search_indexes()  # a writer's next commit saves it
        assert_in_step(again)
        with again.batch(bm25=False):
            again.delete_source("/data/henan-2023.txt")
        assert again.stats()["bm25_docs"] > again.stats()["chunks"]
        again.commit_search_indexes()  # the next full commit catches up
        assert_in_step(again)


def test_bm25_built_from_ids_scores_like_bm25s_from_tokens(tmp_path) -> None:
    """files.build_bm25 streams token ids into bm25s; it must score exactly like bm25s's own
    string path, also after a save and a memory-mapped load."""
    import bm25s

    docs = [d.text for d in DOCS] + ["", "花园口镇 八堡村 网格 网格"]
    tokens = [list(text.replace("，", " ").replace("。", " ").split()) or list(text) for text in docs]
    tokens = [[c for t in ts for c in (t[:2], t[2:]) if c] for ts in tokens]
    reference = bm25s.BM25()
    reference.index(tokens, show_progress=False)
    ours = files.build_bm25(iter(tokens))
    files.write_bm25(tmp_path / "bm25", ours, np.arange(len(docs)))
    loaded, ids = files.load_bm25(tmp_path / "bm25")
    assert np.array_equal(ids, np.arange(len(docs)))
    for query in (tokens[0][:3], tokens[-1], ["网格"], tokens[2][1:4]):
        want = reference.get_scores(query)
        assert np.allclose(ours.get_scores(query), want) and np.allclose(loaded.get_scores(query), want)
        assert want.max() > 0
    assert files.build_bm25(iter([[], []])) is None


def test_an_index_from_before_page_regions_opens_and_reads(small_index: Index, index_path) -> None:
    """Indexes built before scans were read have no ``regions`` column: opening adds it."""
    small_index.close()
    conn = sqlite3.connect(index_path / "rag.sqlite")
    conn.execute("ALTER TABLE articles DROP COLUMN regions")
    conn.commit()
    conn.close()
    index = Index.open(index_path)
    try:
        ((_, article),) = index.chunks_by_ids([index.lexical_search("山药", 1)[0][0]])
        assert article.regions == "" and article.text
    finally:
        index.close()
