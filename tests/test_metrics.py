"""Scoring functions and the evaluation runner, against hand-computed numbers."""

from __future__ import annotations

import math

import pytest

from rag.evaluation.metrics import char_f1, contains_gold, evidence_in, exact_match, normalize, rouge_l
from rag.evaluation.questions import Question
from rag.evaluation.relevance import (
    all_evidence_rank,
    citation_precision,
    citation_recall,
    hit_at,
    hit_rank,
    mrr,
    ndcg_at,
)
from rag.models import REFUSAL, Article, Chunk, Hit


def make_hit(text: str, source: str = "a.txt", doc_id: str = "doc-a", rank: int = 0) -> Hit:
    art = Article(doc_id=doc_id, source=source, text=text, headline="标题", paper="郑州日报")
    return Hit(
        chunk=Chunk(article_id=1, text=text, start=0, end=len(text), position=0, id=rank),
        article=art,
        score=1.0,
        rank=rank,
    )


# ---------------------------------------------------------------- normalize


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("６７２个", "672个"),
        ("ＡＢＣ 天", "abc天"),
        ("1,234元", "1234元"),
        ("1，234 元", "1234元"),
        ("16.4\n天", "16.4天"),
        ("１６．４天", "16.4天"),
        ("16. 4天", "16.4天"),
        ("扶 群 众 发 放", "扶群众发放"),
        ("党组书\n\n记、主任", "党组书记主任"),
        ("以“52100”\n重点", "以52100重点"),
        ("《办法》自印发之日起施行,有效期3年。", "办法自印发之日起施行有效期3年"),
        ("增长12.3%。", "增长12.3%"),
        ("悦享生活·乐购示范", "悦享生活乐购示范"),
        ("完成了。下一", "完成了下一"),
        ("", ""),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


# ---------------------------------------------------------------- contains_gold


@pytest.mark.parametrize(
    "answer, gold, aliases, expected",
    [
        ("共有672个。", "672个", [], True),
        ("共有６７２个", "672个", [], True),
        ("共有672处", "672个", [], True),  # bare number counts for number+unit gold
        ("共有672", "672", [], True),
        ("共有672个", "672", [], True),
        ("共有6720个", "672", [], False),  # part of a longer number
        ("共有6720个", "672个", [], False),
        ("共有1672个", "672个", [], False),
        ("约为16.4天", "16.4天", [], True),
        ("约为16.45天", "16.4天", [], False),
        ("约为16.4", "16.4天", [], True),
        ("完成32.4亿元[1]", "32.4亿元", ["32.4亿"], True),
        ("有效期三年", "3年", ["三年"], True),
        ("有效期为 3 年", "3年", [], True),
        ("有效期13年", "3年", [], False),
        ("主任是孙广斌[1]。", "孙广斌", [], True),
        ("主任是孙广", "孙广斌", [], False),
        ("使用“三杯茶”方法调解", "“三杯茶”方法", ["三杯茶"], True),
        ("三全和思念两家企业", "三全、思念", [], True),  # list gold: every item present
        ("只有三全", "三全、思念", [], False),
        ("市委书记葛巧红，市长李亦博", "葛巧红；李亦博", [], True),
        ("共有1,234人", "1234人", [], True),
        (REFUSAL, "孙广斌", [], False),
        ("任何回答", "", [], False),
    ],
)
def test_contains_gold(answer, gold, aliases, expected):
    assert contains_gold(answer, gold, aliases) is expected


# ---------------------------------------------------------------- evidence_in


def test_evidence_in_normalised_match():
    assert evidence_in("惠济区农委党组书记、主任孙广斌说，今年", "惠济区农委党组书\n\n记、主任孙广斌说")
    assert evidence_in("党员干部帮扶群众发放物资", "帮 扶 群 众 发 放")
    assert evidence_in("2022年全国平均高温日数(16.4天)", "2022年全国平均高温日数（16.4\n天）")
    assert evidence_in("以“52100”重点工作项目化推进机制为抓手", "以“52100”\n重点工作项目化推进机制为抓手")


