"""Follow-up questions made standalone before retrieval, by rules (an LLM may do it instead).

"孟州市首届年货节在哪里举办？" then "那温县呢？" → "温县首届年货节在哪里举办？": the new place
takes the old one's slot.  The same for a year or date, a role (市委书记 → 市长) and an
ordinal (第二期 → 第三期).  A pronoun (它, 该活动, 这个项目, 他) is replaced by the previous
question's subject, and 他/她 after a who-question by the person it was answered with (the
turn's short answer).  A question that names its own subject is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.models import Turn
from rag.text.asked import read_question
from rag.text.people import persons
from rag.text.question import ORDINAL, ROLES, WHO, places_in
from rag.text.tokenize import jieba_instance

_LEAD = re.compile(r"^(?:那么|那|那个|还有|另外|而|再问一下|再问|请问)[,，]?\s*")
_TAIL = re.compile(r"(?:的情况|的呢|呢|怎么样|如何|咋样)?\s*[?？。!！]*$")
_PRONOUN = re.compile(
    r"(?:这个|那个|这项|那项|这次|那次|该|这|那|此)(?:活动|项目|会议|工程|政策|机制|企业|公司|单位|地方|"
    r"村|镇|区|县|市|街道|社区|人|节|展会|比赛|平台|产品)|它们|它|其|他们|她们|他|她"
)
_PERSONAL = re.compile(r"他们|她们|他|她|此人|这个人|这位")
_MARKERS = re.compile(r"\[\d+\]")
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|《[^》]*》")
_CJK_WORD = re.compile(r"[\u3400-\u9fff·]{2,12}")
_SUFFIX_WORDS = {"省", "市", "县", "区", "镇", "乡", "街道", "社区", "村"}  # question.places_in's suffixes
_YEARISH = re.compile(r"(?:19|20)\d\d\s*年|去年|今年|前年|明年|[一二三四]季度|上半年|下半年|\d{1,2}\s*月")
_ROLE = re.compile(rf"(?:市委|县委|区委|党委|党组)?(?:{ROLES})")
_ASKS = re.compile(r"谁|什么|哪|多少|几|怎么|如何|吗|是否|为何|为什么|何时|何地")
_SUBJECT_END = re.compile(
    r"(?:在哪|是什么|是谁|是哪|有多少|有哪些|有什么|什么时候|何时|怎么|如何|为什么|"
    r"的(?:主任|书记|市长|县长|区长|局长|负责人)|将|计划|打算|共|一共|要|在|于|由|被|把|是|有)"
)


def is_followup(question: str) -> bool:
    """Elliptical or pronoun questions that need the conversation to be understood."""
    q = question.strip()
    core = _TAIL.sub("", _LEAD.sub("", q))
    if _LEAD.match(q) and (q.rstrip("?？ ").endswith("呢") or len(core) <= 8):
        return True
    if q.rstrip("?？ ").endswith("呢") and not _ASKS.search(core):
        return True
    return bool(_PRONOUN.search(q)) and len(core) <= 16


def needs_context(question: str) -> str | None:
    """For an elliptical question that cannot open a conversation (``那温县呢？``, ``还有呢？``):
    a question back asking what it refers to; None for any other question."""
    q = question.strip()
    core = _TAIL.sub("", _LEAD.sub("", q))
    if not q.rstrip("?？ 。").endswith("呢") or _ASKS.search(core) or len(core) > 10:
        return None
    what = f"“{core}”的哪件事" if core else "哪件事"
    return f"这是新对话的第一个问题，我还不知道您想问{what}。请把问题说完整：在哪里、哪件事、想知道什么。"


def _subject(question: str) -> str:
    """What a question is about: its text before the first predicate (孟州市首届年货节)."""
    q = _LEAD.sub("", question.strip())
    m = _SUBJECT_END.search(q, 2)
    return q[: m.start()] if m else ""


def _swap(previous: str, new: str) -> str | None:
    """``previous`` with ``new`` in the slot of the same kind (place, time, role, ordinal)."""
    for finder in (_places, _times, _roles, _ordinals):
        old_items, new_items = finder(previous), finder(new)
        if new_items and old_items:
            return previous.replace(old_items[0], new_items[0], 1)
    return None


def _places(text: str) -> list[str]:
    """The question's places as whole words: places_in takes the one or two characters before a
    suffix (芝加哥市 → 加哥市, 焦作日报温县 → 报温县); jieba's words put the start where a word does
    (芝加哥市, 温县)."""
    words = list(jieba_instance().tokenize(text))
    quoted = [m.span() for m in _QUOTED.finditer(text)]
    out = []
    for place in places_in(text + "。"):  # places_in wants text after a suffix
        start = text.find(place)
        if start < 0 or any(a < start < b for a, b in quoted):  # part of a name: “示范区强音”专版
            continue
        out.append(_word_aligned(text, start, start + len(place), words))
    return list(dict.fromkeys(out))


def _word_aligned(text: str, start: int, end: int, words: list[tuple[str, int, int]]) -> str:
    """text[start:end] (a place ending in its suffix) begun where jieba's words begin: the word
    ending with the suffix when it reaches further back (芝加哥市), the word before a suffix
    standing alone (甘罗格 + 市), or else the first word start inside (日报|温县 → 温县)."""
    ending = [(ws, we) for _, ws, we in words if ws < end <= we]
    if ending and ending[0][0] < start and _CJK_WORD.fullmatch(text[ending[0][0] : end]):
        return text[ending[0][0] : end]  # 芝加哥市; 香港特区 of 香港特区政府
    if ending and ending[0][1] == end:
        ws = ending[0][0]
        before = [bs for _, bs, be in words if be == ws]
        alone = text[ws:end] in _SUFFIX_WORDS
        if alone and before and before[0] < start and _CJK_WORD.fullmatch(text[before[0] : end]):
            return text[before[0] : end]
    starts = sorted(ws for _, ws, _ in words if start <= ws < end - 1)
    return text[starts[0] : end] if starts and starts[0] > start and end - starts[0] >= 2 else text[start:end]


def _times(text: str) -> list[str]:
    return [m.group() for m in _YEARISH.finditer(text)]


def _roles(text: str) -> list[str]:
    return [m.group() for m in _ROLE.finditer(text)]


def _ordinals(text: str) -> list[str]:
    return [m.group() for m in ORDINAL.finditer(text)]


def rewrite(question: str, history: Sequence[Turn]) -> str:
    """A standalone form of ``question`` given earlier turns (unchanged when not a follow-up)."""
    if not history or not is_followup(question):
        return question
    previous = history[-1].query or history[-1].question
    q = question.strip()
    core = _TAIL.sub("", _LEAD.sub("", q)).strip(" ,，")
    if not core:
        return previous
    if not _PRONOUN.search(core) or not _ASKS.search(core):
        swapped = _swap(previous, core)
        if swapped:
            return swapped
        if any(finder(core) == [core] for finder in (_times, _roles, _ordinals)):
            return f"{core} {previous}"  # a year, role or ordinal with none of its kind to swap: added
        places = _places(previous)
        if places and not _ASKS.search(core):  # 那二七塔商圈呢: a new thing in the place's slot
            return previous.replace(places[0], core, 1)
        if not _ASKS.search(core):  # "那年货节呢" with nothing to swap: ask the old question of it
            subject = _subject(previous)
            return previous.replace(subject, core, 1) if subject else f"{core} {previous}"
    person = _answered_person(history[-1], previous)
    if person and _PERSONAL.search(q):  # 他是哪个单位的 after 是请谁来讲课的 → 张鹏是哪个单位的
        return _PERSONAL.sub(person, q, count=1)
    subject = _subject(previous)
    if subject and _PRONOUN.search(q):
        return _PRONOUN.sub(subject, q, count=1)
    return f"{subject or previous} {q}"


def _answered_person(turn: Turn, previous: str) -> str:
    """The name a who-question was answered with (a short answer, markers stripped)."""
    if not WHO.search(previous):
        return ""
    text = _MARKERS.sub("", turn.answer or "").strip(" 。，,.")
    if len(text) > 12:  # a quoted sentence: the first role + name in it (博士张鹏)
        text = persons(read_question(previous), text).split("、")[0]
    name = re.sub(rf"^.*?(?:{ROLES})", "", text)  # 主任孙广斌 → 孙广斌
    return name if 2 <= len(name) <= 4 and re.fullmatch(r"[\u3400-\u9fff·]+", name) else ""
