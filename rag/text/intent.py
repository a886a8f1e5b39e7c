"""The shape of answer a question wants: its *kind* (one of ``KINDS``), the unit it asks in,
its parts (分别 …) and, for comparisons, the two things compared.

The kind decides how an answer is built (rag.generation.shapes): a typed span for who /
quantity / when / where / ordinal, items for a list, 是/否 for yes/no, one span per part,
a computed difference or sum, the headlines of an issue, or the supporting sentence itself
(why / how / what).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text.normalize import CJK, compact
from rag.text.question import LIST, QUANTITY, WHEN, WHERE, WHO, asked_unit, cut_question, places_in

KINDS = (
    "paper_issue",
    "comparison",
    "multipart",
    "yesno",
    "ordinal",
    "who",
    "when",
    "quantity",
    "where",
    "list",
    "why",
    "other",
)
# the kinds whose answer is a typed span (a number, a name, a date, a place, an ordinal)
SPAN_KINDS = ("who", "when", "quantity", "where", "ordinal")

_ISSUE = re.compile(
    r"(?:刊登|刊发|刊载|登载|登了|发了|发表|报道了|印了|登出|刊出|上了|有)了?(?:哪些|哪几篇|什么|几篇|多少篇)"
    r"(?:报道|文章|新闻|稿件|消息|内容|稿子)"
    r"|(?:哪些|哪几篇|什么)(?:报道|文章|新闻|稿件|消息)(?:被)?(?:刊登|刊发|登|发表)"
)
_PAPER_OR_ISSUE = re.compile(r"[报刊]|版|\d{1,2}月\d{1,2}日|头版|要闻")
_COMPARE = re.compile(
    r"高出|低出|多出|高了多少|低了多少|多了多少|少了多少|相差|差了?多少|差距|多多少|少多少|几倍|多少倍"
    r"|(?:增长|增加|提高|提升|上升|下降|减少|降低|回落|增)了?(?:多少|几)"
    r"|合计|加起来|总和|之和|共计多少|一共多少|总共多少"
)
# 甲比乙多投资多少: the comparative after 比, then the quantity asked
_COMPARE_BI = re.compile(r"比[^，。？?]{1,30}?(?:多|少|高|低|快|慢|大|小|增|减)[^，。？?]{0,8}?(?:多少|几)")
_SUM = re.compile(r"合计|加起来|总和|之和|共计|一共|总共")
_PARTS = re.compile(r"分别|各自|各是|各为|各有")
_YESNO = re.compile(
    r"是否|有没有|是不是|能不能|会不会|可不可以|有无|能否|可否|要不要|算不算|(?<!什|怎|那|这)[吗么][？?]?$"
)
_ORDINAL_ASK = re.compile(r"第几|排名|排第|排在|名次|位列|位居|位次|哪一届|几等奖|第多少|排行")
_WHY = re.compile(
    r"为什么|为何|怎么|怎样|如何|什么原因|原因是|哪些措施|什么措施|什么办法|什么方式|通过什么|靠什么|怎么办"
)


@dataclass(frozen=True)
class Intent:
    """What a question wants back."""

    kind: str
    unit: str = ""  # the measure word it asks in, "" when none
    parts: tuple[str, ...] = ()  # sub-questions of a multipart question
    labels: tuple[str, ...] = ()  # what each part asks about (市委书记, 市长)
    compared: tuple[str, ...] = ()  # the two things a comparison is about
    total: bool = False  # a comparison that adds up (合计) rather than subtracts
    chinese: bool = True


def is_chinese(question: str) -> bool:
    """Mostly Chinese characters among the letters (an English question is not)."""
    letters = [c for c in question if c.isalpha()]
    if not letters:
        return True
    han = sum(bool(re.match(rf"[{CJK}]", c)) for c in letters)
    return han >= 0.4 * len(letters)


def _split_items(text: str) -> list[str]:
    """``A和B`` / ``A、B与C`` → the items (the last noun phrase's coordinated parts)."""
    items = [x for x in re.split(r"和|与|及|以及|、|跟|同", text) if x]
    return items if len(items) >= 2 else []


def split_parts(question: str) -> tuple[str, ...]:
    """``焦作市的市委书记和市长分别是谁？`` → (``焦作市的市委书记是谁``, ``焦作市的市长是谁``); the
    last item may carry its own 的 (营业收入和归属于股东的净利润分别是多少)."""
    return tuple(part for _, part in _parts_of(question))


def _parts_of(question: str) -> tuple[tuple[str, str], ...]:
    """(item, sub-question) of each part of a 分别 question."""
    q = compact(question).rstrip("？?。")
    m = _PARTS.search(q)
    if not m:
        return ()
    head, tail = q[: m.start()], q[m.end() :]
    joints = list(re.finditer(r"和|与|及|以及|跟|同", head))
    if not joints:
        return ()
    joint = joints[-1]
    left, last = head[: joint.start()], head[joint.end() :]
    cut = max(left.rfind("的"), left.rfind("，"), left.rfind(","))
    prefix, firsts = left[: cut + 1], [x for x in left[cut + 1 :].split("、") if x]
    items = [*firsts, last]
    if len(items) < 2 or not all(items):
        return ()
    if tail and not re.match(r"[是有为在叫]", tail):
        tail = "是" + tail
    return tuple((item, f"{prefix}{item}{tail}") for item in items)


def split_compared(question: str) -> tuple[str, ...]:
    """The two things a comparison is about: ``A比B高出多少`` → (A, B); ``A和B相差多少`` → (A, B);
    ``A和B合计多少`` → (A, B).  A short second side borrows the first's words (2023年的产值比2022年
    → 2022年的产值)."""
    q = compact(question).rstrip("？?。")
    m = _COMPARE.search(q)
    bi = _COMPARE_BI.search(q)
    if not (m or bi):
        return ()
    if m:
        head = q[: m.start()]
    else:  # 城南学校比城北学校多投资多少: the two sides of 比, each with what is compared (投资)
        assert bi is not None
        rest = re.match(r"(.*?)(?:多|少|高|低|快|慢|大|小|增|减)([^，。？?]{0,8}?)(?:多少|几)", q[bi.start() :])
        assert rest is not None
        first, second = q[: bi.start()], rest.group(1)[1:]
        return (first + rest.group(2), second + rest.group(2)) if first and second else ()
    parts = re.split(r"比|较|相比|相较", head, maxsplit=1)
    if len(parts) == 2 and parts[0] and parts[1]:
        first, second = parts
    else:
        cut = max(head.rfind("，"), head.rfind(","))
        items = _split_items(head[cut + 1 :])
        if len(items) < 2:
            return ()
        first, second = items[0], items[-1]
    second = second.rstrip("的")
    if "的" in second and "的" not in first and len(first) <= 6:
        first += second[second.index("的") :]  # 甲和乙的营收 → 甲的营收, 乙的营收
    years = re.findall(r"\d{4}年|去年|今年|上年|前年", first)
    if len(second) <= 6 and years and re.fullmatch(r"\d{4}年(?:的)?|去年|今年|上年|前年|同期", second):
        second = first.replace(years[0], second.rstrip("的"), 1)
    return (first, second)


def read_intent(question: str) -> Intent:
    """The kind of answer ``question`` wants (first matching rule of ``KINDS``' order)."""
    q = compact(question)
    unit = asked_unit(question)
    if not is_chinese(question):
        return Intent("other", chinese=False)
    if _ISSUE.search(q) and _PAPER_OR_ISSUE.search(q):
        return Intent("paper_issue")
    if _COMPARE.search(q) or _COMPARE_BI.search(q):
        return Intent("comparison", unit=unit, compared=split_compared(question), total=bool(_SUM.search(q)))
    pairs = _parts_of(question) if _PARTS.search(q) else ()
    if len(pairs) >= 2:
        return Intent("multipart", unit=unit, parts=tuple(p for _, p in pairs), labels=tuple(i for i, _ in pairs))
    when = WHEN.search(q)
    wh = when or QUANTITY.search(q) or WHO.search(q) or WHERE.search(q) or LIST.search(q)
    if _YESNO.search(q) and not wh and not _ORDINAL_ASK.search(q) and not _WHY.search(q.replace("是否", "")):
        return Intent("yesno")
    if _ORDINAL_ASK.search(q):
        return Intent("ordinal")
    if WHO.search(q):
        return Intent("who")
    if when:
        return Intent("when")
    if QUANTITY.search(q) and not _WHY.search(q):
        return Intent("quantity", unit=unit)
    if WHERE.search(q):
        return Intent("where")
    if LIST.search(q):
        return Intent("list")
    if _WHY.search(q):
        return Intent("why")
    return Intent("other")


_YESNO_MARK = re.compile(r"是否|是不是|有没有|能不能|会不会|可不可以|有无|能否|可否|要不要|算不算")


def yesno_claim(question: str) -> str:
    """What a yes/no question asks to be confirmed: the first verb or adjective after 是否 /
    是不是 … (鹭江引水工程是否已经通水 → 通水), or before a final 吗 (会收购玛莎拉蒂吗 → 收购)."""
    q = compact(question)
    m = _YESNO_MARK.search(q)
    words = list(cut_question(q[m.end() :] if m else q))
    if not m:
        words.reverse()
    for word, flag in words:
        content = flag[:1] not in ("d", "p", "u", "c", "r", "t", "m", "q", "x", "y")
        if len(word) >= 2 and content and word not in ("已经", "已被", "正在", "可以"):
            return word
    return ""


_SPECIFIC_POS = ("nr", "nrt", "nrfg", "ns", "nt", "nz", "eng")
# 第四期, 第二届, 排名第一 — not 第一天 (a day counted, not an ordinal the article must repeat)
_ORDINAL_WORD = re.compile(r"第[一二三四五六七八九十百\d]+(?:[期届次批轮季名位个]|(?![天日年月周]))|首届|首批")


def specific_words(question: str) -> list[str]:
    """The words that pin a question to one fact: names of people, places and organisations,
    numbers of two or more digits (years), ordinals (第二届).  An answer's passage must hold them.
    A place is one by its suffix too (jieba tags 许昌市 a place name but 焦作市 a common noun)."""
    q = compact(question)
    places = set(places_in(question))
    out = [m.group() for m in _ORDINAL_WORD.finditer(q)]
    out += re.findall(r"(?<!\d)(?:19|20)\d{2}年", q)
    dated = {m.start() for m in re.finditer(r"\d+(?=[年月日号时点])", q)}
    pos = 0
    for word, flag in cut_question(question):
        w = compact(word)
        start, pos = q.find(w, pos), q.find(w, pos) + len(w)
        if (
            len(w) >= 2
            and (flag in _SPECIFIC_POS or (w in places and len(w) >= 3 and flag[:1] == "n"))
            and not re.search(r"[哪什谁几多]", w)
        ) or (re.fullmatch(r"\d{2,}(?:\.\d+)?", w) and start not in dated):
            out.append(w)
    return list(dict.fromkeys(x for x in out if not any(x != y and x in y for y in out)))
