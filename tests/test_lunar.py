"""The lunar calendar table (rag.ingest.lunar) read against days history records."""

from __future__ import annotations

import datetime as dt

import pytest

from rag.ingest.lunar import FIRST_YEAR, ganzhi, reign_year, to_gregorian


@pytest.mark.parametrize(
    "lunar, day",
    [
        ((1872, 3, 23), "1872-04-30"),  # 同治壬申三月廿三日: the first issue of 申報
        ((1911, 8, 19), "1911-10-10"),  # 辛亥年八月十九: the Wuchang uprising
        ((1923, 10, 29), "1923-12-06"),  # the 1923 page in tests/data/real prints 十月廿九
        ((1949, 8, 10), "1949-10-01"),
        ((2023, 1, 1), "2023-01-22"),  # 春节 2023
        ((2023, 7, 1), "2023-08-16"),
        ((2024, 1, 1), "2024-02-10"),  # 春节 2024
    ],
)
def test_known_days(lunar: tuple[int, int, int], day: str) -> None:
    assert str(to_gregorian(*lunar)) == day


def test_a_leap_month_follows_its_namesake_and_a_year_without_one_has_none() -> None:
    assert str(to_gregorian(2023, 2, 1, leap=True)) == "2023-03-22"  # 闰二月
    assert str(to_gregorian(2023, 3, 1)) == "2023-04-20"  # 三月 after the leap month
    assert to_gregorian(2023, 3, 1, leap=True) is None
    assert to_gregorian(2024, 2, 1, leap=True) is None


def test_no_day_outside_the_calendar() -> None:
    assert to_gregorian(2023, 1, 30) is None  # 正月 2023 has 29 days
    assert str(to_gregorian(2023, 2, 30)) == "2023-03-21"
    assert to_gregorian(FIRST_YEAR - 1, 1, 1) is None
    assert to_gregorian(2101, 1, 1) is None
    assert to_gregorian(2023, 13, 1) is None


def test_every_new_year_of_the_table_falls_between_21_january_and_20_february() -> None:
    for year in range(FIRST_YEAR, 2101):
        new_year = to_gregorian(year, 1, 1)
        assert new_year is not None and dt.date(year, 1, 21) <= new_year <= dt.date(year, 2, 20), year
        assert to_gregorian(year, 12, 29) < to_gregorian(year + 1, 1, 1) if year < 2100 else True


def test_cyclic_names_and_reign_years() -> None:
    assert (ganzhi(1872), ganzhi(1911), ganzhi(2023)) == ("壬申", "辛亥", "癸卯")
    assert reign_year("光緒", 34) == 1908 and reign_year("光绪", 34) == 1908
    assert reign_year("宣統", 1) == 1909
    assert reign_year("同治", None, "壬申") == 1872
    assert reign_year("同治", 12, "壬申") == 0  # the year and its name disagree
    assert reign_year("光緒", 35) == 0  # 光緒 ended in its 34th year
    assert reign_year("康熙", 1) == 0  # before the table
