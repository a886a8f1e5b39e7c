"""The seams other backends and callers build on: the store contract (rag.store.contract) and the
retrieval pipeline (rag.retrieval.pipeline), exercised on every store: the embedded folder,
Milvus through milvus-lite (the real engine in-process) and, when RAG_TEST_MILVUS_URI names
one, a Milvus server (``-m milvus_server``).

Every test here speaks only ``SearchStore`` methods.
"""

from __future__ import annotations

import numpy as np
import pytest

from rag.models import Filters
from rag.retrieval import BM25Retriever, HybridRetriever, make_retriever
from rag.retrieval.pipeline import PipelineOptions, RetrievalPipeline
from rag.retrieval.rerank import AnswerTypeReranker
from rag.store.contract import ArchiveStore, SearchStore
from rag.text.asked import read_question


@pytest.fixture
def store(any_store) -> SearchStore:
    return any_store


def test_every_store_implements_the_contract(store) -> None:
    assert isinstance(store, SearchStore) and isinstance(store, ArchiveStore)
    assert store.dim == 64 and store.model_id == "fake:hash" and not store.lexical_only


def test_lexical_search_ranks_filters_and_scores(store) -> None:
    found = store.lexical_search("铁棍山药", 10)
    assert found and all(s > 0 for _, s in found)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    (top, _), *_ = found
    chunk, article = store.chunks_by_ids([top])[0]
    assert article.doc_id == "jz-1220-a03-1" and chunk.id == top
    henan = store.chunk_ids_matching(Filters(paper="河南日报"))
    assert store.lexical_search("铁棍山药", 10, henan) == []  # a filter is a prefilter
    scores = store.lexical_scores("铁棍山药", [top, 10**9])
    assert scores == {top: pytest.approx(found[0][1])}  # unknown ids are left out
    assert store.lexical_search("量子计算机", 10) == [] and store.query_tokens("量子计算机") == []


def test_vector_search_and_scores_agree(store, fake_embedder) -> None:
    query = fake_embedder.embed_query("郑州地铁六号线").reshape(1, -1)
    found = store.vector_search(query, 3)
    assert len(found) == 3 and found[0][1] >= found[-1][1]
    again = store.vector_scores(query, [cid for cid, _ in found])
    assert again == {cid: pytest.approx(s, abs=1e-5) for cid, s in found}
    jiaozuo = store.chunk_ids_matching(Filters(paper="焦作日报"))
    inside = store.vector_search(query, 50, jiaozuo)
    assert inside and {a.paper for _, a in store.chunks_by_ids([cid for cid, _ in inside])} == {"焦作日报"}


def test_fetch_keeps_order_and_skips_unknown_ids(store) -> None:
    ids = store.chunk_ids_matching(Filters())
    assert ids is None  # no filter: every chunk
    some = [cid for cid, _ in store.lexical_search("会议", 4)]
    pairs = store.chunks_by_ids([*reversed(some), 10**9])
    assert [c.id for c, _ in pairs] == list(reversed(some))
    article = store.article(pairs[0][1].id)
    assert article is not None and article.doc_id == pairs[0][1].doc_id
    assert store.article(10**9) is None


def test_catalog_facets_and_sources(store) -> None:
    assert store.facets() == {"papers": ["河南日报", "焦作日报"], "sections": sorted(store.facets()["sections"])}
    catalog = store.catalog()
    assert sum(n for _, _, n in catalog) == 6 and catalog[0][1] >= catalog[-1][1]  # newest first
    rows = store.articles_on("河南日报", None)
    assert {r[2] for r in rows} == {"河南日报"} and len(rows) == 3
    assert store.articles_on(None, "2023-01-10")[0][1] == "温县县委常委会召开议军会议"
    source = store.source_by_path("/data/henan-2023.txt")
    assert source is not None and store.source_by_sha(source.sha256) == source
    assert store.find_source("henan-2023.txt", "/elsewhere/henan-2023.txt") == "/data/henan-2023.txt"
    assert store.find_source("nothing.txt", "/nothing.txt") == []
    stats = store.stats()
    assert stats["articles"] == 6 and stats["vectors"] == stats["chunks"] and store.problems() == []
    assert store.refresh() is False  # nobody else committed


# ---- the retrieval pipeline ------------------------------------------------------------------
def pipeline(store, first=None, reranker=None, **options) -> RetrievalPipeline:
    return RetrievalPipeline(store, first or BM25Retriever(store), reranker, PipelineOptions(**options))


def test_pipeline_normalises_and_returns_distinct_articles(store) -> None:
    found = pipeline(store, per_article=1).run(read_question("民 兵 工 作"), 3)  # OCR spaces, full width
    docs = [h.article.doc_id for h in found.hits]
    assert docs and len(docs) == len(set(docs)) and "hn-0120-02-1" in docs
    assert [h.rank for h in found.hits] == list(range(1, len(docs) + 1))
    assert found.applied == [] and found.query == ""


def test_stated_filters_are_applied_and_dropped_when_they_leave_nothing(store) -> None:
    stated = pipeline(store).run(read_question("河南日报 民兵工作会议"), 5)
    assert stated.applied == ["报纸：河南日报"] and {h.article.paper for h in stated.hits} == {"河南日报"}
    empty = pipeline(store).run(read_question("2023年3月的报道 铁棍山药"), 5)  # nothing that month says so
    assert empty.applied == ["日期：2023-03（无结果，未限定）"]
    assert empty.hits[0].article.doc_id == "jz-1220-a03-1"
    off = pipeline(store, question_filters=False).run(read_question("河南日报 民兵工作会议"), 5)
    assert off.applied == [] and len({h.article.paper for h in off.hits}) == 2


def test_explicit_filters_win_over_stated_ones(store) -> None:
    found = pipeline(store).run(read_question("河南日报 民兵"), 5, Filters(paper="焦作日报"))
    assert found.applied == [] and {h.article.paper for h in found.hits} == {"焦作日报"}


def test_pipeline_reranks_and_keeps_every_first_stage_hit(store, fake_embedder) -> None:
    first = make_retriever("hybrid", store, fake_embedder)
    assert isinstance(first, HybridRetriever)
    plain = pipeline(store, first, per_article=0, near_dup=1.0).run(read_question("郑州地铁线路有多长？"), 10)
    reranked = pipeline(store, first, AnswerTypeReranker(), per_article=0, near_dup=1.0).run(
        read_question("郑州地铁线路有多长？"), 10
    )
    assert {h.chunk.id for h in plain.hits} == {h.chunk.id for h in reranked.hits}
    assert all("answer-type" in h.scores for h in reranked.hits[:2])
    assert np.all(np.diff([h.rank for h in reranked.hits]) == 1)
