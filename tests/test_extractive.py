"""The extractive generator over hand-built hits: answers, citations, refusals, streaming."""

from __future__ import annotations

import re

import pytest

from rag.generation import GENERATORS, make_generator
from rag.generation.extractive import (
    DEFAULT_MIN_SUPPORT,
    ExtractiveGenerator,
    asked_unit,
    content_terms,
    split_sentences,
)
from rag.models import REFUSAL, Answer, Article, Chunk, Hit

WENXIAN_MEETING = (
    "本报讯 1月7日下午，市政协副主席、温县县委书记杨磊主持召开县委常委会第40次（扩大）会议。"
    "县领导卢继成、李怀琛、孙启卫等出席会议。\n"
    "会议传达学习了省委、市委主要领导指示批示精神，听取了县委人大工作会议筹备情况的汇报。"
)
WENXIAN_STUDY = (
    "1月7日下午，温县县委书记杨磊主持召开温县县委理论学习中心组第17次集体学习会议。"
    "杨磊强调，要学出政治定力，更加自觉地在思想上政治上行动上同党中央保持高度一致。"
)
WENXIAN_ARMY = (
    "1月7日下午，温县县委常委会召开议军会议。市政协副主席、温县县委书记、温县人武部党委第一书记"
    "杨磊主持会议并讲话。会议指出，要突出政治引领，强化抓落实的政治担当。"
)
HUIJI_GRID = (
    "惠济区坚持党建引领，把网格作为服务群众的前沿阵地。"
    "目前，惠济区共设置8个一级网格、106个二级网格，划分672个三级网格、3376个微网格。"
    "接入公安、住建、物业等各类视频资源4982路，实现城市重点区域全覆盖。"
)
HUIJI_LEADERS = (
    "惠济区商务局党组书记、局长王浩瞻表示，将全面深入推进招商引资，创新开展消费提升活动。\n"
    "“我们将认真贯彻党的二十大精神，大力推进农业农村现代化。”惠济区农委党组书记、"
    "主任孙广斌说，将协同推进产业、人才、文化、生态、组织“五个振兴”等工作。"
)
ERQI_GRID = (
    "二七塔商圈创新“1368”工作体系，以党建引领专属网格建设，打破行政壁垒。"
    "商圈被划分为24个专属网格，涵盖商场、市场、人流聚集点等关键区域。"
)
ERQI_SHOPS = "商圈内商户反映的难点问题得到及时解决，商户满意度明显提升。"
LECTURE = "6月10日，惠济区第三期“惠济大讲堂”如期举行，财政部科研研究员、经济学博士张鹏为该区干部授课。"
JIAOZUO_CONSUMPTION = (
    "本报讯（记者郭树勋）1 月 9 日至 20 日，示范区开展“悦享生活·乐购示范”消费促进季第二期活动。"
    "通用类消费券的补贴范围为所有在焦作持工商银行卡的消费者。"
)


