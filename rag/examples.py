"""Example questions for the chat, drawn from the open archive's own headlines.

A fixed list would ask about a sample archive whatever index is open.  The newest articles with
a headline that reads as a topic (a few characters to a line, no column furniture such as
``□`` or a dangling dash) become ``<headline>的情况如何？``; different dates and papers come
first, so the examples show the archive's breadth.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_SPACES = re.compile(r"\s+")
_UNFIT = re.compile(r"[□■◆●…]|——$|[-—:：]$")
_TRAILING = re.compile(r"[，,。.！!？?；;、]+$")


def topic(headline: str) -> str:
    """A headline as one phrase ("" when it does not read as a topic)."""
    text = _TRAILING.sub("", _SPACES.sub("", headline or ""))
    if not 6 <= len(text) <= 22 or _UNFIT.search(text) or text.startswith(("《", "“", '"')):
        return ""
    return text


def example_questions(heads: Sequence[tuple], n: int = 3) -> list[str]:
    """``n`` questions from (id, headline, paper, date, page, section) rows, newest first."""
    picked: list[str] = []
    seen: set[tuple[str, str]] = set()
    later: list[str] = []
    for _, headline, paper, date, *_ in heads:
        text = topic(headline)
        if not text:
            continue
        question = f"{text}的情况如何？"
        if (paper, date) in seen:
            later.append(question)
            continue
        seen.add((paper, date))
        picked.append(question)
        if len(picked) == n:
            break
    return (picked + later)[:n]
