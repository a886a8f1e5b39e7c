"""Dates as newspapers print them, read into ISO ``yyyy-mm-dd``.

- Gregorian in Arabic figures: ``2023年1月10日``, ``2023 年 1 月 10 日``;
- Gregorian in Chinese figures: ``二〇二三年一月十日`` (the year digit by digit, ``○``/``〇``/``零``);
- Republic of China years: ``中華民國一○三年十月十二日``, ``民国八年四月九日``, ``民國103年10月12日``
  (year 1 is 1912).

A lunar date printed beside the Gregorian one (``农历五月初三``) is masthead furniture and is not
read: the Gregorian date is the page's.
"""

from __future__ import annotations

import datetime as dt
import re

_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0, "O": 0, "o": 0}
_UNITS = {"十": 10, "廿": 20, "卅": 30, "百": 100}
_FIGURE = r"[0-9〇○零一二三四五六七八九十廿卅百]"
_MONTH_DAY = rf"\s*年\s*(?P<m>{_FIGURE}{{1,3}})\s*月\s*(?P<d>{_FIGURE}{{1,3}})\s*[日号號]"
GREGORIAN = re.compile(rf"(?<![0-9])(?P<y>\d{{4}}|[〇○零一二三四五六七八九]{{4}}){_MONTH_DAY}")
REPUBLIC = re.compile(rf"(?:中[华華])?民[国國]\s*(?P<y>{_FIGURE}{{1,4}}){_MONTH_DAY}")
DATE = re.compile(re.sub(r"\(\?P<\w>", "(?:", f"{REPUBLIC.pattern}|{GREGORIAN.pattern}"))  # any printed date


def parse_date(text: str) -> str:
    """The first printed date in ``text`` that is a real day, as ``yyyy-mm-dd``; ``""`` if none."""
    found = sorted([*REPUBLIC.finditer(text), *GREGORIAN.finditer(text)], key=lambda m: m.start())
    for m in found:
        year = number(m.group("y"))
        if m.re is REPUBLIC:
            if not 1 <= year <= 150:
                continue
            year += 1911
        if day := real_day(year, number(m.group("m")), number(m.group("d"))):
            return day
    return ""


def real_day(year: int, month: int, day: int) -> str:
    """``yyyy-mm-dd`` when the three make a real day between 1800 and 2100, else ``""``."""
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return ""
    return date.isoformat() if 1800 <= date.year <= 2100 else ""


def number(figures: str) -> int:
    """``103``, ``一○三`` (digit by digit), ``十二``, ``二十九``, ``廿三``, ``一百零三`` → int; -1 if unreadable."""
    figures = figures.strip()
    if figures.isdigit():
        return int(figures)
    if not any(c in _UNITS for c in figures):
        if not figures or any(c not in _DIGITS for c in figures):
            return -1
        return int("".join(str(_DIGITS[c]) for c in figures))
    total, digit = 0, None
    for c in figures:
        if c in _DIGITS:
            digit = _DIGITS[c]
        elif c in _UNITS:
            unit = _UNITS[c]
            total += (1 if digit is None else digit) * unit if unit in (10, 100) else unit
            digit = None
        else:
            return -1
    return total + (digit or 0)