def make_hit(text: str, rank: int = 1, headline: str = "", offset: int = 0) -> Hit:
    """A hit whose chunk is ``text``, cut from an article that has ``offset`` characters before it."""
    body = "前文。" * (offset // 3) + text
    article = Article(doc_id=f"page{rank}.txt#1", source=f"page{rank}.txt", text=body,
                      headline=headline, paper="焦作日报", date="2023-01-10", id=rank)
    start = len(body) - len(text)
    chunk = Chunk(article_id=rank, text=text, start=start, end=len(body), position=0, id=rank * 10)
    return Hit(chunk=chunk, article=article, score=1.0 / rank, rank=rank)


def hits_of(*texts: str) -> list[Hit]:
    return [make_hit(t, rank=i) for i, t in enumerate(texts, 1)]


def assert_well_cited(ans: Answer) -> None:
    """Markers 1..n in order of first use, one citation each, quotes exact chunk substrings."""
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", ans.text)]
    assert markers, ans.text
    first_use = list(dict.fromkeys(markers))
    assert first_use == list(range(1, len(first_use) + 1))
    assert [c.n for c in ans.citations] == first_use
    for c in ans.citations:
        assert c.quote and c.quote in c.hit.chunk.text
        assert c.hit in ans.hits


@pytest.fixture(scope="module")
def gen() -> ExtractiveGenerator:
    return ExtractiveGenerator()


def test_numeric_question_quotes_the_number(gen):
    hits = hits_of(HUIJI_GRID, WENXIAN_MEETING)
    ans = gen.answer("惠济区设置了多少个三级网格？", hits)
    assert not ans.refused
    assert "672个三级网格" in ans.text
    assert ans.text.startswith("目前，惠济区共设置8个一级网格")
    assert "[1]" in ans.text and "[2]" not in ans.text
    assert ans.citations[0].n == 1 and ans.citations[0].hit is hits[0]
    assert "672个三级网格" in ans.citations[0].quote
    assert ans.hits == hits
    assert_well_cited(ans)


def test_who_question_finds_the_person(gen):
    hits = hits_of(WENXIAN_STUDY, HUIJI_LEADERS, HUIJI_GRID)
    ans = gen.answer("惠济区农委主任是谁？", hits)
    assert not ans.refused
    assert "孙广斌" in ans.text
    assert ans.citations[0].hit is hits[1] and ans.citations[0].n == 1
    assert_well_cited(ans)


def test_answer_in_second_hit_is_numbered_one(gen):
    hits = hits_of(WENXIAN_MEETING, ERQI_GRID)
    ans = gen.answer("二七塔商圈被划分为多少个专属网格？", hits)
    assert not ans.refused
    assert "商圈被划分为24个专属网格，涵盖商场、市场、人流聚集点等关键区域。[1]" in ans.text
    assert ans.citations[0].n == 1
    assert ans.citations[0].hit is hits[1]  # numbered by use, not by rank
    assert_well_cited(ans)


def test_when_question_finds_the_date(gen):
    hits = hits_of(WENXIAN_ARMY, JIAOZUO_CONSUMPTION)
    ans = gen.answer("“悦享生活·乐购示范”消费促进季第二期活动是什么时候办的？", hits)
    assert not ans.refused
    assert "1 月 9 日至 20 日" in ans.text
    assert ans.citations[0].hit is hits[1]
    assert_well_cited(ans)


def test_no_hits_refuses(gen):
    ans = gen.answer("惠济区设置了多少个三级网格？", [])
    assert ans.refused and ans.text == REFUSAL and ans.reason
    assert ans.citations == [] and ans.hits == []


@pytest.mark.parametrize(
    "question, texts",
    [
        ("温县县委书记的年龄是多少？", (WENXIAN_MEETING, WENXIAN_STUDY, WENXIAN_ARMY)),
        ("郑州地铁一共有多少座运营车站？", (HUIJI_GRID, ERQI_GRID, WENXIAN_MEETING)),
        ("2022年河南省全省的平均气温是多少度？", (HUIJI_LEADERS, JIAOZUO_CONSUMPTION)),
        ("惠济大讲堂第四期是什么时候举办的？", (LECTURE, HUIJI_GRID)),  # only the third is there
    ],
)
def test_irrelevant_hits_refuse_but_keep_hits(gen, question, texts):
    hits = hits_of(*texts)
    ans = gen.answer(question, hits)
    assert ans.refused, ans.text
    assert ans.text == REFUSAL and ans.reason
    assert ans.citations == []
    assert ans.hits == hits


def test_the_same_facts_asked_properly_are_answered(gen):
    ans = gen.answer("温县县委书记是谁？", hits_of(WENXIAN_MEETING, WENXIAN_STUDY, WENXIAN_ARMY))
    assert not ans.refused and "杨磊" in ans.text
    assert_well_cited(ans)
    ans = gen.answer("惠济大讲堂第三期是什么时候举办的？", hits_of(LECTURE, HUIJI_GRID))
    assert not ans.refused and "6月10日" in ans.text


def test_quantity_question_without_a_matching_number_refuses(gen):
    hits = hits_of(ERQI_GRID + ERQI_SHOPS, HUIJI_GRID)
    ans = gen.answer("二七塔商圈有多少家商户？", hits)  # 商户 is there, "N家" is not
    assert ans.refused and "数字" in ans.reason and ans.hits == hits
    assert not gen.answer("二七塔商圈有多少个专属网格？", hits).refused


def test_min_support_bounds(gen):
    hits = hits_of(WENXIAN_MEETING, WENXIAN_STUDY)
    assert not ExtractiveGenerator(min_support=0.0).answer("温县县委书记的年龄是多少？", hits).refused
    assert ExtractiveGenerator(min_support=1.0).answer("温县县委书记主持召开了什么体育比赛？", hits).refused
    assert 0.0 < DEFAULT_MIN_SUPPORT < 1.0
    with pytest.raises(ValueError):
        ExtractiveGenerator(min_support=1.5)
    with pytest.raises(ValueError):
        ExtractiveGenerator(max_sentences=0)


def test_quotes_are_exact_substrings_even_with_ocr_spaces_and_line_breaks(gen):
    messy = ("“区委全会为全区实现高质量发展明确了‘时间表’。”惠济区发改委党组书记、主任刘巍巍说，\n"
             "区发改委将锚定区委工作部署，着力推进新兴产业重点培育。\n"
             "今年一季度，惠济区汽车零售额完成 32.4 亿元，增长12.3%；社会消费品零售总额稳步回升。")
    hits = [make_hit(WENXIAN_STUDY, 1), make_hit(messy, 2, headline="惠济区经济开门红", offset=30)]
    for q in ("今年一季度惠济区的汽车零售额完成了多少？", "惠济区发改委主任是谁？", "温县县委书记是谁？",
              "惠济区发改委将着力推进什么？"):
        ans = gen.answer(q, hits)
        assert not ans.refused, q
        assert_well_cited(ans)
    ans = gen.answer("今年一季度惠济区的汽车零售额完成了多少？", hits)
    assert "32.4 亿元" in ans.text


def test_two_sentences_of_one_hit_share_a_marker():
    text = ("焦作市委书记葛巧红在市两会上作重要讲话。会议由市人大常委会主持。"
            "市委副书记、市长李亦博作政府工作报告。")
    hit = make_hit(text)
    ans = ExtractiveGenerator(max_sentences=2).answer("焦作市的市委书记和市长分别是谁？", [hit])
    assert not ans.refused
    assert "葛巧红" in ans.text and "李亦博" in ans.text
    assert ans.text.count("[1]") == 2 and len(ans.citations) == 1
    assert_well_cited(ans)
    one = ExtractiveGenerator(max_sentences=1).answer("焦作市的市委书记和市长分别是谁？", [hit])
    assert one.text.count("[1]") == 1


def test_stream_yields_pieces_then_the_answer(gen):
    hits = hits_of(WENXIAN_MEETING, HUIJI_GRID)
    question = "惠济区设置了多少个三级网格？"
    items = list(gen.stream(question, hits))
    *pieces, final = items
    assert isinstance(final, Answer)
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == final.text
    assert final.text == gen.answer(question, hits).text
    *pieces, final = list(gen.stream("温县县委书记的年龄是多少？", hits))
    assert final.refused and "".join(pieces) == REFUSAL


def test_split_sentences_keeps_offsets_and_closing_quotes():
    text = "他说：“要抓好落实。”会议结束！\n\n  新的段落没有句号\n最后一句？"
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == ["他说：“要抓好落实。”", "会议结束！", "新的段落没有句号", "最后一句？"]


def test_question_words_are_not_content():
    terms = content_terms("请问惠济区设置了多少个三级网格呢？")
    assert "惠济" in terms and "网格" in terms
    assert not {"请问", "多少", "了", "呢", "个"} & set(terms)
    assert asked_unit("瑞庆公司一年能生产多少台发动机？") == "台"
    assert asked_unit("惠济区有多少人口？") == ""


def test_make_generator():
    assert isinstance(make_generator("extractive"), ExtractiveGenerator)
    assert make_generator("extractive", min_support=0.3).min_support == 0.3
    assert GENERATORS == ("extractive",)
    with pytest.raises(ValueError, match="extractive"):
        make_generator("gpt")
