"""What retrieval searches for: the question normalised, and filters the question states.

* ``normalize_query`` (rag.text.normalize): width, traditional → simplified, OCR spaces.
* ``stated_filters``: a paper of the archive named in the question (焦作日报), a section named
  as such (温县新闻版), and a publication date stated as one ("2023年1月的报道", "2023年1月10日的
  焦作日报").  A bare year or month ("2022年全县生产总值") is about the event, not the paper,
  and is left to ranking.  Each recognised filter comes with a line to show the user.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from rag.models import Filters
from rag.text.normalize import normalize_query

_NEWS = r"(?:报道|新闻|报纸|报上|文章|消息|版面|稿件|见报|刊登|刊发|发表|那期|这期|一期)"
_DATE = r"(20\d\d|19\d\d)\s*年\s*(?:(\d{1,2})\s*月(?:份)?\s*(?:(\d{1,2})\s*[日号])?)?"


@dataclass
class StatedFilters:
    filters: Filters
    shown: list[str] = field(default_factory=list)  # e.g. "报纸：焦作日报", "日期：2023-01"

    def __bool__(self) -> bool:
        return bool(self.shown)


def _date_filter(y: str, mo: str | None, d: str | None) -> tuple[str, str] | None:
    from rag.models import iso_date

    try:
        iso = iso_date("-".join(x for x in (y, mo, d) if x), "question", "问题中的日期")
    except ValueError:
        return None
    if iso is None:
        return None
    return iso, iso  # Filters treat "2023-01" as the whole month, "2023" as the year


def stated_filters(question: str, papers: Iterable[str] = (), sections: Iterable[str] = ()) -> StatedFilters:
    """Filters the question states unambiguously (see module doc); empty when none."""
    q = normalize_query(question)
    out = StatedFilters(Filters())
    named = [p for p in sorted(set(papers), key=len, reverse=True) if len(p) >= 2 and p in q]
    if len(named) == 1:
        out.filters.paper = named[0]
        out.shown.append(f"报纸：{named[0]}")
    paper_alt = "|".join(map(re.escape, named))
    after = rf"\s*(?:的|份的?)?\s*(?:{paper_alt + '|' if paper_alt else ''}{_NEWS})"
    dates = [m for m in re.finditer(_DATE + after, q)]
    if len(dates) == 1:
        got = _date_filter(*dates[0].groups())
        if got:
            out.filters.since, out.filters.until = got
            out.shown.append(f"日期：{got[0]}")
    for sec in sorted(set(sections), key=len, reverse=True):
        if len(sec) >= 2 and re.search(rf"{re.escape(sec)}(?:版|栏目|专版)|{re.escape(sec)}$", q):
            out.filters.section = sec
            out.shown.append(f"版面：{sec}")
            break
        stem = sec.removesuffix("新闻")
        if stem != sec and len(stem) >= 2 and re.search(rf"{re.escape(stem)}(?:新闻)?版", q):
            out.filters.section = sec
            out.shown.append(f"版面：{sec}")
            break
    return out


def merge_filters(explicit: Filters | None, stated: StatedFilters) -> tuple[Filters | None, list[str]]:
    """Explicit filters win field by field; returns the filters and the stated ones applied."""
    if not stated:
        return explicit, []
    base = explicit or Filters()
    shown: list[str] = []
    values: dict[str, Any] = {}
    for line, name in zip(stated.shown, _fields_of(stated)):
        if name in base.unstated:  # the user dropped the question's own filter of this kind
            continue
        if name == "date":
            if base.since is None and base.until is None:
                values.update(since=stated.filters.since, until=stated.filters.until)
                shown.append(line)
        elif getattr(base, name) is None:
            values[name] = getattr(stated.filters, name)
            shown.append(line)
    return (replace(base, **values) if values else explicit), shown


STATED_KINDS = {"报纸": "paper", "日期": "date", "版面": "section"}  # a shown line's label → its kind
UNUSED = "（无结果，未限定）"  # after a shown line: read from the question, found nothing, not applied


def stated_kind(line: str) -> str:
    """The kind (date, paper, section) of a filter line shown as read from a question (报纸：焦作日报)."""
    return STATED_KINDS[line.split("：", 1)[0]]


def _fields_of(stated: StatedFilters) -> list[str]:
    return [stated_kind(line) for line in stated.shown]
