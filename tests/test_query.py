"""Query-side reading: normalisation, filters stated in the question, follow-up rewriting,
the archive lexicon's name finder, near-duplicate collapse and the rerankers (no model)."""

from __future__ import annotations

import pytest

from rag.models import Article, Chunk, Filters, Hit, Turn
from rag.retrieval.diversity import collapse
from rag.retrieval.query import merge_filters, stated_filters
from rag.retrieval.rerank import AnswerTypeReranker, make_reranker
from rag.text.asked import read_question
from rag.text.followup import is_followup, rewrite
from rag.text.lexicon import collect_terms, names_in, quoted_in, select_words
from rag.text.normalize import normalize_query
from rag.text.tokenize import make_tokenizer

PAPERS, SECTIONS = ["焦作日报", "青禾日报"], ["温县新闻", "孟州新闻", "要闻"]


@pytest.mark.parametrize(
    "raw, want",
    [
        ("孟州市首屆年貨節在哪裡舉辦？", "孟州市首届年货节在哪里举办?"),
        ("扶 群 众 发 放 ６７２个", "扶群众发放 672个"),
        ("惠濟區  設置了多少個三級網格", "惠济区设置了多少个三级网格"),
        ("乾隆年间的皇后", "乾隆年间的皇后"),  # phrase-aware: 乾 stays
    ],
)
def test_normalize_query(raw: str, want: str) -> None:
    assert normalize_query(raw) == want


@pytest.mark.parametrize(
    "question, paper, since, section",
    [
        ("2023年1月的焦作日报上温县有什么新闻？", "焦作日报", "2023-01", None),
        ("2023年1月10日焦作日报报道了什么", "焦作日报", "2023-01-10", None),
        ("2023年1月份的报道里提到的年货节", None, "2023-01", None),
        ("温县新闻版上说了哪些村？", None, None, "温县新闻"),
        ("孟州版有什么消息", None, None, "孟州新闻"),
    ],
)
def test_stated_filters_recognised(question, paper, since, section) -> None:
    got = stated_filters(question, PAPERS, SECTIONS)
    assert (got.filters.paper, got.filters.since, got.filters.section) == (paper, since, section)
    assert got.filters.until == since
    assert len(got.shown) == sum(x is not None for x in (paper, since, section))


@pytest.mark.parametrize(
    "question",
    [
        "2022年全县地区生产总值是多少？",  # an event year, not a publication date
        "2023年7月中国乘用车市场零售量是多少？",
        "2023年1月8日孟州举办了什么活动",  # an event day
        "温县张羌街道马庄村在建什么？",  # a county, not a section
        "焦作日报和青禾日报都报道了什么",  # two papers: ambiguous
    ],
)
def test_no_filter_when_not_stated_unambiguously(question: str) -> None:
    got = stated_filters(question, PAPERS, SECTIONS)
    assert not got and got.filters.is_empty()


def test_explicit_filters_win_field_by_field() -> None:
    stated = stated_filters("2023年1月的焦作日报", PAPERS, SECTIONS)
    merged, shown = merge_filters(Filters(paper="青禾日报"), stated)
    assert merged.paper == "青禾日报" and merged.since == "2023-01" and shown == ["日期：2023-01"]
    assert merge_filters(None, stated_filters("惠济区", PAPERS, SECTIONS)) == (None, [])


def test_a_kind_the_user_dropped_is_not_read_from_the_question() -> None:
    stated = stated_filters("2023年1月的焦作日报", PAPERS, SECTIONS)
    merged, shown = merge_filters(Filters(unstated=("paper",)), stated)
    assert merged is not None and merged.paper is None and merged.since == "2023-01" and shown == ["日期：2023-01"]
    chosen = Filters(paper="焦作日报", since="2023-01-01", until="2023-01-31")
    assert chosen.without("date") == Filters(paper="焦作日报", unstated=("date",))
    assert chosen.without("paper").without("paper").unstated == ("paper",)
    assert Filters(unstated=("paper",)).is_empty()


