"""What the reader reads: the question, and a candidate sentence with its article's date and
headline — the same text at training (bench/reader_pairs.py) and at answer time."""

from __future__ import annotations

import re

from rag.text.normalize import compact
from rag.text.sentences import sentences

MAX_SENTENCE = 240  # characters of a sentence the reader sees (the tokenizer also truncates)


def chinese_day(iso: str) -> str:
    """``2023-01-10 08:00`` → ``2023年1月10日``; "" when not a date."""
    m = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", iso or "")
    return f"{int(m[1])}年{int(m[2])}月{int(m[3])}日" if m else ""


def lead(text: str) -> str:
    """The article's first sentence (what it is about, where it has no headline)."""
    for s in sentences(text[:400], min_chars=6):
        if len(compact(s)) >= 6:
            return s
    return ""


def pair_text(sentence: str, headline: str = "", date: str = "", text: str = "") -> str:
    """The second text of a pair: ``date｜context｜sentence`` (compacted; empty parts left out).
    The context is the headline, or — an article without one — its first sentence (``text``),
    so a sentence whose subject is named only there is read with it."""
    body = compact(sentence)[:MAX_SENTENCE]
    context = compact(headline) or compact(lead(text))
    if context and body.startswith(context[:20]):
        context = ""  # the sentence is the lead itself
    parts = (chinese_day(date), context[:30], body)
    return "｜".join(p for p in parts if p)


def question_text(question: str) -> str:
    return compact(question)
