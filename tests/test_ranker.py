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
    rows = candidate_features(QUESTION, hits)
    assert rows.shape == (len(hits), len(FEATURES)) and np.isfinite(rows).all()
    col = {f: rows[:, i] for i, f in enumerate(FEATURES)}
    assert col["bm25"].max() == pytest.approx(1.0) and col["dense"].max() == pytest.approx(0.0)
    assert list(col["first_stage_rank"]) == sorted(col["first_stage_rank"], reverse=True)
    best = next(i for i, h in enumerate(hits) if "46.5公里" in h.chunk.text)
    assert col["typed_sentence"][best] > 0.5  # the sentence with the asked length covers the question
    assert col["longest_match"][best] >= 4 / len("鹭江引水工程柳溪段输水管线长")
    far = [i for i, h in enumerate(hits) if "鹭江" not in h.chunk.text and "引水" not in h.chunk.text]
    assert far and all(col["cover_passage"][i] < col["cover_passage"][best] for i in far)
    assert (candidate_features(QUESTION, hits) == rows).all()  # the same rows at train and query time


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
