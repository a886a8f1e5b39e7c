"""Retrievers: dense, BM25 and hybrid (RRF) over the small index; the jieba tokenizer."""

from __future__ import annotations

import numpy as np
import pytest

from rag.models import Filters
from rag.retrieval import (
    RETRIEVERS,
    BM25Retriever,
    DenseRetriever,
    HybridRetriever,
    make_retriever,
    rrf_fuse,
)
from rag.store import Index
from rag.text.tokenize import make_tokenizer, tokenize
from tests.conftest import DOCS, FakeEmbedder


def doc_ids(hits) -> list[str]:
    return [h.article.doc_id for h in hits]


def check_ranks(hits, k):
    assert len(hits) <= k
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


# ---- tokenizer -------------------------------------------------------------------------------
def test_tokenizer_normalises_and_drops_punctuation():
    tokens = tokenize("２０２３年1月9日，温县县委常委会召开议军会议！GDP增长3.5%。")
    assert "2023" in tokens and "9" in tokens and "3.5" in tokens and "gdp" in tokens
    assert "温县" in tokens and "常委会" in tokens and "年" in tokens  # single CJK char kept
    assert not any(t in {"，", ",", "！", "!", "。", "%", " "} for t in tokens)
    assert all(t == t.strip() and t for t in tokens)


def test_tokenizer_modes():
    search, cut = make_tokenizer("jieba-search"), make_tokenizer("cut")
    text = "中华人民共和国成立"
    assert "中华人民共和国" in cut(text) and "人民" not in cut(text)
    assert {"中华人民共和国", "人民", "共和国"} <= set(search(text))
    assert search.name == "jieba-search" and cut.name == "jieba-cut"
    assert tokenize("") == [] and tokenize(" ，。 ") == []
    with pytest.raises(ValueError, match="jieba-search"):
        make_tokenizer("whitespace")


# ---- BM25 ------------------------------------------------------------------------------------
def test_bm25_finds_exact_chinese_term(small_index: Index):
    hits = BM25Retriever(small_index).search("铁棍山药", k=3)
    assert hits and hits[0].article.doc_id == "jz-1220-a03-1"
    assert "铁棍山药" in hits[0].chunk.text
    assert hits[0].scores["bm25"] == hits[0].score > 0
    check_ranks(hits, 3)


def test_bm25_only_returns_matching_chunks(small_index: Index):
    hits = BM25Retriever(small_index).search("地铁", k=50)
    # 地铁 is in one headline (indexed with each of its chunks); no zero-score filler
    assert doc_ids(hits) == ["hn-0203-01-1", "hn-0203-01-1"]
    assert "地铁" in hits[0].chunk.text and "地铁" not in hits[1].chunk.text
    assert BM25Retriever(small_index).search("量子计算机", k=5) == []  # no term in vocabulary


def test_bm25_uses_index_tokenizer_after_reopen(small_index: Index, manifest):
    path = small_index.path
    small_index.close()
    with Index.open(path, manifest) as again:
        hits = make_retriever("bm25", again, None).search("太行山绿化", k=2)
        assert hits[0].article.doc_id == "jz-0112-a02-1"


def test_bm25_filter_is_a_prefilter(small_index: Index):
    bm25 = BM25Retriever(small_index)
    unfiltered = bm25.search("民兵队伍建设", k=1)
    assert doc_ids(unfiltered) == ["jz-0110-a08-1"]  # the 焦作 article ranks first ...
    hits = bm25.search("民兵队伍建设", k=1, filters=Filters(paper="河南日报"))
    assert doc_ids(hits) == ["hn-0120-02-1"]  # ... but the filter still yields k hits
    hits = bm25.search("民兵工作", k=10, filters=Filters(since="2023-01-11"))
    assert set(doc_ids(hits)) == {"hn-0120-02-1"}
    assert bm25.search("民兵", k=5, filters=Filters(paper="人民日报")) == []


# ---- dense -----------------------------------------------------------------------------------
def test_dense_finds_the_identical_chunk(small_index: Index, fake_embedder):
    text = "郑州地铁六号线一期工程正式开通运营，全长约二十公里。"
    hits = DenseRetriever(small_index, fake_embedder).search(text, k=4)
    assert hits[0].chunk.text == text
    assert hits[0].score == pytest.approx(1.0, abs=1e-5) and hits[0].scores["dense"] == hits[0].score
    check_ranks(hits, 4)


def test_dense_filter_is_a_prefilter(small_index: Index, fake_embedder):
    dense = DenseRetriever(small_index, fake_embedder)
    query = "温县县委常委会召开议军会议"
    everything = dense.search(query, k=100)
    ranks = {h.article.paper: h.rank for h in reversed(everything)}  # best rank per paper
    assert ranks["河南日报"] > 1
    hits = dense.search(query, k=2, filters=Filters(paper="河南日报", until="2023-02-28"))
    assert len(hits) == 2
    assert all(h.article.paper == "河南日报" and h.article.date <= "2023-02-28" for h in hits)
    assert dense.search(query, k=3, filters=Filters(section="不存在")) == []


def test_dense_k_larger_than_corpus(small_index: Index, fake_embedder):
    hits = DenseRetriever(small_index, fake_embedder).search("会议", k=500)
    assert len(hits) == small_index.stats()["chunks"]
    check_ranks(hits, 500)