DIALOGUES = [
    ("孟州市首届年货节在哪里举办？", "那温县呢？", "温县首届年货节在哪里举办？"),
    ("焦作市的市委书记是谁？", "那市长呢？", "焦作市的市长是谁？"),
    ("惠济区第三期“惠济大讲堂”是请谁来讲课的？", "第四期呢？", "惠济区第四期“惠济大讲堂”是请谁来讲课的？"),
    ("2022年全国平均高温日数有多少天？", "2021年呢？", "2021年全国平均高温日数有多少天？"),
    ("孟州市首届年货节在哪里举办？", "它什么时候开幕？", "孟州市首届年货节什么时候开幕？"),
    ("孟州市首届年货节在哪里举办？", "这个活动持续到哪一天？", "孟州市首届年货节持续到哪一天？"),
    ("惠济区农委主任是谁？", "他说了什么？", "惠济区农委主任说了什么？"),
    ("惠济区设置了多少个三级网格？", "那二七塔商圈呢？", "二七塔商圈设置了多少个三级网格？"),
    ("孟州市首届年货节在哪里举办？", "还有呢？", "孟州市首届年货节在哪里举办？"),
]


@pytest.mark.parametrize("previous, question, want", DIALOGUES)
def test_followups_rewritten(previous: str, question: str, want: str) -> None:
    assert is_followup(question)
    assert rewrite(question, [Turn(previous)]) == want


def test_standalone_questions_left_alone() -> None:
    history = [Turn("惠济区农委主任是谁？")]
    for q in ("温县张羌街道马庄村在建什么？", "郑州地铁现在一共有多少座运营车站？"):
        assert not is_followup(q) and rewrite(q, history) == q
    assert rewrite("那温县呢？", []) == "那温县呢？"  # no history: nothing to carry over


def test_he_after_a_who_question_is_the_answered_person() -> None:
    history = [Turn("惠济区第三期“惠济大讲堂”是请谁来讲课的？", answer="张鹏[1]")]
    assert rewrite("他是哪个单位的？", history) == "张鹏是哪个单位的？"
    history = [Turn("惠济区农委主任是谁？", answer="主任孙广斌[1]。")]
    assert rewrite("他说了什么？", history) == "孙广斌说了什么？"
    quoted = [
        Turn(
            "惠济区第三期“惠济大讲堂”是请谁来讲课的？",
            answer="6月10日，惠济区第三期“惠济大讲堂”如期举行，财政部科研研究员、经济学博士张鹏围绕需求收缩作报告。",
        )
    ]
    assert rewrite("他是哪个单位的？", quoted) == "张鹏是哪个单位的？"
    nobody = [Turn("惠济区农委主任是谁？", answer="资料中没有找到可以回答这个问题的内容。")]
    assert rewrite("他说了什么？", nobody) == "惠济区农委主任说了什么？"


def test_followup_chain_uses_the_rewritten_turn() -> None:
    history = [Turn("孟州市首届年货节在哪里举办？", query=""), Turn("那温县呢？", query="温县首届年货节在哪里举办？")]
    assert rewrite("它什么时候开幕？", history) == "温县首届年货节什么时候开幕？"


def test_lexicon_names_and_stems() -> None:
    text = "惠济区花园口镇八堡村的群众和温县张羌街道马庄村农民，全县城市，消费市场，“郑好融”平台"
    names = dict(names_in(text))
    assert {"花园口镇", "八堡村", "张羌街道", "马庄村"} <= set(names)
    assert names["张羌街道"] == "张羌"
    assert not {"全县", "县城市", "城市", "消费市"} & set(names)  # function start / common word
    assert quoted_in(text) == ["郑好融"]
    words = select_words(collect_terms([text, text]))
    assert {"花园口镇", "八堡村", "张羌", "郑好融"} <= set(words)
    assert "温县" not in words  # jieba knows it already


def test_lexicon_words_cut_as_one_term() -> None:
    plain, archive = make_tokenizer(), make_tokenizer(words=["花园口镇", "八堡村", "张羌", "张羌街道"])
    text = "惠济区花园口镇八堡村和张羌街道"
    assert "花园口镇" not in plain(text) and "镇八堡" in plain(text)
    got = archive(text)
    assert {"花园口镇", "八堡村", "张羌街道", "张羌", "花园口"} <= set(got) and "镇八堡" not in got
    assert "花园口镇" not in make_tokenizer()(text)  # the shared jieba dictionary is untouched


