"""Honest metadata and curation: re-tagging a source's paper/date (both stores, the CLI, kept
across a rebuild), the 报纸未知 filter, which filter left nothing, example questions from the
archive, a context-free follow-up, and the Chinese of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.archive_tab import date_pattern
from app.render import one_per_article
from rag.cli import app
from rag.examples import example_for, example_questions, topic
from rag.filter_check import check_filters
from rag.models import UNKNOWN_PAPER, Article, Chunk, Filters, Hit, InputError, Turn
from rag.source_metadata import FILE
from rag.text.followup import needs_context
from tests.conftest import SAMPLE, FakeEmbedder, build_small, make_fake_bot, manifest_for, milvus_target


@pytest.fixture(params=["embedded", "milvus"])
def store(request, tmp_path: Path):
    """The small two-source index, writable, in each store."""
    embedder = FakeEmbedder()
    if request.param == "embedded":
        from rag.store.index import Index

        made = Index.create_or_open(tmp_path / "index", manifest_for(embedder))
    else:
        from rag.store.milvus import MilvusStore

        uri, prefix = milvus_target(tmp_path)
        made = MilvusStore.create_or_open(uri, prefix, manifest_for(embedder), rebuild=True)
    yield build_small(made, embedder)
    made.close()


def test_retag_sets_paper_and_date_of_one_source_in_every_store(store) -> None:
    before = {a for a, *_ in store.catalog()}
    with store.batch():
        changed = store.retag_source("/data/henan-2023.txt", "测试日报", "2024-05-01")
    assert changed > 0 and "测试日报" not in before
    allowed = store.chunk_ids_matching(Filters(paper="测试日报"))
    found = store.lexical_search("郑州", 50, allowed)
    assert found and {a.paper for _, a in store.chunks_by_ids([c for c, _ in found])} == {"测试日报"}
    assert ("测试日报", "2024-05-01", changed) in store.catalog()
    dated = store.chunk_ids_matching(Filters(since="2024-05-01", until="2024-05-01"))
    assert store.lexical_search("郑州", 50, dated) == found  # the chunks' filter copies were re-tagged too
    with store.batch():
        assert store.retag_source("/data/jiaozuo-2023.txt", None, None) == 0  # nothing to set
        assert store.retag_source("/data/none.txt", "某报", None) == 0
    assert {p for p, *_ in store.catalog()} == {"焦作日报", "测试日报"}


def test_unknown_paper_filter_selects_the_articles_without_one(store) -> None:
    unknown = Filters(paper=UNKNOWN_PAPER)
    assert store.lexical_search("郑州", 50, store.chunk_ids_matching(unknown)) == []  # every article has a paper
    with store.batch():
        store.retag_source("/data/henan-2023.txt", "", None)  # (an empty paper: as pages without a masthead)
    found = store.lexical_search("郑州", 50, store.chunk_ids_matching(unknown))
    assert found and {a.paper for _, a in store.chunks_by_ids([c for c, _ in found])} == {""}


def _ingest(folder: Path, index: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", str(folder), "--index", str(index)])
    assert result.exit_code == 0, result.output


def test_rag_retag_tags_a_file_and_a_rebuild_keeps_it(sample_index: Path, tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "page_01.txt").write_bytes((SAMPLE / "page_01.txt").read_bytes())  # no .meta.json beside it
    index = tmp_path / "idx"
    _ingest(pages, index)
    runner = CliRunner()
    bad = runner.invoke(app, ["retag", "page_01.txt", "--date", "2024-02-30", "--index", str(index)])
    assert bad.exit_code == 2 and "no such date" in bad.output
    partial = runner.invoke(app, ["retag", "page_01.txt", "--date", "2024-02", "--index", str(index)])
    assert partial.exit_code == 2 and "full date" in partial.output
    unknown = runner.invoke(app, ["retag", "nope.txt", "--paper", "某报", "--index", str(index)])
    assert unknown.exit_code == 2 and "no such source" in unknown.output
    ok = runner.invoke(
        app, ["retag", "page_01.txt", "--paper", "测试日报", "--date", "2024-02-03", "--index", str(index)]
    )
    assert ok.exit_code == 0 and "re-tagged" in ok.output, ok.output
    stats = json.loads(runner.invoke(app, ["stats", "--index", str(index), "--json"]).stdout)
    assert set(stats["papers"]) == {"测试日报"} and stats["date_range"] == ["2024-02-03", "2024-02-03"]
    kept = json.loads((index / FILE).read_text(encoding="utf-8"))
    assert list(kept.values()) == [{"paper": "测试日报", "date": "2024-02-03"}]
    result = runner.invoke(app, ["ingest", str(pages), "--index", str(index), "--rebuild"])
    assert result.exit_code == 0, result.output
    again = json.loads(runner.invoke(app, ["stats", "--index", str(index), "--json"]).stdout)
    assert again["papers"] == stats["papers"] and again["date_range"] == stats["date_range"]
    answer = json.loads(
        runner.invoke(app, ["ask", "柳溪县地区生产总值是多少？", "--index", str(index), "--json"]).stdout
    )
    assert answer["citations"] and answer["citations"][0]["paper"] == "测试日报"


def test_check_filters_names_the_filter_that_matches_nothing() -> None:
    catalog = [("焦作日报", "2023-01-10", 25), ("", "", 28), ("商丘晚报", "2024-03-01", 4)]
    sections = ["温县新闻"]
    assert not check_filters(None, catalog, sections)
    assert not check_filters(Filters(since="2023-01-01", paper="焦作日报"), catalog, sections)
    late = check_filters(Filters(since="2030-01-01"), catalog, sections)
    assert (
        late.blocking == ["date"] and "2030-01-01 以后" in late.message and "2023-01-10 至 2024-03-01" in late.message
    )
    nowhere = check_filters(Filters(paper="大河报", section="温县新闻"), catalog, sections)
    assert nowhere.blocking == ["paper"] and "报纸 大河报" in nowhere.message
    both = check_filters(Filters(since="2024-01", until="2024-12", paper="焦作日报"), catalog, sections)
    assert both.blocking == ["date", "paper"] and "同时符合" in both.message
    unknown = check_filters(Filters(paper=UNKNOWN_PAPER, since="2023-01-01"), catalog, sections)
    assert unknown.blocking == ["date", "paper"]  # the undated, paperless articles never pass a date bound
    assert check_filters(Filters(section="体育"), catalog, sections).blocking == ["section"]
    assert not check_filters(Filters(until="2023-01"), catalog, sections)  # a month bound covers the month


def test_examples_come_from_the_archive_headlines() -> None:
    heads = [
        (1, "示范区召开 污染防治攻坚推进会", "焦作日报", "2023-01-10", "A01", ""),
        (2, "孟州市首届年货节举行", "焦作日报", "2023-01-10", "A08", ""),
        (3, "吹响开局决战的号角 □高亢", "焦作日报", "2023-01-10", "A02", ""),
        (4, "“万人助企”成效显著——", "", "", "", ""),
        (5, "", "", "", "", ""),
        (6, "惠济区：以学促行聚合力真抓实干日争新", "", "", "", ""),
        (7, "短", "商丘晚报", "2024-03-01", "", ""),
    ]
    assert topic("吹响开局决战的号角 □高亢") == "" and topic("短") == "" and topic("“万人助企”成效显著——") == ""
    got = example_questions(heads, 3)
    assert got == [
        "示范区什么时候召开污染防治攻坚推进会？",  # an event: when
        "惠济区：以学促行聚合力真抓实干日争新",  # a kicker headline as it is, from another paper/date
        "孟州市首届年货节是什么时候举行的？",  # before a second 焦作日报 one
    ]
    assert example_questions([], 3) == []


@pytest.mark.parametrize(
    "headline, question",
    [
        ("示范区新增高新 技术企业21家 总数位居全市第二", "示范区新增高新技术企业多少家？"),  # a count, its clause
        ("我省拟遴选30名大学生“创新之星”", "我省拟遴选多少名大学生“创新之星”？"),
        ("桐川县1160万元取暖补贴发放到户", "桐川县多少万元取暖补贴发放到户？"),
        ("温县县委常委会（扩大）会议召开", "温县县委常委会（扩大）会议是什么时候召开的？"),
        ("青禾市三季度重大项目集中开工", "青禾市三季度重大项目是什么时候集中开工的？"),
        ("中国气象局： 2022年夏秋季 高温创历史纪录", "中国气象局：2022年夏秋季高温创历史纪录"),  # a year is no count
        ("学习贯彻二十大精神 谱写团结奋进新篇章", "学习贯彻二十大精神谱写团结奋进新篇章"),  # no question fits
    ],
)
def test_an_example_asks_what_a_reader_would_of_the_article(headline: str, question: str) -> None:
    assert example_for(headline) == question


def test_sample_examples_are_answered_from_their_article(sample_index: Path) -> None:
    bot = make_fake_bot(sample_index)
    try:
        examples = bot.examples(wait=True)  # (checked here, not in the background)
        assert len(examples) == 3
        heads = {h.replace(" ", "") for _, h, *_ in bot.archive.articles_on(None, None)}
        by_example = {example_for(h): h for h in heads}
        for question in examples:
            assert question in by_example
            answer = bot.ask(question)
            assert answer.hits and answer.hits[0].article.headline.replace(" ", "") == by_example[question]
    finally:
        bot.close()


def test_a_context_free_follow_up_gets_a_question_back(sample_index: Path) -> None:
    assert needs_context("那温县呢？") and needs_context("还有呢？") and needs_context("桐川县呢")
    for standalone in ("请问柳溪县的县长是谁呢？", "柳溪县首届乡村年货节在哪里举办？", "那里的年货节卖了多少钱呢？"):
        assert needs_context(standalone) is None
    bot = make_fake_bot(sample_index)
    try:
        back = bot.ask("那桐川县呢？")
        assert back.refused and not back.hits and "桐川县" in back.text and "请把问题说完整" in back.text
        history = [Turn("柳溪县首届乡村年货节开市首日销售额是多少？", "186万元", "")]
        followed = bot.ask("那桐川县呢？", history=history)
        assert "请把问题说完整" not in followed.text and followed.query  # with a conversation: rewritten
    finally:
        bot.close()


def test_bad_input_is_explained_in_chinese(sample_index: Path) -> None:
    with pytest.raises(InputError) as bad:
        Filters.parse("2023-13-45")
    assert "--since" in str(bad.value) and bad.value.zh == "起始日期“2023-13-45”不是真实存在的日期，请检查月份和日子"
    with pytest.raises(InputError) as order:
        Filters.parse("2023-02-01", "2023-01-01")
    assert "晚于截止日期" in order.value.zh
    bot = make_fake_bot(sample_index)
    try:
        with pytest.raises(InputError) as long:
            bot.ask("问" * 600)
        assert long.value.zh == "问题太长了（600 个字，最多 500 个字），请精简后再问"
    finally:
        bot.close()


def test_archive_date_box_patterns() -> None:
    assert date_pattern("") is None
    assert date_pattern("2023-01-10") == "2023-01-10" and date_pattern("2023年1月") == "2023-01%"
    assert (
        date_pattern("2023") == "2023%" and date_pattern("1月10日") == "%-01-10" and date_pattern("1/10") == "%-01-10"
    )
    for bad in ("13月45日", "2023-13-45", "昨天"):
        with pytest.raises(InputError):
            date_pattern(bad)


def test_closest_passages_show_one_card_per_article() -> None:
    def hit(aid: int, headline: str, text: str) -> Hit:
        article = Article(f"d{aid}", "p.txt", text, headline=headline, id=aid)
        return Hit(Chunk(aid, text[:20], 0, 20, 0, aid * 10), article, 1.0)

    hits = [hit(1, "甲", "甲文" * 40), hit(1, "甲", "甲文" * 40), hit(2, "甲", "甲文" * 40), hit(3, "乙", "乙文" * 40)]
    assert [h.article.id for h in one_per_article(hits)] == [1, 3]  # the same article, and a reprint of it


def test_a_damaged_metadata_file_is_kept_aside_not_overwritten(tmp_path: Path) -> None:
    from rag.source_metadata import SourceMetadata

    (tmp_path / FILE).write_text('{"/a.txt": {"paper": "甲报"', encoding="utf-8")  # cut short
    meta = SourceMetadata(tmp_path)
    assert meta.load() == {}  # an ingest goes on without it
    meta.set("/b.txt", "乙报", None)
    assert meta.load() == {"/b.txt": {"paper": "乙报"}}
    assert (tmp_path / f"{FILE}.damaged").read_text(encoding="utf-8").startswith('{"/a.txt"')
