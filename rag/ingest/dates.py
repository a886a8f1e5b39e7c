"""Dates as newspapers print them, read into ISO ``yyyy-mm-dd``.

- Gregorian in Arabic figures: ``2023年1月10日``, ``2023 年 1 月 10 日``;
- Gregorian in Chinese figures: ``二〇二三年一月十日`` (the year digit by digit, ``○``/``〇``/``零``);
- Republic of China years: ``中華民國一○三年十月十二日``, ``民国八年四月九日``, ``民國103年10月12日``
  (year 1 is 1912).

- lunar dates (rag.ingest.lunar): ``同治壬申三月廿三日`` and ``光緒三十四年十月二十一日`` (a Qing
  reign's years are lunar), ``民國十二年舊曆十月二十九日``; one without a year it can be placed in
  (``农历五月初三``, ``农历癸卯年七月初一``: a cyclic name comes round every 60 years) is
  recognised as a date and not read.

A Gregorian date is the page's wherever one is printed; a lunar one is read only where none is.
"""

from __future__ import annotations

import datetime as dt
import re

from rag.ingest.lunar import REIGNS, reign_year, to_gregorian

_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0, "O": 0, "o": 0}
_UNITS = {"十": 10, "廿": 20, "卅": 30, "百": 100}
_FIGURE = r"[0-9〇○零一二三四五六七八九十廿卅百]"
_MONTH_DAY = rf"\s*年\s*(?P<m>{_FIGURE}{{1,3}})\s*月\s*(?P<d>{_FIGURE}{{1,3}})\s*[日号號]"
GREGORIAN = re.compile(rf"(?<![0-9])(?P<y>\d{{4}}|[〇○零一二三四五六七八九]{{4}}){_MONTH_DAY}")
REPUBLIC = re.compile(rf"(?:中[华華])?民[国國]\s*(?P<y>{_FIGURE}{{1,4}}){_MONTH_DAY}")
_CYCLIC = "[甲乙丙丁戊己庚辛壬癸][子丑寅卯辰巳午未申酉戌亥]"
_LUNAR_MARK = "(?:农历|農曆|夏历|夏曆|阴历|陰曆|旧历|舊曆)"
_LUNAR_DAY = (
    r"(?P<leap>[闰閏])?(?P<lm>正|冬|腊|臘|十[一二]?|[一二三四五六七八九])\s*月\s*"
    r"(?P<ld>初[一二三四五六七八九十]|[二廿]十?[一二三四五六七八九]?|十[一二三四五六七八九]?|三十|卅)(?![一二三四五六七八九十])[日号號]?"
)
_YEAR_FIGURES = r"\d{4}|[〇○零一二三四五六七八九]{4}"
LUNAR = re.compile(  # a reign's year (its dates are lunar), or a year before a lunar marker, or the marker
    rf"(?:(?:大清)?(?P<reign>{'|'.join(REIGNS)})\s*(?:(?P<ry>元|{_FIGURE}{{1,3}})\s*年\s*(?P<rc>{_CYCLIC})?|(?P<rcy>{_CYCLIC})\s*年?)"
    rf"\s*{_LUNAR_MARK}?"
    rf"|(?:(?:中[华華])?民[国國]\s*(?P<roc>元|{_FIGURE}{{1,3}})\s*年|(?<![0-9])(?P<gy>{_YEAR_FIGURES})\s*年)?\s*{_LUNAR_MARK})"
    rf"\s*(?:(?P<cy>{_CYCLIC})\s*年)?\s*{_LUNAR_DAY}"
)
_MONTHS = {"正": 1, "冬": 11, "腊": 12, "臘": 12}
DATE = re.compile(  # any printed date, lunar ones with a marker or a reign's year included
    re.sub(r"\(\?P<\w+>", "(?:", f"{REPUBLIC.pattern}|{GREGORIAN.pattern}|{LUNAR.pattern}")
)


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
    return next((day for m in LUNAR.finditer(text) if (day := lunar_day(m))), "")


def lunar_day(m: re.Match[str]) -> str:
    """The Gregorian day of a lunar date ``LUNAR`` matched, as ``yyyy-mm-dd``; ``""`` where it has
    no year to place it in, or no such day."""
    if m.group("reign"):
        ry = m.group("ry")
        cyclic = m.group("rc") or m.group("rcy") or ""
        year = reign_year(m.group("reign"), None if ry is None else 1 if ry == "元" else number(ry), cyclic)
    elif m.group("roc"):
        year = 1911 + (1 if m.group("roc") == "元" else number(m.group("roc")))
    else:
        year = max(0, number(m.group("gy") or ""))
    month = _MONTHS.get(m.group("lm")) or number(m.group("lm"))
    day = to_gregorian(year, month, number(m.group("ld").removeprefix("初")), bool(m.group("leap"))) if year else None
    return day.isoformat() if day else ""


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
