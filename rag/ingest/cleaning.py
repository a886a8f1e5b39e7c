"""Line-level OCR cleaning: widths, OCR spacing, page furniture and page headers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.ingest.dates import DATE as _DATE
from rag.ingest.dates import number, parse_date

# Latin names of papers printed in page headers → Chinese names.  Unknown names stay empty.
PAPER_NAMES = {
    "JIAOZUO DAILY": "焦作日报",
    "ZHENGZHOU DAILY": "郑州日报",
    "XUCHANG DAILY": "许昌日报",
    "HENAN DAILY": "河南日报",
    "LUOYANG DAILY": "洛阳日报",
    "KAIFENG DAILY": "开封日报",
    "XINXIANG DAILY": "新乡日报",
    "ANYANG DAILY": "安阳日报",
    "NANYANG DAILY": "南阳日报",
    "SHANGQIU DAILY": "商丘日报",
    "ZHOUKOU DAILY": "周口日报",
    "XINYANG DAILY": "信阳日报",
    "PINGDINGSHAN DAILY": "平顶山日报",
    "LUOHE DAILY": "漯河日报",
    "PUYANG DAILY": "濮阳日报",
    "HEBI DAILY": "鹤壁日报",
    "SANMENXIA DAILY": "三门峡日报",
    "ZHUMADIAN DAILY": "驻马店日报",
    "JIYUAN DAILY": "济源日报",
}

CJK = r"\u3400-\u9fff\uf900-\ufaff"
CJK_PUNCT = r"\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65“”‘’—…·"
_WIDTH = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)}  # ０-９
_WIDTH.update({c: c - 0xFEE0 for c in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
_WIDTH.update({c: c - 0xFEE0 for c in range(0xFF41, 0xFF5B)})  # ａ-ｚ
_WIDTH.update({0xFF05: ord("%"), 0xFF0B: ord("+"), 0xFF0E: ord("."), 0x3000: ord(" ")})

# A space next to a CJK character or CJK punctuation is an OCR artefact; a space between two
# Latin words or two numbers is real and stays.
_OCR_SPACE = re.compile(rf"(?<=[{CJK}{CJK_PUNCT}])[ \t]+|[ \t]+(?=[{CJK}{CJK_PUNCT}])")
_DIGIT_GAP = re.compile(r"(?<=\d)[ \t]+(?=[.%])|(?<=[.])[ \t]+(?=\d)")

# An all-caps banner (JIAOZUO DAILY, XI'AN EVENING NEWS), alone or before its page line.
_LATIN_PAPER = re.compile(
    r"^([A-Z][A-Z'&.\- ]{2,40}(?:DAILY|NEWS|EVENING|TIMES|POST|HERALD|JOURNAL|TRIBUNE|GAZETTE))(?![A-Za-z])\s*(.*)$"
)
_PAGE_LINE = re.compile(r"^([A-Z]?\d{1,3})\s*[│|｜]\s*(.*)$")
_BARE_PAGE_LINE = re.compile(r"^([A-Z]\d{1,3})\s*(.*)$")  # OCR drops the thin │ of A08│温县新闻2023年…
# 第A03版：民生 2024年6月18日, 第二版 民國十二年十二月六日 星期四: a page named in words, with its date
_NAMED_PAGE = re.compile(r"第\s*([A-Z]?\d{1,3}|[一二三四五六七八九十]{1,3})\s*版(?:\s*[:：]\s*([^\s\d]{2,8}))?")
_FURNITURE = re.compile(r"^(■|责任编辑|编辑[:：]|本版编辑|校对[:：]|组版[:：]|美编[:：]|本版图片)|供图$")
_WEEKDAY = re.compile(r"星期[一二三四五六日天]|周[一二三四五六日天]")
# A photo credit: 徐宏星 摄, 本报记者 刘金元 摄, （记者 王琳 通讯员 张成 摄）, 王琳/摄 (spaces gone after clean_line).
_ROLE = r"(?:本报|特约)?(?:摄影记者|记者|通讯员|实习生)"
_NAMES = rf"(?:{_ROLE})?[\u4e00-\u9fff·]{{2,4}}(?:[、\s]?(?:{_ROLE})?[\u4e00-\u9fff·]{{2,4}}){{0,2}}"
_PHOTO = rf"[（(]?{_NAMES}\s*[/／]?(?<![拍航])摄影?[）)]?"  # not 拍摄, 航摄
PHOTO_CREDIT = re.compile(rf"^{_PHOTO}$")
TRAILING_PHOTO_CREDIT = re.compile(rf"(?<=[。！？!?”])\s*({_PHOTO})$")


def normalize_width(text: str) -> str:
    """Full-width digits, Latin letters, %, + and ideographic space → ASCII."""
    return text.translate(_WIDTH)


def printed_line(line: str) -> str:
    """One OCR line with widths normalised and ends stripped, its spaces kept."""
    return normalize_width(line.replace("\ufeff", "")).strip()


def clean_line(line: str) -> str:
    """One OCR line → clean text: widths normalised, OCR spaces removed, ends stripped."""
    line = _OCR_SPACE.sub("", printed_line(line))
    line = _DIGIT_GAP.sub("", line)
    return re.sub(r"[ \t]{2,}", " ", line)


@dataclass
class PageHeader:
    """What a page header says: paper, date, page and one section per header seen."""

    paper: str = ""
    paper_latin: str = ""
    masthead: str = ""  # a Chinese paper name printed at the top of the page (商丘晚报)
    date: str = ""
    page: str = ""
    sections: list[str] = field(default_factory=list)


def furniture_kind(line: str) -> str | None:
    """Classify a cleaned line as page furniture: 'paper', 'page', 'furniture' or None."""
    m = _LATIN_PAPER.match(line)
    if m and (not m.group(2) or _page_kind(m.group(2))):
        return "paper"
    if _page_kind(line):
        return "page"
    if _FURNITURE.match(line) or ("编辑" in line and "│" in line):
        return "furniture"
    return None


def _page_kind(line: str) -> bool:
    """A page line: A08│温县新闻2023年1月10日 星期二 (or A08温县新闻… with the bar lost)."""
    m = _PAGE_LINE.match(line)
    if m and (_DATE.search(m.group(2)) or _WEEKDAY.search(m.group(2))):
        return True
    if len(line) <= 60 and _NAMED_PAGE.match(line) and _DATE.search(line):  # begins with its page
        return True
    m = _BARE_PAGE_LINE.match(line)
    date = _DATE.search(m.group(2)) if m else None
    return bool(m and date and not _WEEKDAY.sub("", m.group(2)[date.end() :]).strip())  # ends with its date


def read_header_line(header: PageHeader, kind: str, line: str) -> None:
    """Fold one furniture line into the page header being collected."""
    if kind == "paper":
        m = _LATIN_PAPER.match(line)
        assert m is not None
        latin = re.sub(r"\s+", " ", m.group(1).strip())
        header.paper_latin = header.paper_latin or latin
        header.paper = header.paper or PAPER_NAMES.get(latin, "")
        if m.group(2):
            read_header_line(header, "page", m.group(2))
    elif kind == "page" and not (_PAGE_LINE.match(line) or _BARE_PAGE_LINE.match(line)):
        named = _NAMED_PAGE.search(line)
        assert named is not None
        header.page = header.page or page_label(line)
        header.date = header.date or parse_date(line)
        if named.group(2) and named.group(2) not in header.sections:
            header.sections.append(named.group(2))
    elif kind == "page":
        m = _PAGE_LINE.match(line) or _BARE_PAGE_LINE.match(line)
        assert m is not None
        header.page = header.page or m.group(1)
        rest = m.group(2)
        header.date = header.date or parse_date(rest)
        section = _WEEKDAY.sub("", _DATE.sub("", rest)).strip(" │|")
        if section and section not in header.sections:
            header.sections.append(section)


def page_label(text: str) -> str:
    """The page a 第A03版 / 第3版 / 第二版 in ``text`` names: ``A03``, ``3版``, ``2版``; ``""`` if none."""
    named = _NAMED_PAGE.search(text)
    if not named:
        return ""
    label = named.group(1)
    return label if label[0] in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" else f"{number(label)}版"


def section_for(text: str, sections: list[str]) -> str:
    """Pick the page section whose place name the article mentions most (first when tied)."""
    if len(sections) <= 1:
        return sections[0] if sections else ""
    keys = [re.sub(r"(新闻|要闻|专版|专刊|综合)$", "", s) or s for s in sections]
    counts = [text.count(k) for k in keys]
    return sections[counts.index(max(counts))]


def photo_end(text: str) -> bool:
    """A line ending with a photo credit (… 呈现一派繁忙景象。 徐宏星 摄) ends a caption."""
    return bool(PHOTO_CREDIT.match(text) or TRAILING_PHOTO_CREDIT.search(text))
