"""Bylines as a page prints them: role words set apart (记者 李明 通讯员 王芳), a photo credit
marked (… 摄), and names a space parts kept apart although cleaning drops OCR spaces."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

# 本报讯（记者 李明）/ 新华社…电（记者 …）opening an article
OPEN_CREDIT = re.compile(r"^本报讯\s*[（(]([^）)]{1,40})[）)]|^(?:新华社|中新社)[^（(]{1,12}电[（(]([^）)]{1,30})[）)]")
BYLINE = re.compile(
    r"^(本报记者|本报通讯员|记者)\s*[^\s，。；：]{1,4}(?:\s*(?:通讯员|实习生|记者)?\s*[^\s，。；：]{1,4}){0,5}$"
)
CREDIT = re.compile(r"^[（(][^（()）。，；！？]{1,30}[）)]$|^[^\s，。]{2,4}\s*摄$|^□\s*\S{1,6}$")
TRAILING_CREDIT = re.compile(
    r"(?<=[。！？”])\s*([（(][^（()）。，；]{1,24}[）)]|本报记者\s*[^\s，。]{2,4}(?:\s*通讯员\s*[^\s，。]{2,4})*)$"
)


def byline_text(text: str) -> str:
    """A credit's text as a byline: 本报 dropped, role words and 摄 set apart by single spaces."""
    text = re.sub(r"(记者|通讯员|实习生|文/图|文图)", r" \1 ", text.replace("本报", ""))
    text = re.sub(r"[/／]?摄影?$", " 摄", text)
    return re.sub(r"\s+", " ", text).strip()


class PrintedLine(Protocol):
    printed: str  # the line as printed, its spaces kept (cleaning.printed_line)


def as_printed(text: str, lines: Sequence[PrintedLine]) -> str:
    """``text`` (a credit, its OCR spaces dropped) as the last of its ``lines`` print it, where
    the spaces part names of two characters or more: （白靖杰 黄福兴） is two people, （白 靖杰） one."""
    line = " ".join(x.printed for x in lines[-2:])
    chars = [re.escape(c) for c in text if not c.isspace()]
    m = re.search(r"\s*".join(chars), line) if chars else None
    if not m or any(len(w) < 2 for w in re.split(r"[\s（）()]+", m.group(0)) if w):
        return text
    return m.group(0)
