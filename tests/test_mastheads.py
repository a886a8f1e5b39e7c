"""Mastheads at the top of a page (商丘晚报, 温县报, Latin banners) on made-up pages."""

from __future__ import annotations

import pytest

from rag.ingest.cleaning import PageHeader, clean_line, furniture_kind, read_header_line
from rag.ingest.mastheads import masthead_line, paper_like, top_furniture
from rag.ingest.segment import segment_page

BUS = """市区新增三条公交线路
本报讯 记者从市公交公司获悉，1月9日起，市区新增三条公交线路，
新增公交线路连接城东新区和高铁站，方便城东居民出行。
"""
SCHOOL = """城南新建两所小学
本报讯 今年秋季，城南新建的两所小学将投入使用，新建小学共设
班级72个，可提供学位3240个，缓解城南片区入学压力。
"""


def _page(top: str) -> list:
    return segment_page(top + BUS + "\n" + SCHOOL, "page.txt")


@pytest.mark.parametrize(
    "top",
    [
        "商丘晚报\n",
        "商丘晚报\n2023年1月10日 星期二\n\n",
        "第4567期\n商丘晚报\n2023年1月10日 星期二\n",
        "商丘晚报 2023年1月10日 星期二\n",
        "《商丘晚报》 2023年1月10日 星期二 农历腊月十九 第4567期\n\n",
    ],
    ids=["alone", "date-below", "issue-above", "date-on-line", "whole-strip"],
)
def test_a_masthead_at_the_top_names_the_paper_and_leaves_the_headline(top: str) -> None:
    articles = _page(top)
    assert [a.headline for a in articles] == ["市区新增三条公交线路", "城南新建两所小学"]
    assert {a.paper for a in articles} == {"商丘晚报"}
    assert all("商丘晚报" not in a.text for a in articles)
    if "2023年" in top:
        assert {a.date for a in articles} == {"2023-01-10"}


@pytest.mark.parametrize(
    "name", ["柳溪日报", "温县报", "桐川都市报", "焦作日报"], ids=["ribao", "xianbao", "dushibao", "known"]
)
def test_paper_like_names(name: str) -> None:
    articles = _page(name + "\n")
    assert {a.paper for a in articles} == {name}
    assert articles[0].headline == "市区新增三条公交线路"


def test_the_page_header_names_the_paper_before_the_masthead() -> None:
    articles = _page("JIAOZUO DAILY\nA08│温县新闻2023年1月10日 星期二\n温县报\n\n")
    assert {(a.paper, a.page, a.date) for a in articles} == {("焦作日报", "A08", "2023-01-10")}
    assert articles[0].headline == "市区新增三条公交线路"


def test_an_unknown_latin_banner_is_never_a_headline() -> None:
    for top in ("SHANGQIU EVENING NEWS\n", "QINGHE DAILY\n柳溪日报\n", "Shangqiu Evening News\n2023年1月10日\n"):
        articles = _page(top)
        assert articles[0].headline == "市区新增三条公交线路"
        assert not any(w in a.headline + a.text for a in articles for w in ("NEWS", "News", "DAILY"))
        # the Chinese masthead wins; a banner alone is kept as printed rather than lost
        assert articles[0].paper == ("柳溪日报" if "柳溪日报" in top else top.split("\n")[0])


def test_a_banner_on_the_page_line() -> None:
    header = PageHeader()
    line = clean_line("JIAOZUO DAILY A08│温县新闻2023年1月10日 星期二")
    assert furniture_kind(line) == "paper"
    read_header_line(header, "paper", line)
    assert (header.paper, header.page, header.date, header.sections) == ("焦作日报", "A08", "2023-01-10", ["温县新闻"])