def test_dense_refuses_other_dimension(small_index: Index):
    class Small(FakeEmbedder):
        dim = 32

    with pytest.raises(ValueError, match="32-d"):
        DenseRetriever(small_index, Small())


# ---- hybrid ----------------------------------------------------------------------------------
def test_rrf_fuse_constructed_case():
    fused = rrf_fuse({"dense": [1, 2, 3], "bm25": [3, 1]}, k=60)
    assert [cid for cid, _ in fused] == [1, 3, 2]
    assert dict(fused)[1] == pytest.approx(1 / 61 + 1 / 62)
    assert dict(fused)[3] == pytest.approx(1 / 63 + 1 / 61)
    assert dict(fused)[2] == pytest.approx(1 / 62)
    weighted = rrf_fuse({"dense": [1, 2, 3], "bm25": [3, 1]}, k=60, weights={"bm25": 3.0})
    assert [cid for cid, _ in weighted] == [3, 1, 2]
    tie = rrf_fuse({"dense": [7], "bm25": [5]}, k=60)
    assert [cid for cid, _ in tie] == [5, 7]  # equal score and best rank: smaller id first


def test_hybrid_fuses_and_keeps_both_scores(small_index: Index, fake_embedder):
    hybrid = make_retriever("hybrid", small_index, fake_embedder)
    assert isinstance(hybrid, HybridRetriever) and hybrid.name == "hybrid"
    query = "铁棍山药文化节"
    hits = hybrid.search(query, k=5)
    check_ranks(hits, 5)
    assert hits[0].article.doc_id == "jz-1220-a03-1"
    dense = {c: s for c, s in hybrid.dense.candidates(query, 100)}
    bm25 = {c: s for c, s in hybrid.bm25.candidates(query, 100)}
    dense_rank = {c: r for r, c in enumerate(dense, 1)}
    bm25_rank = {c: r for r, c in enumerate(bm25, 1)}
    for h in hits:
        assert {"dense", "bm25", "rrf", "dense_rank"} <= set(h.scores) and h.score == h.scores["rrf"]
        assert h.scores["dense_rank"] == dense_rank[h.chunk.id]
        assert h.scores.get("bm25_rank") == bm25_rank.get(h.chunk.id)
        assert h.scores["dense"] == pytest.approx(dense[h.chunk.id], abs=1e-6)
        assert h.scores["bm25"] == pytest.approx(bm25.get(h.chunk.id, 0.0), abs=1e-6)
        expected = 1 / (60 + dense_rank[h.chunk.id])
        if h.chunk.id in bm25_rank:
            expected += 1 / (60 + bm25_rank[h.chunk.id])
        assert h.scores["rrf"] == pytest.approx(expected)


def test_hybrid_weights_shift_the_order(small_index: Index, fake_embedder):
    query = "民兵队伍建设"
    lexical = make_retriever("hybrid", small_index, fake_embedder, weights={"dense": 0.0})
    semantic = make_retriever("hybrid", small_index, fake_embedder, weights={"bm25": 0.0})
    bm25_top = BM25Retriever(small_index).search(query, k=3)
    dense_top = DenseRetriever(small_index, fake_embedder).search(query, k=3)
    assert [h.chunk.id for h in lexical.search(query, k=3)] == [h.chunk.id for h in bm25_top]
    assert [h.chunk.id for h in semantic.search(query, k=3)] == [h.chunk.id for h in dense_top]


def test_hybrid_filters(small_index: Index, fake_embedder):
    hybrid = make_retriever("hybrid", small_index, fake_embedder)
    hits = hybrid.search("民兵工作会议", k=3, filters=Filters(since="2023-01-15", until="2023-01-31"))
    assert hits and {h.article.doc_id for h in hits} == {"hn-0120-02-1"}
    assert hybrid.search("民兵", k=3, filters=Filters(paper="人民日报")) == []


# ---- factory ---------------------------------------------------------------------------------
def test_make_retriever_names(small_index: Index, fake_embedder):
    for name in RETRIEVERS:
        r = make_retriever(name, small_index, fake_embedder)
        assert r.name == name
        assert r.search("郑州", k=2)
    with pytest.raises(ValueError) as err:
        make_retriever("splade", small_index, fake_embedder)
    assert "splade" in str(err.value) and "dense, bm25, hybrid" in str(err.value)
    with pytest.raises(ValueError, match="embedder"):
        make_retriever("dense", small_index, None)


def test_empty_index(index_path, fake_embedder, manifest):
    with Index.create_or_open(index_path, manifest) as index:
        for name in RETRIEVERS:
            assert make_retriever(name, index, fake_embedder).search("会议", k=5) == []


def test_hits_serialise(small_index: Index, fake_embedder):
    hit = make_retriever("hybrid", small_index, fake_embedder).search("小麦播种", k=1)[0]
    d = hit.to_dict()
    assert d["doc_id"] == "hn-0315-05-1" and d["paper"] == "河南日报" and d["rank"] == 1
    assert hit.article.text[d["start"] : d["end"]] == d["text"]
    assert np.isfinite(d["score"])
    assert len(DOCS) == 6
