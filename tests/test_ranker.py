"""The learned second stage and article-level results, on the sample archive through the real
pipeline (the hash stand-in embedder: no model to load)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.logistic import read_model
from rag.retrieval.features import DENSE_FEATURES, FEATURES, candidate_features
from rag.retrieval.ranker import LearnedReranker, model_path
from rag.retrieval.rerank import make_reranker
from rag.text.asked import read_question
from tests.conftest import make_fake_bot

QUESTION = "鹭江引水工程柳溪段的输水管线有多长？"


@pytest.fixture
def bot(sample_index: Path):
    assistant = make_fake_bot(sample_index, reranker="learned")
    yield assistant
    assistant.close()


def test_shipped_models_fit_the_features_this_code_computes() -> None:
    for channel in ("hybrid", "bm25"):
        model = read_model(str(model_path(channel)), FEATURES)
        assert model.features == FEATURES and model.meta["questions"] > 300
        if channel == "bm25":  # fitted with the dense features at 0: they weigh nothing
            assert all(model.coef[FEATURES.index(f)] == 0 for f in DENSE_FEATURES)
    assert isinstance(make_reranker("learned"), LearnedReranker)


def test_features_are_relative_to_the_candidates(bot) -> None:
    hits = bot.retriever("hybrid").search(QUESTION, 30)
    rows = candidate_features(read_question(QUESTION), hits)
    assert rows.shape == (len(hits), len(FEATURES)) and np.isfinite(rows).all()
    col = {f: rows[:, i] for i, f in enumerate(FEATURES)}
    assert col["bm25"].max() == pytest.approx(1.0) and col["dense"].max() == pytest.approx(0.0)
    assert list(col["first_stage_rank"]) == sorted(col["first_stage_rank"], reverse=True)
    best = next(i for i, h in enumerate(hits) if "46.5公里" in h.chunk.text)
    assert col["typed_sentence"][best] > 0.5  # the sentence with the asked length covers the question
    assert col["longest_match"][best] >= 4 / len("鹭江引水工程柳溪段输水管线长")
    far = [i for i, h in enumerate(hits) if "鹭江" not in h.chunk.text and "引水" not in h.chunk.text]
    assert far and all(col["cover_passage"][i] < col["cover_passage"][best] for i in far)
    assert (candidate_features(read_question(QUESTION), hits) == rows).all()  # the same rows at train and query time


def test_learned_ranker_ranks_articles_and_explains_each_hit(bot) -> None:
    hits = bot.search(QUESTION, 5)
    assert "46.5公里" in hits[0].chunk.text
    assert len({h.chunk.article_id for h in hits}) == len(hits) == 5  # five stories, not five chunks
    reranker = bot.reranker
    for h in hits:
        parts = bot.explain(h)
        assert set(parts) == set(FEATURES)
        assert list(parts.values()) == sorted(parts.values(), key=abs, reverse=True)
        model = reranker.models["hybrid"]
        assert sum(parts.values()) + model.intercept == pytest.approx(h.scores["learned"], abs=1e-4)
    assert hits[0].scores["learned"] >= max(h.scores["learned"] for h in hits[1:])


def test_default_search_is_one_hit_per_article(sample_index: Path) -> None:
    bot = make_fake_bot(sample_index)
    try:
        hits = bot.search("柳溪县", 8)
        assert len(hits) == 8 and len({h.chunk.article_id for h in hits}) == 8
        assert bot.explain(hits[0]).keys() >= {"dense", "bm25", "rrf", "answer-type"}
    finally:
        bot.close()


def test_search_explain_from_the_cli(sample_index: Path) -> None:
    args = ["search", QUESTION, "--index", str(sample_index), "-k", "3", "--reranker", "learned", "--explain"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)["hits"]
    assert len(hits) == 3 and all(set(h["explain"]) == set(FEATURES) for h in hits)
    text = CliRunner().invoke(app, args)
    assert text.exit_code == 0 and "cover_article" in text.stdout
    bad = CliRunner().invoke(app, ["search", QUESTION, "--index", str(sample_index), "--reranker", "magic"])
    assert bad.exit_code == 2 and "unknown reranker" in bad.output


def _article_hits(article_text: str, spans: list[tuple[int, int]]):
    """Hits over one article, one per (start, end) span, best first."""
    from rag.models import Article, Chunk, Hit

    article = Article(
        source="page.txt", doc_id="a-1", headline="标题", text=article_text, id=7, paper="青禾日报", date="2024-03-12"
    )
    return [
        Hit(chunk=Chunk(7, article_text[a:b], a, b, i, id=100 + i), article=article, score=1.0 / (i + 1), rank=i + 1)
        for i, (a, b) in enumerate(spans)
    ]


def test_a_hit_holds_its_articles_next_best_passage() -> None:
    from rag.evaluation.questions import Question
    from rag.evaluation.relevance import hit_rank
    from rag.retrieval.diversity import collapse

    text = "".join(f"第{i}句话讲的是第{i}件事。" for i in range(60))
    # the best passage, a far one, one touching the best, a third far one
    hits = _article_hits(text, [(0, 60), (400, 460), (60, 120), (700, 760)])
    (one,) = collapse(hits, 5, per_article=1, passages=2)
    assert (one.chunk.start, one.chunk.end) == (0, 120)  # the touching chunk merged in
    assert [(c.start, c.end) for c in one.more] == [(400, 460)]  # the next best, the third dropped
    assert [p.chunk.text for p in one.passages()] == [text[0:120], text[400:460]]
    assert all(not p.more for p in one.passages())
    # a further passage that the widened best one comes to touch joins it
    (joined,) = collapse(_article_hits(text, [(0, 60), (100, 160), (60, 100)]), 5, per_article=1, passages=2)
    assert (joined.chunk.start, joined.chunk.end) == (0, 160) and not joined.more
    (alone,) = collapse(hits, 5, per_article=1, passages=1)
    assert not alone.more and (alone.chunk.start, alone.chunk.end) == (0, 120)
    q = Question(id="x", question="?", answer="", evidence=[text[410:440]], sources=["page.txt"])
    assert hit_rank(q, [one]) == 1 and hit_rank(q, [alone]) is None
    assert one.to_dict()["more"][0]["start"] == 400


LIBRARY = [  # an article of ~1,700 characters: its two ends are further apart than merge_chars
    "柳溪县青禾图书馆新馆日前在滨河路正式开放，建筑面积一万二千平方米。",
    *[
        f"新馆第{n}号区域的装修工程由本地企业承建，施工期间共组织了{n + 2}次安全检查，工人们克服了雨季施工的困难。"
        for n in range(1, 21)
    ],
    *[
        f"附近的{name}也在同步改造，居民们对周边环境的变化十分期待，纷纷表示出行更方便了。"
        for name in ("农贸市场", "体育公园", "社区医院", "老年活动中心", "公交首末站", "文化广场", "湿地公园", "商业街")
    ],
    "据馆长介绍，青禾图书馆目前藏书二十万册，设有少儿阅览室和地方文献室。",
]


def test_the_answerer_reads_every_passage_of_each_article(tmp_path: Path, fake_embedder) -> None:
    """A long article whose answer lies far from its best passage: the hit holds both and the
    answer is cited from the second."""
    page = tmp_path / "library.jsonl"
    record = {"id": "lib-1", "title": "青禾图书馆新馆开放", "date": "2024-05-06", "text": "".join(LIBRARY)}
    page.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    bot = make_fake_bot(tmp_path / "idx", passages=2, retriever="bm25")
    try:
        bot.archive.ingest([page])
        question = "在滨河路开放的青禾图书馆新馆藏书多少册？"
        (hit,) = bot.retrieve(question, 5).hits  # one article, so one hit
        texts = [p.chunk.text for p in hit.passages()]
        assert len(texts) == 2 and ["二十万册" in t for t in texts].count(True) == 1
        assert ["滨河路" in t for t in texts].count(True) == 1  # the two ends of the article
        answer = bot.ask(question, 5)
        assert not answer.refused and "二十万册" in answer.text, answer.text
        assert answer.citations and all(c.quote in c.hit.article.text for c in answer.citations)
        assert "二十万册" in answer.citations[0].hit.chunk.text  # [1] is the passage under the hit
        alone = make_fake_bot(tmp_path / "idx", passages=1, retriever="bm25")
        (single,) = alone.retrieve(question, 5).hits
        assert not single.more and not ("二十万册" in single.chunk.text and "滨河路" in single.chunk.text)
        alone.close()
    finally:
        bot.close()