def test_evidence_in_split_at_chunk_boundary():
    evidence = "坐拥三全、思念两家全国知名的现代食品龙头企业"  # normalised: 21 chars
    assert len(normalize(evidence)) == 21
    # chunk ends after 17 of 21 chars (81%) -> counts
    assert evidence_in("惠济区坐拥三全、思念两家全国知名的现代食品", evidence)
    # next chunk starts with the last 17 chars -> counts
    assert evidence_in("思念两家全国知名的现代食品龙头企业。此外", evidence)
    # only 14 of 21 chars (67%) -> does not count
    assert not evidence_in("惠济区坐拥三全、思念两家全国知名", evidence)


def test_evidence_in_non_match():
    assert not evidence_in("许昌市公安局示范区分局", "惠济区农委党组书记主任孙广斌说")
    assert not evidence_in("任何文字", "")
    assert not evidence_in("", "证据")


# ---------------------------------------------------------------- ranks


def q_ev(**kw) -> Question:
    base = dict(id="q", question="?", answer="孙广斌", sources=["a.txt"], evidence=["党组书记、主任孙广斌说"])
    base.update(kw)
    return Question(**base)


def test_hit_rank_evidence_and_source():
    q = q_ev()
    hits = [
        make_hit("无关的内容"),
        make_hit("党组书记、主任孙广斌说", source="b.txt"),  # right text, wrong file
        make_hit("农委党组书\n记、主任孙广斌说过", source="/data/seeds/a.txt"),  # basename compare
    ]
    assert hit_rank(q, hits) == 3
    assert hit_rank(q, hits[:2]) is None
    assert hit_rank(q, []) is None


def test_hit_rank_document_based():
    q = Question(id="c", question="?", answer="x", gold_doc_ids=["crud-2", "crud-9"])
    hits = [make_hit("t", doc_id="crud-1"), make_hit("t", doc_id="crud-9"), make_hit("t", doc_id="crud-2")]
    assert hit_rank(q, hits) == 2
    assert all_evidence_rank(q, hits) == 2


def test_all_evidence_rank_multi_hop():
    q = q_ev(
        type="multi_hop", sources=["a.txt", "b.txt"], evidence=["依托“万人助万企”活动", "不是权宜之计，而是长久之\n策"]
    )
    hits = [
        make_hit("不是权宜之计,而是长久之策", source="a.txt"),  # ev2 text in the wrong file
        make_hit("刘寨街道依托“万人助万企”活动", source="a.txt"),
        make_hit("万人助万企不是权宜之计，而是长久之策", source="b.txt"),
    ]
    assert hit_rank(q, hits) == 2
    assert all_evidence_rank(q, hits) == 3
    assert all_evidence_rank(q, hits[:2]) is None
    # same file for both evidences (d022 shape)
    q2 = q_ev(sources=["a.txt", "a.txt"], evidence=["市委书记葛巧红", "市长李亦\n博"])
    hits2 = [make_hit("市长李亦博"), make_hit("x"), make_hit("市委书记葛巧红在")]
    assert hit_rank(q2, hits2) == 1
    assert all_evidence_rank(q2, hits2) == 3


def test_hit_at_and_mrr():
    ranks = [1, 3, None, 2]
    assert mrr(ranks) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert hit_at(ranks, 1) == 0.25
    assert hit_at(ranks, 2) == 0.5
    assert hit_at(ranks, 5) == 0.75
    assert hit_at([], 5) == 0.0 and mrr([]) == 0.0


# ---------------------------------------------------------------- exact match, F1, ROUGE-L


@pytest.mark.parametrize(
    "answer, gold, aliases, expected",
    [
        ("672个", "672个", [], True),
        ("６７２个", "672个", [], True),  # full width
        ("672 个。", "672个", [], True),  # OCR space, punctuation
        ("672个[1]", "672个", [], True),  # citation marker ignored
        ("672", "672个", [], False),  # exact means exact: the unit is missing
        ("三年", "3年", ["三年"], True),  # alias
        ("共672个", "672个", [], False),
        ("", "672个", [], False),
    ],
)
def test_exact_match(answer, gold, aliases, expected):
    assert exact_match(answer, gold, aliases) is expected


