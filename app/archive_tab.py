"""The 资料库 tab: what the archive holds by paper and date, reading an article, and setting
the paper and date of a file whose pages did not print them (re-tagging its articles)."""

from __future__ import annotations

import html
import re
from typing import Any

import gradio as gr

from app.render import article_html
from rag.assistant import Assistant
from rag.models import UNKNOWN_PAPER, InputError, iso_date, user_message

ALL = "全部"
_MONTH_DAY = re.compile(r"^(\d{1,2})\s*(?:月|[-/.])\s*(\d{1,2})\s*日?$")


def date_pattern(text: str) -> str | None:
    """The date box's input as a store date pattern: ``2023-01-10`` exact, ``2023-01`` or
    ``2023年1月`` the month, ``2023`` the year, ``1月10日`` that day of any year; None when
    blank.  InputError (in Chinese) for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    if m := _MONTH_DAY.match(text):
        month, day = int(m.group(1)), int(m.group(2))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise InputError(f"no such date {text!r}", f"日期“{text}”不是真实存在的日期")
        return f"%-{month:02d}-{day:02d}"
    iso = iso_date(text, "date", "日期")
    assert iso is not None
    return iso if len(iso) == 10 else iso + "%"


def chosen(choice: str | None) -> str:
    """A dropdown's choice, "" for none (全部 or nothing picked)."""
    return "" if choice in (None, "", ALL) else str(choice)


def paper_value(choice: str | None) -> str | None:
    """The store's paper for a dropdown choice: None for 全部, "" for 报纸未知."""
    if not chosen(choice):
        return None
    return "" if choice == UNKNOWN_PAPER else choice


class ArchiveTab:
    """The tab's handlers: reads go straight to the assistant (any number at once); re-tagging
    writes through the assistant's writer, one write at a time."""

    def __init__(self, assistant: Assistant) -> None:
        self.bot = assistant

    def papers(self) -> list[str]:
        """全部, the known papers, and 报纸未知 when some articles have none."""
        facets, catalog = self.bot.archive.facets(), self.bot.archive.catalog()
        unknown = [UNKNOWN_PAPER] if any(not p for p, _, _ in catalog) else []
        return [ALL, *facets["papers"], *unknown]

    def catalog(self) -> list[list[Any]]:
        rows = self.bot.archive.catalog()
        return [[p or UNKNOWN_PAPER, d or "日期未知", n] for p, d, n in rows]

    def articles(self, paper: str, date: str):
        """The articles of a paper and/or date → (article choices, a note saying what was found)."""
        try:
            pattern = date_pattern(date)
        except InputError as exc:
            return gr.update(choices=[], value=None), f"⚠️ {user_message(exc)}"
        rows = self.bot.archive.articles_on(paper_value(paper), pattern)
        labels = [
            (f"{h or '（无标题）'} · {p or UNKNOWN_PAPER} {d or '日期未知'} {pg}".strip(), i)
            for i, h, p, d, pg, _ in rows
        ]
        where = "、".join(x for x in (chosen(paper), (date or "").strip()) if x)
        note = f"共 {len(rows)} 篇" + (f"（{html.escape(where)}）" if where else "")
        if not rows:
            note = (
                f"没有找到{html.escape(where) + '的' if where else ''}文章。日期可写 2023-01-10、2023-01 或 1月10日。"
            )
        return gr.update(choices=labels, value=labels[0][1] if labels else None), note

    def read(self, article_id: int | None) -> tuple[str, str]:
        """The article, and its file (for 设置来源信息)."""
        if article_id is None:
            return article_html(None), ""
        article = self.bot.archive.article(int(article_id))
        return article_html(article), (article.source if article else "")

    def retag(self, source: str, paper: str, date: str) -> str:
        """Set paper and/or date on every article of ``source`` → a note in Chinese."""
        if not source:
            return "⚠️ 请先在上面选一篇文章：将设置它所在文件的全部文章。"
        try:
            n = self.bot.archive.retag(source, paper or None, date or None)
        except (InputError, ValueError) as exc:
            return f"⚠️ {user_message(exc)}"
        what = "、".join(x for x in ((paper or "").strip(), (date or "").strip()) if x)
        return f"已把 {html.escape(source.rsplit('/', 1)[-1])} 的 {n} 篇文章设为 {html.escape(what)}。"
