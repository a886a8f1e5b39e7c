"""The extractive generator over hand-built hits: answers, citations, refusals, streaming."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from rag.generation import GENERATORS, make_generator
from rag.generation.candidates import located_on_page
from rag.generation.extractive import ExtractiveGenerator
from rag.models import REFUSAL, Answer, Article, Chunk, Hit
from rag.text.asked import read_question
from rag.text.question import asked_unit
from rag.text.sentences import sentence_spans
from rag.text.terms import content_terms

LIUXI_MEETING = (
    "本报讯 1月7日下午，市政协副主席、柳溪县县委书记葛思远主持召开县委常委会第23次（扩大）会议。"
    "县领导秦若川、单晓岚、柯雨桐等出席会议。\n"
    "会议传达学习了省委、市委主要领导指示批示精神，听取了县委人大工作会议筹备情况的汇报。"
)
LIUXI_STUDY = (
    "1月7日下午，柳溪县县委书记葛思远主持召开柳溪县县委理论学习中心组第9次集体学习会议。"
    "葛思远强调，要学出政治定力，更加自觉地在思想上政治上行动上同党中央保持高度一致。"
)
LIUXI_ARMY = (
    "1月7日下午，柳溪县县委常委会召开议军会议。市政协副主席、柳溪县县委书记、柳溪县人武部党委第一书记"
    "葛思远主持会议并讲话。会议指出，要突出政治引领，强化抓落实的政治担当。"
)
BAILU_GRID = (
    "白鹭区坚持党建引领，把网格作为服务群众的前沿阵地。"
    "目前，白鹭区共设置6个一级网格、97个二级网格，划分538个三级网格、2810个微网格。"
    "接入公安、住建、物业等各类视频资源3650路，实现城市重点区域全覆盖。"
)
BAILU_LEADERS = (
    "白鹭区商务局党组书记、局长邬志恒表示，将全面深入推进招商引资，创新开展消费提升活动。\n"
    "“我们将认真贯彻党的二十大精神，大力推进农业农村现代化。”白鹭区农委党组书记、"
    "主任俞小满说，将协同推进产业、人才、文化、生态、组织“五个振兴”等工作。"
)
PLAZA_GRID = (
    "青禾广场商圈创新“2461”工作体系，以党建引领专属网格建设，打破行政壁垒。"
    "商圈被划分为18个专属网格，涵盖商场、市场、人流聚集点等关键区域。"
)
PLAZA_SHOPS = "商圈内商户反映的难点问题得到及时解决，商户满意度明显提升。"
LECTURE = "4月18日，白鹭区第三期“白鹭大讲堂”如期举行，省社科院研究员、经济学博士宁采薇为该区干部授课。"
TONGCHUAN_CONSUMPTION = (
    "本报讯（记者尤嘉树）3 月 4 日至 15 日，桐川新区开展“乐享春光·惠购桐川”消费促进季第二期活动。"
    "通用类消费券的补贴范围为所有在青禾持工商银行卡的消费者。"
)


def make_hit(text: str, rank: int = 1, headline: str = "", offset: int = 0) -> Hit:
    """A hit whose chunk is ``text``, cut from an article that has ``offset`` characters before it."""
    body = "前文。" * (offset // 3) + text
    article = Article(
        doc_id=f"page{rank}.txt#1",
        source=f"page{rank}.txt",
        text=body,
        headline=headline,
        paper="青禾日报",
        date="2023-01-10",
        id=rank,
    )
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
    hits = hits_of(BAILU_GRID, LIUXI_MEETING)
    ans = gen.answer(read_question("白鹭区设置了多少个三级网格？"), hits)
    assert not ans.refused
    assert "538个三级网格" in ans.text
    assert ans.short == "538个" and ans.text.startswith("538个[1]。目前，白鹭区共设置6个一级网格")
    assert "[1]" in ans.text and "[2]" not in ans.text
    assert ans.citations[0].n == 1 and ans.citations[0].hit is hits[0]
    assert "538个三级网格" in ans.citations[0].quote
    assert ans.hits == hits
    assert_well_cited(ans)


def test_who_question_finds_the_person(gen):
    hits = hits_of(LIUXI_STUDY, BAILU_LEADERS, BAILU_GRID)
    ans = gen.answer(read_question("白鹭区农委主任是谁？"), hits)
    assert not ans.refused
    assert "俞小满" in ans.text
    assert ans.citations[0].hit is hits[1] and ans.citations[0].n == 1
    assert_well_cited(ans)


def test_answer_in_second_hit_is_numbered_one(gen):
    hits = hits_of(LIUXI_MEETING, PLAZA_GRID)
    ans = gen.answer(read_question("青禾广场商圈被划分为多少个专属网格？"), hits)
    assert not ans.refused
    assert "商圈被划分为18个专属网格，涵盖商场、市场、人流聚集点等关键区域。[1]" in ans.text
    assert ans.citations[0].n == 1
    assert ans.citations[0].hit is hits[1]  # numbered by use, not by rank
    assert_well_cited(ans)


def test_when_question_finds_the_date(gen):
    hits = hits_of(LIUXI_ARMY, TONGCHUAN_CONSUMPTION)
    ans = gen.answer(read_question("“乐享春光·惠购桐川”消费促进季第二期活动是什么时候办的？"), hits)
    assert not ans.refused
    assert "3 月 4 日至 15 日" in ans.text
    assert ans.citations[0].hit is hits[1]
    assert_well_cited(ans)


def test_no_hits_refuses(gen):
    ans = gen.answer(read_question("白鹭区设置了多少个三级网格？"), [])
    assert ans.refused and ans.text == REFUSAL and ans.reason
    assert ans.citations == [] and ans.hits == []


@pytest.mark.parametrize(
    "question, texts",
    [
        ("柳溪县县委书记的年龄是多少？", (LIUXI_MEETING, LIUXI_STUDY, LIUXI_ARMY)),
        ("青禾地铁一共有多少座运营车站？", (BAILU_GRID, PLAZA_GRID, LIUXI_MEETING)),
        ("2022年河南省全省的平均气温是多少度？", (BAILU_LEADERS, TONGCHUAN_CONSUMPTION)),
        ("白鹭大讲堂第四期是什么时候举办的？", (LECTURE, BAILU_GRID)),  # only the third is there
    ],
)
def test_irrelevant_hits_refuse_but_keep_hits(gen, question, texts):
    hits = hits_of(*texts)
    ans = gen.answer(read_question(question), hits)
    assert ans.refused, ans.text
    assert ans.text == REFUSAL and ans.reason
    assert ans.citations == []
    assert ans.hits == hits


def test_the_same_facts_asked_properly_are_answered(gen):
    ans = gen.answer(read_question("柳溪县县委书记是谁？"), hits_of(LIUXI_MEETING, LIUXI_STUDY, LIUXI_ARMY))
    assert not ans.refused and "葛思远" in ans.text
    assert_well_cited(ans)
    ans = gen.answer(read_question("白鹭大讲堂第三期是什么时候举办的？"), hits_of(LECTURE, BAILU_GRID))
    assert not ans.refused and "4月18日" in ans.text


def test_quantity_question_without_a_matching_number_shows_no_number(gen):
    hits = hits_of(PLAZA_GRID + PLAZA_SHOPS, BAILU_GRID)
    ans = gen.answer(read_question("青禾广场商圈有多少家商户？"), hits)  # 商户 is there, "N家" is not
    assert ans.short == "" and not re.match(r"\d", ans.text) and ans.hits == hits  # no number is made up
    asked_right = gen.answer(read_question("青禾广场商圈有多少个专属网格？"), hits)
    assert asked_right.short == "18个" and not asked_right.refused
    assert ans.refused or ans.confidence < asked_right.confidence


def test_threshold_bounds(gen):
    hits = hits_of(LIUXI_MEETING, LIUXI_STUDY)
    loose = ExtractiveGenerator(threshold=0.0).answer(read_question("柳溪县县委书记主持了什么体育比赛？"), hits)
    assert not loose.refused and loose.confidence is not None
    strict = ExtractiveGenerator(threshold=1.0).answer(read_question("柳溪县县委书记主持召开了什么会议？"), hits)
    assert strict.refused and strict.reason and strict.confidence is not None
    assert 0.0 < gen.threshold < 1.0 and gen.threshold == gen.model.threshold
    with pytest.raises(ValueError):
        ExtractiveGenerator(threshold=1.5)


def test_quotes_are_exact_substrings_even_with_ocr_spaces_and_line_breaks(gen):
    messy = (
        "“区委全会为全区实现高质量发展明确了‘时间表’。”白鹭区发改委党组书记、主任冉秋池说，\n"
        "区发改委将锚定区委工作部署，着力推进新兴产业重点培育。\n"
        "今年一季度，白鹭区汽车零售额完成 27.6 亿元，增长9.8%；社会消费品零售总额稳步回升。"
    )
    hits = [make_hit(LIUXI_STUDY, 1), make_hit(messy, 2, headline="白鹭区经济开门红", offset=30)]
    for q in (
        "今年一季度白鹭区的汽车零售额完成了多少？",
        "白鹭区发改委主任是谁？",
        "柳溪县县委书记是谁？",
        "白鹭区发改委将着力推进什么？",
    ):
        ans = gen.answer(read_question(q), hits)
        assert not ans.refused, q
        assert_well_cited(ans)
    ans = gen.answer(read_question("今年一季度白鹭区的汽车零售额完成了多少？"), hits)
    assert "27.6 亿元" in ans.text


def test_two_parts_from_two_sentences_of_one_hit_share_a_marker(gen):
    text = "青禾市委书记梅思源在市两会上作重要讲话。会议由市人大常委会主持。市委副书记、市长闵天佑作政府工作报告。"
    hit = make_hit(text)
    ans = gen.answer(read_question("青禾市的市委书记和市长分别是谁？"), [hit])
    assert not ans.refused
    assert ans.text.startswith("市委书记：梅思源[1]；市长：闵天佑[1]。"), ans.text
    assert len(ans.citations) == 1 and "梅思源" in ans.citations[0].quote and "闵天佑" in ans.citations[0].quote
    assert_well_cited(ans)


def test_stream_yields_pieces_then_the_answer(gen):
    hits = hits_of(LIUXI_MEETING, BAILU_GRID)
    question = "白鹭区设置了多少个三级网格？"
    items = list(gen.stream(read_question(question), hits))
    *pieces, final = items
    assert isinstance(final, Answer)
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == final.text
    assert final.text == gen.answer(read_question(question), hits).text
    *pieces, final = list(gen.stream(read_question("柳溪县县委书记的年龄是多少？"), hits))
    assert final.refused and "".join(pieces) == REFUSAL


def test_sentence_spans_keep_offsets_and_closing_quotes():
    text = "他说：“要抓好落实。”会议结束！\n\n  新的段落没有句号\n最后一句？"
    spans = sentence_spans(text, min_chars=4)
    assert [text[a:b] for a, b in spans] == ["他说：“要抓好落实。”", "会议结束！", "新的段落没有句号", "最后一句？"]


def test_question_words_are_not_content():
    terms = content_terms("请问白鹭区设置了多少个三级网格呢？")
    assert "白鹭" in terms and "网格" in terms
    assert not {"请问", "多少", "了", "呢", "个"} & set(terms)
    assert asked_unit("云峰公司一年能生产多少台发动机？") == "台"
    assert asked_unit("白鹭区有多少人口？") == ""


def test_make_generator():
    assert isinstance(make_generator("extractive"), ExtractiveGenerator)
    assert make_generator("Extractive").threshold == make_generator("extractive").model.threshold
    assert GENERATORS == ("extractive", "openai", "llamacpp")
    with pytest.raises(ValueError, match="extractive"):
        make_generator("gpt")


def test_typed_spans_and_refusals(gen):
    hits = hits_of(LIUXI_MEETING, BAILU_GRID)
    when = gen.answer(read_question("柳溪县县委常委会第23次（扩大）会议是哪天召开的？"), hits)
    assert when.short == "2023年1月7日" and when.text.startswith("2023年1月7日[")  # year from the paper's date
    # a place the passages are not about, a thing they never count, an ordinal they never mention
    assert "桐川县" in gen.answer(read_question("桐川县设置了多少个三级网格？"), hits).reason
    assert "体育场馆" in gen.answer(read_question("白鹭区设置了多少个体育场馆？"), hits).reason
    assert gen.answer(read_question("柳溪县县委常委会第24次会议是哪天召开的？"), hits).refused


WINTER_WORKS = "今冬以来，全县共修缮小型水利工程126处，清淤沟渠80公里，受益农田5.2万亩。"
YANSHAN_TREES = "柳溪县砚山镇组织干部群众开展冬季植树，栽下苗木1.8万株。"


def page_hit(source: str, n: int, text: str, rank: int) -> Hit:
    """A hit on story ``n`` of the printed page ``source`` (its doc_id ``<source>#<n>``)."""
    article = Article(doc_id=f"{source}#{n}@0a1b", source=source, text=text, page="A04", id=rank)
    chunk = Chunk(article_id=rank, text=text, start=0, end=len(text), position=0, id=rank * 10)
    return Hit(chunk=chunk, article=article, score=1.0 / rank, rank=rank)


def regions(image_page: int) -> str:
    """An article's regions JSON (rag.regions) with all its lines on one page image."""
    lines = [[image_page, 10, 10, 400, 40, 0, 200]]
    return json.dumps({"file": "p.pdf", "kind": "pdf", "pages": {str(image_page): [800, 1200]}, "lines": lines})


def test_a_place_every_other_story_of_the_page_names_is_the_pages_own(gen):
    """A local page's story says 全县 of the county the page is about; the question names it."""
    works, trees = page_hit("p.txt", 1, WINTER_WORKS, 1), page_hit("p.txt", 2, YANSHAN_TREES, 2)
    assert located_on_page(("柳溪县", "桐川县"), [works, trees])[id(works)] == ["柳溪县"]
    elsewhere = page_hit("q.txt", 2, YANSHAN_TREES, 2)  # the same words on another page
    assert located_on_page(("柳溪县",), [works, elsewhere])[id(works)] == []
    record = replace(works, article=replace(works.article, doc_id="rec-7", source="news.jsonl"))
    other = replace(trees, article=replace(trees.article, doc_id="rec-8", source="news.jsonl"))
    assert located_on_page(("柳溪县",), [record, other])[id(record)] == []  # rows of a JSONL file are no page
    scanned = [  # two stories of one PDF without page numbers: the page image tells them apart
        replace(h, article=replace(h.article, source="p.pdf", doc_id=f"p.pdf#{i}", page="", regions=regions(i)))
        for i, h in ((1, works), (2, trees))
    ]
    assert located_on_page(("柳溪县",), scanned)[id(scanned[0])] == []
    scanned[1].article.regions = regions(1)
    assert located_on_page(("柳溪县",), scanned)[id(scanned[0])] == ["柳溪县"]

    asked = gen.answer(read_question("柳溪县今冬修缮了多少处小型水利工程？"), [works, trees])
    assert not asked.refused and asked.short == "126处"
    assert_well_cited(asked)
    # another county, or the same words with the county named on another page only: refused
    assert "桐川县" in gen.answer(read_question("桐川县今冬修缮了多少处小型水利工程？"), [works, trees]).reason
    assert gen.answer(read_question("柳溪县今冬修缮了多少处小型水利工程？"), [works, elsewhere]).refused


def test_a_place_is_specific_by_its_suffix_whatever_jiebas_tag():
    """jieba tags 许昌市 a place name and 焦作市 a common noun: both must be in the passage."""
    from rag.text.intent import specific_words

    assert "焦作市" in specific_words("焦作市省级专精特新中小企业有多少家？")
    assert "许昌市" in specific_words("许昌市省级专精特新中小企业有多少家？")
    assert not {"哪些县", "些县"} & set(specific_words("石梁河流经哪些县？"))
