"""The Chinese lunar calendar, for dates printed in it (issue 34: 农历七月初一, 舊曆十月二十九日,
同治壬申三月廿三日).

``to_gregorian(2023, 7, 1)`` is 2023-08-16.  A lunar year is numbered by the Gregorian year its
正月初一 falls in; its months are 29 or 30 days, with a leap month (闰二月) after its namesake in
some years.  The table covers 1821 (道光元年) to 2100 and was made by ``bench/lunar_table.py``
from ``lunar_python`` (MIT), which follows the calendars China used (the Qing 时宪历 before 1912).
"""

from __future__ import annotations

import datetime as dt
from itertools import accumulate

STEMS, BRANCHES = "甲乙丙丁戊己庚辛壬癸", "子丑寅卯辰巳午未申酉戌亥"
# Qing reigns (first lunar year of each) a newspaper may print; a reign's year 1 is 元年
REIGNS = {
    "道光": 1821,
    "咸丰": 1851,
    "咸豐": 1851,
    "同治": 1862,
    "光绪": 1875,
    "光緒": 1875,
    "宣统": 1909,
    "宣統": 1909,
}
REIGN_END = {1821: 1850, 1851: 1861, 1862: 1874, 1875: 1908, 1909: 1911}

FIRST_YEAR = 1821
_NEW_YEAR = dt.date(1821, 2, 3)  # 正月初一 of FIRST_YEAR
_MONTHS = (  # a year each: its leap month (0: none), then a bit a month in order, 1 = 30 days
    "00ba431b4500d4571a9500a950052d50aad00ab500daa41da400ea491d4a00d4a00a96"
    "615360055a00ad5416ca0075200ea53154a0054b70a9700aab0055a50b5500ba900752"
    "41aa500b2581a4b0094d00aad7156a005b400ba951d5200d9200d2531a4d00956812b5"
    "00ad6006d450da900ec900e9240d2600527a0a570095b00b5a616d4007540074951693"
    "00a930052b30a5b0096d70b6a00daa00ba451b4900d4900a954152b0052d00aad2156a"
    "00daa61da400ea400d4a50a9500a970055630ab500ad5816d20075200ea55164a0064b"
    "00a9b415560056a00b59217520075261b2500b2500a4b514ab002ad0056b20b6900da9"
    "71d9200e9200d2551a4d00a56002b6415b5006d400ea921e9200e9260d260052b00a57"
    "512b600b5a006d430ec9007497169300a930052b60a5b00aad0056a41b5500ba400b49"
    "21a9300a957152d0053600aad515aa005b200da531d4a00d4a80a9500a970055660ab5"
    "00ad5006d240ea500ea50064a30c9700a9b7155a0056a00b695175200b5200b254164b"
    "00a4b814ab002ad0056d60b6900da900d9241d2500d25a1a4d00a56002b6605b5006d5"
    "00ea951e9200e9200d2630a5600a57814d60035a006d5516c900749006934152b0052b"
    "00a5b2155a0056a71b5500ba400b4951a9300a950052d40aad00ab5915aa005d200da5"
    "61d4a00d4a00c954152e0055600ab5215b2006d260ea5007250064b50c9700cab0055a"
    "30ad600b69b175200b5200b2561a4b00a4b004ab5055b005ad00b6a21b5200d9271d25"
    "00d2500a55514ad004b6005b530daa00ec981e9200e9200d2660a5600a57004d6406d5"
    "007550074930e93006937152b0052b00a5b5155a0056a00b654174a00b4a81a9500a95"
    "0052d60aad00ab5005aa40ba500da500d4a31c9500c967194e0055600ab5515b2006d2"
    "00ea540e4a0068b80c97004ab0055b60ad600b6a007524172500b4500a8b2149b004ab"
)


def _year_starts() -> list[int]:
    """The ordinal day of 正月初一 of every year in the table, and the day after its last year."""
    lengths = [sum(29 + (int(code[1:], 16) >> i & 1) for i in range(13 if int(code[0], 16) else 12)) for code in _CODES]
    return list(accumulate(lengths, initial=_NEW_YEAR.toordinal()))


_CODES = [("".join(_MONTHS))[i : i + 5] for i in range(0, len("".join(_MONTHS)), 5)]
_STARTS = _year_starts()


def to_gregorian(year: int, month: int, day: int, leap: bool = False) -> dt.date | None:
    """The Gregorian day of lunar ``year``, ``month`` (1–12; ``leap`` for its leap month) and
    ``day``; ``None`` where the calendar has no such day (a leap month that year lacks, 三十 of a
    29-day month) or the year is outside the table."""
    if not FIRST_YEAR <= year < FIRST_YEAR + len(_CODES) or not 1 <= month <= 12 or not 1 <= day <= 30:
        return None
    code = _CODES[year - FIRST_YEAR]
    leap_month, long_months = int(code[0], 16), int(code[1:], 16)
    if leap and leap_month != month:
        return None
    index = month - 1 + (leap_month and (month > leap_month or leap))  # a leap month follows its namesake
    if day == 30 and not long_months >> index & 1:
        return None
    days = sum(29 + (long_months >> i & 1) for i in range(index))
    return dt.date.fromordinal(_STARTS[year - FIRST_YEAR] + days + day - 1)


def ganzhi(year: int) -> str:
    """The stem-branch name of a lunar year: 2023 is 癸卯, 1872 壬申."""
    return STEMS[(year - 4) % 10] + BRANCHES[(year - 4) % 12]


def reign_year(reign: str, number: int | None, cyclic: str = "") -> int:
    """The lunar year of a Qing reign's year ``number`` (光緒三十四年 is 1908), or of the year named
    ``cyclic`` within the reign (同治壬申 is 1872); 0 when neither fits the reign."""
    first = REIGNS.get(reign, 0)
    if not first:
        return 0
    last = REIGN_END[first]
    if number is not None:
        year = first + number - 1
        return year if first <= year <= last and (not cyclic or ganzhi(year) == cyclic) else 0
    return next((y for y in range(first, last + 1) if ganzhi(y) == cyclic), 0) if cyclic else 0