@pytest.mark.parametrize(
    "headline",
    ["县纪委监委发布重要通报", "捷报", "喜报", "全县安全生产情况通报", "年终喜报"],
    ids=["tongbao", "jiebao", "xibao", "qingkuang-tongbao", "nianzhong-xibao"],
)
def test_headlines_ending_in_bao_are_not_mastheads(headline: str) -> None:
    assert not paper_like(headline) and masthead_line(headline) is None
    # inside a page: a headline like any other
    page = BUS + "\n" + headline + "\n本报讯 近日，" + headline + "相关情况公布，全县各单位认真对照检查。\n"
    articles = segment_page(page, "page.txt")
    assert {a.paper for a in articles} == {""}
    assert any(headline in a.headline for a in articles)
    # first on the page: still a headline, and no paper
    articles = segment_page(headline + "\n本报讯 近日，" + headline + "相关情况公布，全县各单位认真对照。\n", "p.txt")
    assert articles[0].paper == "" and headline in articles[0].headline


def test_a_paper_name_below_the_first_text_is_left_alone() -> None:
    articles = segment_page(BUS + "\n柳溪日报\n" + SCHOOL, "page.txt")
    assert {a.paper for a in articles} == {""}


@pytest.mark.parametrize(
    "line, expected",
    [
        ("商丘晚报2023年1月10日星期二", ("商丘晚报", "2023年1月10日星期二")),
        ("商丘晚报第4567期", ("商丘晚报", "第4567期")),
        ("商丘晚报记者", None),
        ("热烈祝贺商丘晚报", None),
        ("中共商丘市委机关报", None),
    ],
    ids=["date", "issue", "reporter", "greeting", "organ"],
)
def test_masthead_line(line: str, expected) -> None:
    assert masthead_line(line) == expected


def test_top_furniture() -> None:
    assert top_furniture("2023年1月10日星期二农历腊月十九")
    assert top_furniture("国内统一连续出版物号CN41-0013")
    assert not top_furniture("2023年1月10日，市区新增三条公交线路")


@pytest.mark.parametrize(
    "top, paper, date, page",
    [
        ("柳溪日報\n中華民國一一三年六月十八日 星期二\n第三版 民生\n", "柳溪日報", "2024-06-18", "3版"),
        ("柳溪日报\n第A03版：民生 2026年6月18日 星期四\n", "柳溪日报", "2026-06-18", "A03"),
        ("第二版 民國十二年十二月六日 星期四\n柳溪晚報\n", "柳溪晚報", "1923-12-06", "2版"),
        ("柳溪日报\n二〇二三年一月十日 星期二\n", "柳溪日报", "2023-01-10", ""),
        ("柳溪時報\n光緒三十四年十月二十一日\n", "柳溪時報", "1908-11-14", ""),
        ("柳溪時報\n同治壬申三月廿三日 第一版\n", "柳溪時報", "1872-04-30", "1版"),
        ("柳溪晚報\n民國十二年舊曆十月廿九日\n", "柳溪晚報", "1923-12-06", ""),
        ("柳溪日报\n2023年8月17日 星期四 农历七月初一\n", "柳溪日报", "2023-08-17", ""),
        ("柳溪日报\n农历癸卯年七月初一 星期三\n", "柳溪日报", "", ""),
    ],
    ids=[
        "roc-traditional",
        "named-page",
        "roc-page-line",
        "chinese-figures",
        "qing-reign",
        "reign-cyclic-year",
        "roc-lunar",
        "gregorian-beats-lunar",
        "lunar-without-year",
    ],
)
def test_paper_date_and_page_as_real_pages_print_them(top: str, paper: str, date: str, page: str) -> None:
    """Issue 34 item 3: Republic of China years (民國一一三年 = 2024), dates in Chinese figures,
    lunar dates with a year to place them in (a Qing reign's, 民國's), traditional mastheads (報)
    and pages named 第A03版 / 第二版 are read from the page's own lines.  A Gregorian date is the
    page's over a lunar one printed beside it (where the two disagree, an OCR slip in one, the
    Gregorian); a lunar date whose cyclic year comes round every 60 years is furniture, never a
    headline, and gives no date."""
    articles = _page(top)
    assert [a.headline for a in articles] == ["市区新增三条公交线路", "城南新建两所小学"]
    assert {(a.paper, a.date, a.page) for a in articles} == {(paper, date, page)}
