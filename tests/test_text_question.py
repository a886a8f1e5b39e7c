"""What a question asks for, and the span that answers it (fictional sentences)."""

from __future__ import annotations

import pytest

from rag.text.asked import read_question
from rag.text.question import asks_for, focus_of, mentions_place, places_in, predicate_of, specifics_in
from rag.text.spans import answer_span, resolve_date


@pytest.mark.parametrize(
    "question, kinds",
    [
        ("白鹭区设置了多少个三级网格？", ["quantity"]),
        ("年货节持续到哪一天？", ["when"]),
        ("柳溪县的县长是谁？", ["who"]),
        ("农博会在哪里开幕？", ["where"]),
        ("农博会设置了哪几个展区？", ["list"]),  # 哪几 is a list, not a number
        ("青石岭村以什么方式参与？", []),
    ],
)
def test_kinds(question, kinds):
    assert [a.kind for a in asks_for(question)] == kinds


@pytest.mark.parametrize(
    "question, places",
    [
        ("今年一季度白鹭区的汽车零售额完成了多少？", ["白鹭区"]),
        ("1月4日在忙着建温室大棚的，是温县哪个村的农民？", ["温县"]),  # 哪个村 is not a place
        ("柳溪县2023年的地区生产总值是多少？", ["柳溪县"]),  # 地区 is not a place
        ("桐川县落雁镇青石岭村的党支部书记是谁？", ["桐川县", "落雁镇", "石岭村"]),
        ("郑州地铁一共有多少座车站？", []),
    ],
)
def test_places(question, places):
    assert places_in(question) == places


def test_place_mentions_use_the_stem():
    assert mentions_place("白鹭区", "白鹭新区")  # stem 白鹭
    assert mentions_place("温县", "温县新闻")
    assert not mentions_place("温县", "温室大棚")  # a one-character stem is not enough
    assert not mentions_place("桐川县", "柳溪县")


@pytest.mark.parametrize(
    "question, focus",
    [
        ("郑州地铁现在一共有多少座运营车站？", "运营车站"),
        ("白鹭区设置了多少个三级网格？", "三级网格"),
        ("鹭江引水工程通水后，柳溪县居民用水的水价是多少？", "水价"),
        ("今年一季度白鹭区的汽车零售额完成了多少？", "汽车零售额"),
        ("年货节开幕第一天卖了多少钱？", ""),
        ("2022年全国平均高温日数有多少天？", "高温日数"),  # 平均 (an adverb to jieba) is left out
    ],
)
def test_focus(question, focus):
    assert focus_of(question) == focus


def test_predicate_and_specifics():
    assert predicate_of("年货节持续到哪一天？") == "持续"
    assert predicate_of("网格平台办结了多少件事件？") == "办结"
    assert specifics_in("白鹭大讲堂第四期是什么时候举办的？") == ["第四期"]


@pytest.mark.parametrize(
    "span, date, expected",
    [
        ("1月7日", "2023-01-10", "2023年1月7日"),
        ("12月28日", "2023-01-10", "2022年12月28日"),  # a December date in a January paper
        ("2021年5月", "2023-01-10", "2021年5月"),
        ("1月7日", "", "1月7日"),
    ],
)
def test_resolve_date(span, date, expected):
    assert resolve_date(span, date) == expected


@pytest.mark.parametrize(
    "question, sentence, date, span",
    [
        (
            "白鹭区设置了多少个三级网格？",
            "目前，白鹭区共设置6个一级网格、97个二级网格，划分538个三级网格。",
            "",
            "538个",
        ),
        ("网格平台办结了多少件事件？", "网格平台共受理各类事件8426件，办结8391件，办结率99.58%。", "", "8391件"),
        ("输水管线有多长？", "主要建设输水管线46.5公里、加压泵站2座。", "", "46.5公里"),
        ("年货节持续到哪一天？", "年货节将持续至1月14日。", "2024-01-07", "2024年1月14日"),
        ("白鹭区农委主任是谁？", "白鹭区农委党组书记、主任俞小满说，今年将继续办好农博会。", "", "主任俞小满"),
        (
            "青禾市的市委书记和市长分别是谁？",
            "青禾市委书记梅思源作讲话，市委副书记、市长闵天佑作报告。",
            "",
            "市委书记梅思源、市长闵天佑",
        ),
        ("桐川市的市委书记是谁？", "青禾市委书记梅思源作讲话。", "", ""),  # another city's secretary is no answer
        ("农博会设置了哪几个展区？", "本届农博会设置种子农资、农机装备、特色农产品、智慧农业4大展区。", "", None),
        ("青石岭村以什么方式参与？", "村民以房屋入股，每年可获得租金和分红。", "", ""),
    ],
)
def test_answer_span(question, sentence, date, span):
    got = answer_span(read_question(question), sentence, date)
    if span is None:  # a list: every item is in the span
        assert all(x in got for x in ("种子农资", "农机装备", "特色农产品", "智慧农业")), got
    else:
        assert got == span
