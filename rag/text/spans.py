"""The span of a sentence that answers a question: a number with the asked unit, a person (by
the role the question names), a date (year resolved from the paper's date), a place, an
ordinal or a list — or nothing.

A span is shown only when it is a *whole expression* of the asked kind: it starts and ends on
jieba word boundaries (一个月 gives no 一个, 这一目标 no 一目, 千方百计 no 百计), a quantity
carries the unit the question asks in (人次 is not 人, 个百分点 is not %), a quantity asked
without a unit is not a date, and a person is a name (not 主任在).  Otherwise the caller
quotes the supporting sentence instead."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from rag.text.normalize import CJK, compact, nfkc
from rag.text.people import who_span
from rag.text.question import (
    ASKS_YEAR,
    FULL_DATE,
    UNIT_WORDS,
    WH_WORD,
    WHO,
)
from rag.text.tokenize import jieba_module

if TYPE_CHECKING:
    from rag.text.asked import Question


def resolve_date(span: str, article_date: str) -> str:
    """``1月7日`` in an article dated 2023-01-10 → ``2023年1月7日`` (a December date in a January
    paper is last year's); spans with a year, or without an article date, stay as they are."""
    m = FULL_DATE.search(span)
    if not m or m.group(1) or not re.match(r"\d{4}-\d{2}", article_date or ""):
        return span
    year, month = int(article_date[:4]), int(article_date[5:7])
    if int(m.group(2)) > month + 1:
        year -= 1
    return f"{year}年{span}"


class Found:
    """A candidate span: where it starts in the sentence and its text (the part of re.Match
    ``_pick`` uses; places are found by words, not by one regex)."""

    def __init__(self, start: int, text: str) -> None:
        self._start, self._text = start, text

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._start + len(self._text)

    def group(self) -> str:
        return self._text


def _pick(matches: Sequence[Found | re.Match], sentence: str, focus: str, predicate: str, terms: list[str]):
    """The match that answers: the one right before the thing counted (划分538个三级网格), else
    right after the question's predicate (办结8391件), else the one nearest any question word."""
    if not matches:
        return None
    for m in matches:
        if focus and sentence[m.end() : m.end() + len(focus) + 1].lstrip("的").startswith(focus):
            return m
    for m in matches:
        if predicate and predicate in sentence[max(0, m.start() - len(predicate) - 2) : m.start()]:
            return m
    anchors = [x.start() for t in terms for x in re.finditer(re.escape(t), sentence)]
    if not anchors:
        return matches[0]
    return min(matches, key=lambda m: min(min(abs(m.end() - a), abs(m.start() - a)) for a in anchors))


_NUMBER = r"(?:\d+(?:[.,]\d+)*|[零〇一二两三四五六七八九十百千]+)"
QUANTITY_SPAN = re.compile(
    rf"(?P<num>{_NUMBER})\s*(?P<mult>[万亿千百]{{0,2}})\s*(?:余|多)?\s*(?P<unit>{UNIT_WORDS}|%|％)"
    rf"|(?P<bare>\d+(?:\.\d+)?)\s*(?P<bmult>[万亿]{{1,2}})(?:余|多)?(?![{CJK}])"  # 156.51万 (no measure word)
)
DATE_SPAN = re.compile(
    r"(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*[日号]?\s*(?:至|到|—|-|－|～|~)\s*(?:\d{1,2}\s*月\s*)?\d{1,2}\s*[日号]"
    r"|(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*(?:\d{1,2}\s*[日号])?"
    r"|\d{4}\s*年(?:\s*[上下]半年|\s*[一二三四]季度)?|[一二三四五六七八九十]+月(?:[一二三]?十?[一二三四五六七八九十]?日)?"
)
ORDINAL_SPAN = re.compile(
    r"第\s*[一二三四五六七八九十百千\d]+\s*(?:名|位|届|次|批|期|个|家|轮|季|站)?|首届|首位|首个|首批|榜首|冠军|亚军|季军|"
    r"[一二三]等奖|金奖|银奖|铜奖"
)
# a place after a locative word, up to the verb or punctuation that ends it (在惠济区举办 → 惠济区)
PLACE_SPAN = re.compile(
    rf"(?:在|于|位于|落户|来到|到了|搬到|迁到|地处|坐落于|坐落在|设在|选址)(?P<place>[{CJK}A-Za-z0-9（）()·]{{2,24}}?)"
    r"(?=举行|举办|开幕|召开|开展|启动|落成|建成|进行|开业|亮相|上演|展出|设立|成立|揭牌|[，。、；,;：:]|$)"
)
_UNIT_FAMILIES = (
    {"元", "万元", "亿元", "港元", "港币"},
    {"人", "名", "位", "万人"},
    {"公里", "千米"},
    {"个百分点", "百分点"},
    {"千克", "公斤"},
    {"%", "％"},
    {"吨", "万吨"},
    {"亩", "万亩"},
)
_DATE_UNITS = {"月", "日", "号", "时", "分", "秒", "周"}


@lru_cache(maxsize=1024)
def word_bounds(sentence: str) -> frozenset[int]:
    """Offsets where a jieba word starts or ends in ``sentence``."""
    jieba_module()
    import jieba

    return frozenset(b for _, start, end in jieba.tokenize(sentence) for b in (start, end))


def is_whole(sentence: str, start: int, end: int) -> bool:
    """``sentence[start:end]`` starts and ends on word boundaries (not a piece of a word)."""
    bounds = word_bounds(sentence)
    return start in bounds and end in bounds


def unit_fits(asked: str, unit: str, number: str) -> bool:
    """A quantity's unit answers a question asking in ``asked`` ("": any unit but a date's)."""
    unit = compact(unit)
    if not asked:
        if unit in _DATE_UNITS:
            return False
        return not (unit == "年" and re.fullmatch(r"\d{4}", number))  # 2024年 is a date
    if unit == "年" and re.fullmatch(r"\d{4}", number):
        return False  # 2024年 is a date, not a number of years
    if unit == asked:
        return True
    return any(asked in family and unit in family for family in _UNIT_FAMILIES)


def _quantity(question: Question, sentence: str, q: str) -> list[re.Match]:
    unit = question.intent.unit
    return [
        m
        for m in QUANTITY_SPAN.finditer(sentence)
        if compact(m.group()) not in q
        and is_whole(sentence, m.start(), m.end())
        and (
            (m.group("bare") is not None and not unit)  # 156.51万 answers only a question asking in no unit
            or (
                m.group("num") is not None
                and not re.fullmatch(r"[一两]", m.group("num") + m.group("mult"))  # 一个, 一批: not a count
                and unit_fits(unit, m.group("unit"), m.group("num"))
            )
        )
    ]


def _whole_matches(pattern: re.Pattern, sentence: str, q: str) -> list[re.Match]:
    return [
        m for m in pattern.finditer(sentence) if compact(m.group()) not in q and is_whole(sentence, m.start(), m.end())
    ]


_PLACE_END = re.compile(
    r"(?:省|市|县|区|镇|乡|村|街道|社区|路|街|道|巷|广场|中心|馆|园|场|厅|寺|宫|山|湖|河|江|海|港|站|楼|院|校|大学|"
    r"公司|基地|岛|城|州|国|桥|口|门|坊|所|室|亭|阁|会场|酒店|宾馆|剧院|礼堂|中学|小学|附中|麓)$"
)


def _place_part(text: str) -> str:
    """The part of ``text`` up to its last place-like word (武当山住平房 → 武当山; 北京市人大附中闭幕
    → 北京市人大附中); "" when no word is a place."""
    jieba_module()
    import jieba.posseg

    end, pos = 0, 0
    for w in jieba.posseg.cut(text):
        pos += len(w.word)
        if w.flag == "ns" or _PLACE_END.search(text[:pos]):
            end = pos
    return text[:end] if end >= 2 else ""


def _places(sentence: str, q: str) -> list[tuple[int, str]]:
    """(offset, place) of each place after a locative word, and of the place a sentence names
    first and then refers back to (孟州市文化广场热闹非凡，…年货节在这里举行)."""
    out = []
    here = re.search(r"在这里|在此|于此", sentence)
    if here:
        offset = 0
        for clause in re.split(r"(?<=[，,；;])", sentence[: here.start()]):
            place = _place_part(compact(re.sub(r"^.*?(?:本报讯|电|日|午)", "", clause)))
            if place and place not in q and len(place) >= 3:
                out.append((offset + clause.find(place[:2]), place))
                break
            offset += len(clause)
    for m in PLACE_SPAN.finditer(sentence):
        place = _place_part(compact(m.group("place")))
        if place and place not in q and is_whole(sentence, m.start("place"), m.start("place")):
            out.append((m.start("place"), place))
    return out


def _ordinals(sentence: str, q: str) -> list[re.Match]:
    """Ordinals of the asked sort: 第几届 → …届 (首届), 第几名 / 排第几 → 第3名, 第一, 榜首."""
    asked = re.search(r"第几([届名位批次期个轮季站])|哪一([届批期轮])", q)
    unit = (asked.group(1) or asked.group(2)) if asked else ""
    found = _whole_matches(ORDINAL_SPAN, sentence, q)
    if unit in ("名", "位") or not unit:
        return [
            m
            for m in found
            if re.search(r"[名位]$|第\s*[一二三四五六七八九十百千\d]+$|榜首|冠军|亚军|季军|首位", m.group())
        ]
    return [m for m in found if m.group().endswith(unit) or (m.group().startswith("首") and m.group().endswith(unit))]


ENUMERATION = re.compile(
    rf"[{CJK}A-Za-z0-9“”（）()·]{{1,16}}(?:、[{CJK}A-Za-z0-9“”（）()·]{{1,16}})+"
    rf"(?:(?:和|及|与|以及)[{CJK}A-Za-z0-9“”（）()·]{{1,16}})?"
)
_CLAUSE_WORD = ("v", "p", "c", "u", "y")  # jieba POS (verbs, prepositions, particles) around an enumeration


def _clause_word(flag: str) -> bool:
    return flag.startswith(_CLAUSE_WORD) and flag != "vn"  # 建设 as a noun stays in an item


def _edge(item: str, words: list[str], first: bool) -> str:
    """An enumeration's end item without the clause around it: the first item starts after the
    last question word or verb (惠济区坐拥三全 → 三全), the last item ends before the first one
    (专精特新贷等多款融资产品 → 专精特新贷)."""
    jieba_module()
    import jieba.posseg

    for w in words:
        if w in item:
            item = item[item.rfind(w) + len(w) :] if first else item[: item.find(w)]
    if not first:
        item = re.sub(r"(?<=..)等.*$", "", item)
    tokens = list(jieba.posseg.cut(item))
    if first:
        cut = max((i for i, t in enumerate(tokens) if _clause_word(t.flag)), default=-1)
        tokens = tokens[cut + 1 :]
    else:
        end = next((i for i, t in enumerate(tokens) if _clause_word(t.flag)), len(tokens))
        tokens = tokens[:end]
    item = "".join(t.word for t in tokens)
    return re.sub(r"[\d一二三四五六七八九十两]+[大个项类种家所条]?$", "", item).strip("“”")


def _words(question: Question) -> list[str]:
    """The question's words of two or more characters, question words left out."""
    return [w for w, _ in question.cut if len(w) >= 2 and not WH_WORD.match(w)]


def _list(question: Question, sentence: str, q: str) -> str:
    """The longest 、-enumeration of ≥ 2 items of ≤ 12 characters, its ends cut free of the clause
    around them (the subject and the thing enumerated are not items)."""
    words = _words(question)
    best = ""
    for m in ENUMERATION.finditer(compact(sentence)):
        raw = [x for x in re.split(r"、|以及|和|及|与", m.group()) if x]
        cut = next((i for i, x in enumerate(raw[:-1]) if re.search(r"(?<=..)等", x)), None)
        if cut is not None:  # 高新热力等重点企业、项目工地: the enumeration ends at 等
            raw = [*raw[:cut], raw[cut][: raw[cut].index("等", 2)]]
        if any("的" in x for x in raw[1:-1]):
            continue  # 客观的实证分析: descriptions, not named items
        items = [_edge(raw[0], words, True), *raw[1:-1], _edge(raw[-1], words, False)]
        if len(items) < 2 or not all(items) or any(len(x) > 12 or any(w in x for w in words) for x in items):
            continue
        if len("、".join(items)) > len(best):
            best = "、".join(items)
    return best


def answer_span(question: Question, sentence: str, article_date: str = "", context: str = "") -> str:
    """The part of ``sentence`` that directly answers ``question`` (see the module doc); ""
    when the question asks for none or the sentence holds no whole span of the asked kind.
    ``context`` (the other chosen sentences) may supply further people asked for."""
    q = question.compact
    kind = question.intent.kind
    focus, predicate = question.focus, question.predicate
    terms = _words(question)
    if kind == "who" or (kind == "multipart" and WHO.search(q)):
        return who_span(question, sentence, context)
    if kind == "list":
        return _list(question, sentence, q)
    matches: dict[str, Callable[[], Sequence[Found | re.Match]]] = {
        "quantity": lambda: _quantity(question, sentence, q),
        "when": lambda: _whole_matches(DATE_SPAN, sentence, q),
        "where": lambda: [Found(start, place) for start, place in _places(sentence, q)],
        "ordinal": lambda: _ordinals(sentence, q),
    }
    found = list(matches[kind]()) if kind in matches else []
    if kind == "when":
        need = "年" if ASKS_YEAR.search(question.text) else "日" if re.search(r"哪天|哪一天|几号|几日", q) else "月"
        found = [m for m in found if need in m.group() or (need == "日" and "号" in m.group())]
    best = _pick(found, sentence, focus, predicate, terms)
    if best is None:
        return ""
    span = "".join(nfkc(best.group()).split()).strip('，。、“”" ')
    if kind == "when":
        return resolve_date(span, article_date) if not ASKS_YEAR.search(question.text) or "年" not in span else span
    return span
