"""The one-change twins the reader and the answer models train on (bench/perturb.py): each
change is applied only where what it introduces is absent from the article."""

from __future__ import annotations

import random

import pytest
from perturb import cn_text, cn_value, orgs_in, pool_of, twin

from rag.reader import pair_text


@pytest.mark.parametrize(
    "text, value", [("一", 1), ("九", 9), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("12", 12)]
)
def test_chinese_numerals_read_and_written(text: str, value: int) -> None:
    assert cn_value(text) == value
    if not text.isdigit():
        assert cn_text(value) == text


def test_chinese_numerals_that_are_not_one() -> None:
    assert cn_value("一一") == 0 and cn_value("百") == 0 and cn_value("") == 0 and cn_text(100) == ""


def twins_of(question: str, article: str, questions: list[str], tries: int = 30) -> dict[str, set[str]]:
    pool = pool_of(questions)
    out: dict[str, set[str]] = {}
    for seed in range(tries):
        made = twin(question, article, pool, random.Random(seed))
        if made:
            out.setdefault(made[0], set()).add(made[1])
    return out


def test_a_chinese_ordinal_past_ten_is_changed() -> None:
    article = "第十二届青禾县读书节昨日开幕，共有三十所学校参加。"
    made = twins_of("第十二届青禾县读书节有多少所学校参加？", article, [])
    assert made["ordinal"] <= {f"第{n}届青禾县读书节有多少所学校参加？" for n in ("十一", "十三", "十四", "十五")}
    assert made["ordinal"]


def test_an_attribute_the_article_never_states() -> None:
    article = "柳溪大桥总投资3.2亿元，全长1.8公里，预计明年竣工通车。"
    made = twins_of("柳溪大桥总投资多少亿元？", article, [])
    assert made.get("attribute") == {"柳溪大桥占地面积多少亿元？"}
    stated = "柳溪大桥总投资3.2亿元，占地面积120亩。"  # the other attribute is there: no twin of it
    assert "attribute" not in twins_of("柳溪大桥总投资多少亿元？", stated, [])


def test_an_organisation_swapped_for_one_the_article_does_not_name() -> None:
    questions = ["青禾县交通运输局发布了什么通知？", "柳溪县卫生健康委员会召开了什么会议？"]
    assert orgs_in(questions[0]) == ["青禾县交通运输局"]
    article = "青禾县交通运输局发布通知，春节期间加开城乡公交。"
    made = twins_of(questions[0], article, questions)
    assert made["organisation"] == {"柳溪县卫生健康委员会发布了什么通知？"}


def test_the_reader_reads_a_sentence_with_its_headline_or_its_articles_lead() -> None:
    text = "青禾县文化广场改造工程昨日完工。工程总投资860万元。新增座椅120个。"
    assert pair_text("工程总投资860万元。", "广场改造完工", "2024-03-01", text) == (
        "2024年3月1日｜广场改造完工｜工程总投资860万元。"
    )
    assert pair_text("工程总投资860万元。", "", "", text) == "青禾县文化广场改造工程昨日完工。｜工程总投资860万元。"
    assert pair_text("青禾县文化广场改造工程昨日完工。", "", "", text) == "青禾县文化广场改造工程昨日完工。"
