"""Which filter left nothing: when a filtered question finds no passage, the user is told which
of the dates, paper or section matches no article of the archive, and offered to drop it.

Decided from the catalog ((paper, date, count) rows, every store has it) and the section list,
so it costs no search.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rag.models import Answer, Filters

FIELDS = ("date", "paper", "section")  # what the user can drop: the two dates go together


@dataclass
class FilterCheck:
    """The filters that match no article (``blocking``, in FIELDS order) and why, in Chinese."""

    blocking: list[str] = field(default_factory=list)
    message: str = ""

    def __bool__(self) -> bool:
        return bool(self.blocking)


def describe(name: str, filters: Filters) -> str:
    """A filter in words: ``日期 2023-01-01 至 2023-01-31``, ``报纸 焦作日报``."""
    if name == "date":
        lo, hi = filters.since, filters.until
        return f"日期 {lo} 至 {hi}" if lo and hi else f"日期 {lo} 以后" if lo else f"日期 {hi} 以前"
    return f"报纸 {filters.paper}" if name == "paper" else f"版面 {filters.section}"


def active(filters: Filters | None) -> list[str]:
    if filters is None:
        return []
    on = {"date": bool(filters.since or filters.until), "paper": bool(filters.paper), "section": bool(filters.section)}
    return [n for n in FIELDS if on[n]]


def _date_ok(filters: Filters, date: str) -> bool:
    if not (filters.since or filters.until):
        return True
    if not date:
        return False  # an undated article never passes a date bound (as the stores filter)
    if filters.since and date < filters.since:
        return False
    return not filters.until or date <= filters.until + ("\uffff" if len(filters.until) < 10 else "")


def _paper_ok(filters: Filters, paper: str) -> bool:
    return not filters.paper or paper == filters.stored_paper()


def check_filters(
    filters: Filters | None, catalog: Sequence[tuple[str, str, int]], sections: Sequence[str]
) -> FilterCheck:
    """The filters that alone match no article; when each matches some but date and paper
    together match none, both.  Empty when the filters do match articles (the question then
    simply found nothing relevant)."""
    names = active(filters)
    if filters is None or not names:
        return FilterCheck()
    alone = {
        "date": any(_date_ok(filters, d) for _, d, _ in catalog),
        "paper": any(_paper_ok(filters, p) for p, _, _ in catalog),
        "section": filters.section in sections,
    }
    blocking = [n for n in names if not alone[n]]
    both = {"date", "paper"} <= set(names)
    if not blocking and both and not any(_date_ok(filters, d) and _paper_ok(filters, p) for p, d, _ in catalog):
        blocking = ["date", "paper"]
    if not blocking:
        return FilterCheck()
    what = "、".join(f"“{describe(n, filters)}”" for n in blocking)
    together = "同时符合" if len(blocking) > 1 else "符合"
    dates = sorted(d for _, d, _ in catalog if d)
    span = f"（资料库的日期范围：{dates[0]} 至 {dates[-1]}）" if dates and "date" in blocking else ""
    return FilterCheck(blocking, f"资料库里没有{together}{what}的文章{span}。去掉这个筛选再问？")


def stated(applied: Sequence[str]) -> dict[str, str]:
    """The filters a question stated that were applied (``Answer.applied``), by kind:
    ``{"paper": "报纸：焦作日报"}`` (one that found nothing and was not applied is left out)."""
    from rag.retrieval.query import UNUSED, stated_kind

    return {stated_kind(line): line for line in applied if not line.endswith(UNUSED)}


def in_the_way(refused: Answer, filters: Filters | None, answered: Callable[[Filters], bool]) -> list[str]:
    """The filter kinds, chosen or read from the question (``refused.applied``), that each keep a
    refused question from an answer: ``answered(filters.without(kind))`` for each in turn (a
    search and an extractive answer each, so only a refusal pays for them)."""
    kinds = [k for k in FIELDS if k in active(filters) or k in stated(refused.applied)]
    base = filters or Filters()
    return [kind for kind in kinds if answered(base.without(kind))]
