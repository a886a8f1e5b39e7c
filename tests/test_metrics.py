"""Scoring functions and the evaluation runner, against hand-computed numbers."""

from __future__ import annotations

import json

import pytest

from rag.evaluation.metrics import (
    all_evidence_rank,
    contains_gold,
    evidence_in,
    hit_at,
    hit_rank,
    mrr,
    normalize,
)
from rag.evaluation.questions import Question
from rag.evaluation.runner import EvalResult, evaluate
from rag.models import REFUSAL, Answer, Article, Chunk, Citation, Hit


def make_hit(text: str, source: str = "a.txt", doc_id: str = "doc-a", rank: int = 0) -> Hit:
    art = Article(doc_id=doc_id, source=source, text=text, headline="标题", paper="郑州日报")
    return Hit(chunk=Chunk(article_id=1, text=text, start=0, end=len(text), position=0, id=rank),
               article=art, score=1.0, rank=rank)


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
    base = dict(id="q", question="?", answer="孙广斌", sources=["a.txt"],
                evidence=["党组书记、主任孙广斌说"])
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
    q = q_ev(type="multi_hop", sources=["a.txt", "b.txt"], evidence=["依托“万人助万企”活动", "不是权宜之计，而是长久之\n策"])
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


# ---------------------------------------------------------------- runner

class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_evaluate_three_questions():
    qs = [
        Question(id="q1", question="惠济区农委主任是谁？", answer="孙广斌", type="who",
                 sources=["a.txt"], evidence=["主任孙广斌说"]),
        Question(id="q2", question="郑州地铁有多少车站？", answer="", type="unanswerable"),
        Question(id="q3", question="有效期几年？", answer="3年", aliases=["三年"], type="factoid",
                 sources=["b.txt"], evidence=["有效期3年"]),
    ]
    clock = FakeClock()
    durations = {"q1": 1.0, "q2": 3.0, "q3": 2.0}
    by_text = {q.question: q for q in qs}

    def ask(text: str) -> Answer:
        q = by_text[text]
        clock.t += durations[q.id]
        if q.id == "q1":
            hits = [make_hit("别的新闻", rank=1), make_hit("农委主任孙广斌说", rank=2)]
            return Answer(question=text, text="主任是孙广斌[1]。", hits=hits,
                          citations=[Citation(n=1, hit=hits[1], quote="主任孙广斌")])
        if q.id == "q2":
            return Answer(question=text, text=REFUSAL, refused=True, hits=[make_hit("地铁新闻")])
        return Answer(question=text, text=REFUSAL, refused=True,
                      hits=[make_hit("施行，有效期3年", source="b.txt", rank=1)])

    seen = []
    res = evaluate(qs, ask, k=5, progress=lambda i, n, r: seen.append((i, n, r.question.id)), clock=clock)
    assert seen == [(1, 3, "q1"), (2, 3, "q2"), (3, 3, "q3")]
    r1, r2, r3 = res.results
    assert (r1.rank, r1.contains_gold, r1.refused, r1.seconds) == (2, True, False, 1.0)
    assert (r2.rank, r2.refused, r2.seconds) == (None, True, 3.0)
    assert (r3.rank, r3.contains_gold, r3.refused, r3.seconds) == (1, False, True, 2.0)

    o = res.overall
    assert (o["n"], o["answerable"], o["unanswerable"]) == (3, 2, 1)
    assert o["hit@1"] == 0.5 and o["hit@5"] == 1.0
    assert o["mrr"] == pytest.approx((1 / 2 + 1) / 2)
    assert o["contains_gold"] == 0.5
    assert o["refusal_rate"] == 1.0
    assert o["false_refusal_rate"] == 0.5
    assert o["median_seconds"] == 2.0
    assert o["errors"] == 0 and o["all_evidence_hit@5"] is None

    t = res.by_type
    assert list(t) == ["who", "unanswerable", "factoid"]
    assert t["who"]["hit@1"] == 0.0 and t["who"]["hit@5"] == 1.0 and t["who"]["mrr"] == 0.5
    assert t["who"]["contains_gold"] == 1.0 and t["who"]["false_refusal_rate"] == 0.0
    assert t["who"]["refusal_rate"] is None
    assert t["unanswerable"]["hit@1"] is None and t["unanswerable"]["mrr"] is None
    assert t["unanswerable"]["refusal_rate"] == 1.0 and t["unanswerable"]["median_seconds"] == 3.0
    assert t["factoid"]["hit@1"] == 1.0 and t["factoid"]["mrr"] == 1.0
    assert t["factoid"]["contains_gold"] == 0.0 and t["factoid"]["false_refusal_rate"] == 1.0

    d = json.loads(json.dumps(res.to_dict(include_questions=True), ensure_ascii=False))
    assert d["k"] == 5 and d["overall"]["mrr"] == pytest.approx(0.75)
    q1 = d["questions"][0]
    assert q1["rank"] == 2 and q1["answer"] == "主任是孙广斌[1]。" and q1["seconds"] == 1.0
    assert q1["hits"][1]["text"] == "农委主任孙广斌说" and q1["citations"][0]["quote"] == "主任孙广斌"
    assert d["questions"][1]["refused"] is True
    assert "questions" not in res.to_dict(include_questions=False)

    rows = res.summary_rows()
    assert [r[0] for r in rows] == ["overall", "who", "unanswerable", "factoid"]
    assert all(len(r) == len(EvalResult.summary_headers()) for r in rows)
    assert rows[0][1:5] == ["3", "0.500", "1.000", "0.750"]
    assert rows[2][2] == "—"


def test_evaluate_k_cuts_hits_and_records_errors():
    q = Question(id="q", question="谁？", answer="孙广斌", sources=["a.txt"], evidence=["孙广斌说"])
    bad = Question(id="bad", question="boom", answer="x", gold_doc_ids=["d"])

    def ask(text: str) -> Answer:
        if text == "boom":
            raise RuntimeError("model crashed")
        return Answer(question=text, text="孙广斌", hits=[make_hit("a"), make_hit("b"), make_hit("孙广斌说")])

    res = evaluate([q, bad], ask, k=2)
    assert res.results[0].rank is None  # evidence only at rank 3 > k
    assert res.results[1].error == "RuntimeError: model crashed"
    assert res.overall["errors"] == 1 and res.overall["hit@2"] == 0.0
    with pytest.raises(ValueError):
        evaluate([q], ask, k=0)