def test_char_f1_hand_computed():
    # pred 共有672个 (6 chars) vs gold 672个 (4): overlap 4 -> P 4/6, R 1 -> F1 0.8
    assert char_f1("共有672个", "672个") == pytest.approx(0.8)
    # 1,234人 normalises to 1234人: identical
    assert char_f1("1,234人", "１２３４人") == pytest.approx(1.0)
    # repeated characters are counted as a multiset: 王王 vs 王浩 -> overlap 1, P 1/2, R 1/2
    assert char_f1("王王", "王浩") == pytest.approx(0.5)
    assert char_f1("毫不相干", "672个") == 0.0
    assert char_f1("", "672个") == 0.0 and char_f1("672个", "") == 0.0
    # best over aliases: 三年 matches alias exactly
    assert char_f1("三年", "3年", ["三年"]) == pytest.approx(1.0)


def test_rouge_l_hand_computed():
    # LCS(局长王浩瞻说, 王浩瞻局长) = 王浩瞻 (3): P 3/6, R 3/5 -> F 2*.5*.6/1.1
    assert rouge_l("局长王浩瞻说", "王浩瞻局长") == pytest.approx(2 * 0.5 * 0.6 / 1.1)
    # order matters for ROUGE-L but not for F1
    assert rouge_l("个276", "672个") < char_f1("个276", "672个") == pytest.approx(1.0)
    assert rouge_l("672个[2]", "６７２个") == pytest.approx(1.0)
    assert rouge_l("", "x") == 0.0


# ---------------------------------------------------------------- nDCG and citations


def test_ndcg_single_target():
    q = q_ev()
    hit = make_hit("党组书记、主任孙广斌说")
    other = make_hit("无关")
    assert ndcg_at(q, [hit, other]) == pytest.approx(1.0)
    assert ndcg_at(q, [other, other, hit]) == pytest.approx(1 / math.log2(4))  # rank 3 -> 0.5
    assert ndcg_at(q, [other] * 10 + [hit]) == 0.0  # beyond @10
    # a second copy of the same evidence earns nothing more
    assert ndcg_at(q, [hit, hit]) == pytest.approx(1.0)


def test_ndcg_two_targets_document_based():
    q = Question(id="c", question="?", answer="x", gold_doc_ids=["d1", "d2"])
    d1, d2, x = make_hit("t", doc_id="d1"), make_hit("t", doc_id="d2"), make_hit("t", doc_id="x")
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at(q, [d1, d2, x]) == pytest.approx(1.0)
    assert ndcg_at(q, [x, d1, d2]) == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / ideal)
    assert ndcg_at(q, [d1, d1, x]) == pytest.approx(1 / ideal)
    assert ndcg_at(Question(id="u", question="?"), [d1]) == 0.0


def test_citation_precision_and_recall():
    q = q_ev(type="multi_hop", answer="孙广斌", sources=["a.txt", "a.txt"], evidence=["主任孙广斌说", "网格员672名"])
    ev1 = make_hit("农委主任孙广斌说")
    ev2 = make_hit("全区网格员672名")
    states_answer = make_hit("孙广斌出席", source="z.txt")  # no evidence, but states the answer
    wrong = make_hit("天气预报")
    assert citation_precision(q, [ev1, wrong]) == 0.5
    assert citation_precision(q, [ev1, states_answer]) == 1.0
    assert citation_precision(q, []) is None
    assert citation_recall(q, [ev1, wrong]) == 0.5
    assert citation_recall(q, [ev1, ev2]) == 1.0
    assert citation_recall(q, [states_answer]) == 0.0  # recall counts evidence, not mentions
    doc_q = Question(id="c", question="?", answer="基因标本", gold_doc_ids=["d1"])
    assert citation_recall(doc_q, [make_hit("t", doc_id="d1")]) == 1.0
    assert citation_recall(doc_q, [make_hit("收集了基因标本", doc_id="d7")]) == 1.0
    assert citation_recall(doc_q, [make_hit("t", doc_id="d7")]) == 0.0
