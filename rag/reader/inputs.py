"""What the reader reads: the question, and a candidate sentence with its article's date and
headline — the same text at training (bench/reader_pairs.py) and at answer time."""

from __future__ import annotations

import re

from rag.text.normalize import compact

MAX_SENTENCE = 240  # characters of a sentence the reader sees (the tokenizer also truncates)


def chinese_day(iso: str) -> str:
    """``2023-01-10 08:00`` → ``2023年1月10日``; "" when not a date."""
    m = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", iso or "")
    return f"{int(m[1])}年{int(m[2])}月{int(m[3])}日" if m else ""


def pair_text(sentence: str, headline: str = "", date: str = "") -> str:
    """The second text of a pair: ``date｜headline｜sentence`` (compacted; empty parts left out)."""
    parts = (chinese_day(date), compact(headline)[:60], compact(sentence)[:MAX_SENTENCE])
    return "｜".join(p for p in parts if p)


def question_text(question: str) -> str:
    return compact(question)