def _hit(cid: int, aid: int, text: str, rank: int) -> Hit:
    art = Article(doc_id=f"d{aid}", source="s.txt", text=text, headline=f"h{aid}", id=aid)
    return Hit(Chunk(aid, text, 0, len(text), 0, id=cid), art, 1.0 / rank, rank)


def test_collapse_caps_articles_and_drops_copies() -> None:
    story = "新华社北京1月9日电 国务院新闻办公室今天举行发布会，介绍了今年春运的总体安排和主要措施。"
    hits = [
        _hit(1, 1, story, 1),
        _hit(2, 1, "同一篇文章的另一段，讲的是别的事情。", 2),
        _hit(3, 2, "（转载）" + story, 3),
        _hit(4, 3, "第三篇文章讲的是孟州年货节的情况。", 4),
    ]
    got = collapse(hits, 5, per_article=1, near_dup=0.8)
    assert [h.chunk.id for h in got] == [1, 4] and [h.rank for h in got] == [1, 2]
    assert [h.chunk.id for h in collapse(hits, 5, per_article=2, near_dup=1.0)] == [1, 2, 3, 4]
    assert [h.chunk.id for h in collapse(hits, 2, per_article=0, near_dup=1.0)] == [1, 2]


def test_answer_type_reranker_prefers_the_passage_that_answers() -> None:
    q = "瑞庆汽车发动机技术有限公司一年能生产多少台发动机？"
    talk = _hit(1, 1, "瑞庆汽车发动机技术有限公司是当地重点企业，发动机技术领先，企业发展很快。", 1)
    answer = _hit(2, 2, "瑞庆汽车发动机技术有限公司投产后，一年能生产发动机44万台。", 2)
    got = AnswerTypeReranker(weight=0.05).rerank(read_question(q), [talk, answer])
    assert [h.chunk.id for h in got] == [2, 1] and [h.rank for h in got] == [1, 2]
    assert got[0].scores["answer-type"] > got[1].scores["answer-type"]


def test_make_reranker_specs() -> None:
    assert make_reranker("") is None and make_reranker("none") is None
    assert isinstance(make_reranker("answer-type"), AnswerTypeReranker)
    with pytest.raises(ValueError, match="unknown reranker"):
        make_reranker("bge")


@pytest.mark.slow  # imports sentence-transformers (torch)
def test_a_cross_encoder_that_cannot_load_offline_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="cannot load the cross-encoder"):
        make_reranker("cross-encoder:/nonexistent/reranker-folder")


def test_collapse_merges_the_next_chunk_of_a_kept_article() -> None:
    text = "第一句讲开幕。第二句讲人数。第三句讲销售额186万元。第四句讲别的。"
    art = Article(doc_id="d1", source="s.txt", text=text, headline="年货节", id=1)
    other = Article(doc_id="d2", source="s.txt", text="另一篇文章。", headline="别的", id=2)
    c0, c1, c3 = (
        Chunk(1, text[a:b], a, b, i, id=i + 1) for i, (a, b) in enumerate([(0, 14), (14, 30), (30, len(text))])
    )
    hits = [Hit(c0, art, 0.9, 1), Hit(Chunk(2, other.text, 0, 6, 0, id=9), other, 0.8, 2), Hit(c1, art, 0.7, 3)]
    got = collapse(hits, 2, per_article=1, near_dup=1.0, merge_chars=900)
    assert [h.article.id for h in got] == [1, 2]
    assert got[0].chunk.text == text[:30] and (got[0].chunk.start, got[0].chunk.end) == (0, 30)
    assert "186万元" in got[0].chunk.text
    far = [Hit(c0, art, 0.9, 1), Hit(c3, art, 0.7, 2)]  # not touching: dropped, not merged
    assert collapse(far, 2, 1, 1.0, 900)[0].chunk.text == text[:14]
    assert collapse(hits, 2, 1, 1.0, merge_chars=20)[0].chunk.text == text[:14]  # too long
