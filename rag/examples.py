"""Example questions for the chat, drawn from the open archive's own headlines.

A fixed list would ask about a sample archive whatever index is open.  The newest articles with
a headline that reads as a topic (a few characters to a line, no column furniture such as
``□`` or a dangling dash) become a question a reader would ask of that article: a count in the
headline asked for (示范区新增高新技术企业21家 → 示范区新增高新技术企业多少家？), an event's
time (温县县委常委会（扩大）会议召开 → …是什么时候召开的？; 示范区召开污染防治攻坚推进会 →
示范区什么时候召开污染防治攻坚推进会？), or else the headline itself.  Questions come before
plain headlines, and different dates and papers first, so the examples show the archive's breadth.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.text.question import UNIT_WORDS

CHECKED = 8  # candidate examples asked at most, with a check
_SPACES = re.compile(r"\s+")
_UNFIT = re.compile(r"[□■◆●…]|——$|[-—:：]$")
_TRAILING = re.compile(r"[，,。.！!？?；;、]+$")
# a count: a number and its measure word (rag.text.question's units less the calendar's)
_CALENDAR = {"年", "月", "日", "号", "时", "分", "秒", "周"}  # 2022年 is a year, not a count
_COUNTED = "|".join(u for u in UNIT_WORDS.split("|") if u not in _CALENDAR)
_COUNT = re.compile(rf"(?<![\d.])\d+(?:\.\d+)?(?=(?:{_COUNTED}))")
_EVENT = re.compile(
    r"^(.{2,}?)((?:集中|正式|顺利|隆重|盛大|全面)?(?:召开|举行|举办|开幕|闭幕|启动|开工|揭牌|成立|开通|通车|竣工|发布|上线))(.*)$"
)


def topic(headline: str) -> str:
    """A headline as one phrase ("" when it does not read as a topic)."""
    text = _TRAILING.sub("", _SPACES.sub("", headline or ""))
    if not 6 <= len(text) <= 22 or _UNFIT.search(text) or text.startswith(("《", "“", '"')):
        return ""
    return text


def example_for(headline: str) -> str:
    """The question a reader would ask of an article with this headline ("" when the headline
    does not read as a topic); the headline itself when no question fits."""
    text = topic(headline)
    if not text or "：" in text or ":" in text:  # a kicker (惠济区：以学促行…) reads best as it is
        return text
    if m := _COUNT.search(text):
        return f"{text[: m.start()]}多少{_clause(text[m.end() :], headline)}？"
    if m := _EVENT.match(text):
        who, verb, what = m.groups()
        return f"{who}什么时候{verb}{what}？" if what else f"{who}是什么时候{verb}的？"
    return text


def _clause(rest: str, headline: str) -> str:
    """The measure word after a count and the words after it, up to the next figure, or to the
    headline's next line where it breaks right after the measure word (…企业21家 总数位居…)."""
    words = re.match(r"\D*", rest)
    words_text = words.group() if words else rest
    measure = re.match(rf"{_COUNTED}|.", words_text)
    unit = measure.group() if measure else ""
    broken = re.search(rf"\d{re.escape(unit)}\s", headline) if unit else None
    return unit if broken else words_text


def example_questions(
    heads: Sequence[tuple], n: int = 3, answered: Callable[[str, int], bool] | None = None
) -> list[str]:
    """``n`` questions from (id, headline, paper, date, page, section) rows, newest first; with
    ``answered(question, article id)``, only questions their own article answers (at most
    ``CHECKED`` asked)."""
    asked: list[str] = []
    plain: list[str] = []
    later: list[str] = []
    seen: set[tuple[str, str]] = set()
    checked = 0
    for article_id, headline, paper, date, *_ in heads:
        question = example_for(headline)
        if not question:
            continue
        if answered is not None:
            if checked >= CHECKED:
                break
            checked += 1
            if not answered(question, article_id):
                continue
        if (paper, date) in seen:
            later.append(question)
            continue
        seen.add((paper, date))
        (asked if question.endswith("？") else plain).append(question)
        if len(asked) == n:
            break
    return (asked + plain + later)[:n]
