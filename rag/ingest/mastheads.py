"""Mastheads: the paper's own name printed at the top of a page (商丘晚报, 温县报, SHANGQIU EVENING NEWS).

A masthead is looked for only where a paper prints it: at the top of the page, before the first
line of text (dates, issue numbers and page headers may stand around it), or right beside a page
header further down.  A Chinese name must be a known paper or look like one: a short name ending
in a paper type (日报, 晚报, 都市报 …) or a place followed by 报 (温县报, 大河报), never a headline
word such as 通报, 喜报 or 捷报 and never a phrase with a verb in it (某某县发布重要通报).
"""

from __future__ import annotations

import re

from rag.ingest.cleaning import CJK, PAPER_NAMES, PageHeader, furniture_kind, page_label, read_header_line
from rag.ingest.dates import DATE, parse_date

KNOWN_PAPERS = frozenset(PAPER_NAMES.values())
_TYPES = ("都市报", "青年报", "法制报", "法治报", "农民报", "工人报", "日报", "晚报", "早报", "晨报", "商报", "时报")
_PLACE_END = "县市区州省镇乡旗盟城京津沪河江山湖海川原岛"  # 温县报, 大河报, 新京报
_NAME = re.compile(rf"^[{CJK}·]{{3,12}}$")
_NOT_PAPER_END = re.compile(r"(?:通|喜|捷|汇|预|举|公|情|简|电|警|海|回|申|上|填|呈|战|谍|年|月|季|学|画|板|墙|壁)报$")
_PHRASE = re.compile(  # words of a headline or a slogan, not of a name
    r"^[全本我各该这那某]|[的了把被]|机关报|召开|举行|开展|发布|发出|印发|走进|走访|慰问|关于|荣获|喜获|获评|表彰|祝贺|庆祝|欢迎|热烈"
    r"|订阅|征订|读懂|一图|图解|聚焦|点赞|致敬|重要|紧急|通知|公告|创刊"
)
_TITLE_BANNER = re.compile(r"^(?:[A-Z][a-z'&.-]+ ){1,4}(?:Daily|News|Times|Post|Herald|Journal|Tribune|Gazette)$")
# What a masthead strip prints besides the name: dates (lunar ones too), weekdays, issue numbers, publication numbers.
_TOP_PIECES = re.compile(
    rf"{DATE.pattern}|\d{{4}}[-./]\d{{1,2}}[-./]\d{{1,2}}|星期[一二三四五六日天]"
    r"|[（(]?总?第\s*\d+\s*期[）)]?|(?:今日|本期|共)\s*\d+\s*版"
    rf"|第\s*(?:[A-Z]?\d{{1,3}}|[一二三四五六七八九十]{{1,3}})\s*版(?:\s*[:：]?\s*[{CJK}]{{2,6}}(?=\s|$))?"
    r"|国内统一连续出版物号|CN\s*\d{2}\s*[-－]\s*\d{4}(?:\s*/\s*[A-Z]+)?|邮发代号[:：]?\s*\d+\s*[-－]\s*\d+"
    rf"|中共[{CJK}]{{1,12}}机关报|[{CJK}]{{2,12}}(?:社|集团|委)(?:主管|主办|出版)|www\.[\w.]+"
)
_SEPARATORS = re.compile(r"^[\s│|｜·•,，、:：/—\-]*$")
# traditional forms a masthead prints (晶報, 聯合報, 時報): matched as their simplified ones, kept as printed
_FOLD = str.maketrans("報時聯華國東臺廣陽晚", "报时联华国东台广阳晚")


def paper_like(name: str) -> bool:
    """Is this short line the name of a paper (柳溪日报, 温县报, 晶報) rather than a headline (捷报)?"""
    name = name.translate(_FOLD)
    if name in KNOWN_PAPERS:
        return True
    if not _NAME.match(name) or _PHRASE.search(name):
        return False
    kind = next((t for t in _TYPES if name.endswith(t)), "")
    if kind:
        return len(name) > len(kind)
    prefix = name[:-1]  # place + 报: 温县报, 大河报; never 通报, 喜报, 捷报
    return (
        name.endswith("报") and not _NOT_PAPER_END.search(name) and 2 <= len(prefix) <= 6 and prefix[-1] in _PLACE_END
    )


def top_furniture(text: str) -> bool:
    """A line of masthead strip only: 2023年1月10日 星期二, 第1234期, CN41-0001, 中共商丘市委机关报 …"""
    rest, found = _TOP_PIECES.subn("", text)
    return found > 0 and bool(_SEPARATORS.match(rest))


def masthead_line(text: str) -> tuple[str, str] | None:
    """(paper name, what follows it) when the line is a masthead, perhaps with its date on the line."""
    text = text.strip(" │|｜")
    if text in KNOWN_PAPERS:
        return text, ""
    for m in re.finditer("报", text[:16].translate(_FOLD)):
        name, rest = text[: m.end()].strip("《》 "), text[m.end() :].strip(" 》│|｜·")
        if paper_like(name) and (not rest or top_furniture(rest) or furniture_kind(rest) == "page"):
            return name, rest
    return None


def _top_kind(text: str) -> str | None:
    if masthead_line(text) or _TITLE_BANNER.match(text):
        return "masthead"
    return "date" if top_furniture(text) else None


def _beside_header(kinds: list[str | None], texts: list[str], i: int) -> bool:
    for step in (-1, 1):
        j = i + step
        while 0 <= j < len(texts) and not texts[j]:
            j += step
        if 0 <= j < len(texts) and kinds[j] in ("paper", "page"):
            return True
    return False


def page_furniture(texts: list[str]) -> list[str | None]:
    """The furniture kind of each cleaned line: 'paper', 'page', 'furniture', 'masthead', 'date' or None."""
    kinds = [furniture_kind(t) if t else None for t in texts]
    for i, text in enumerate(texts):  # the top of the page, down to its first line of text
        if text and not kinds[i]:
            kinds[i] = _top_kind(text)
            if kinds[i] is None:
                break
    for i, text in enumerate(texts):  # a masthead printed beside a page header further down
        if text and kinds[i] is None and _beside_header(kinds, texts, i) and masthead_line(text):
            kinds[i] = "masthead"
    return kinds


def read_furniture(header: PageHeader, kind: str, line: str) -> None:
    """Fold one furniture line, masthead and date lines included, into the page header."""
    if kind == "masthead":
        found = masthead_line(line)
        if found is None:  # a title-case Latin banner
            header.paper_latin = header.paper_latin or line
            return
        name, rest = found
        header.masthead = header.masthead or name
        if rest:
            read_furniture(header, furniture_kind(rest) or "date", rest)
    elif kind == "date":
        header.date = header.date or parse_date(line)
        header.page = header.page or page_label(line)
    else:
        read_header_line(header, kind, line)


def settle_paper(header: PageHeader) -> None:
    """The page's paper: the page header's, else the masthead's, else the Latin banner as printed."""
    header.paper = header.paper or header.masthead or header.paper_latin
