"""Print the lunar month table of ``rag/ingest/lunar.py`` (issue 34: lunar dates on a masthead).

The table was made once with the MIT-licensed ``lunar_python`` (6tail/lunar-python, 1.4.8), which
follows the calendars China actually used (the Qing 时宪历 before 1912); it is not a dependency of
the product.  To make it again: ``pip install lunar_python==1.4.8`` into a scratch environment, then
``python bench/lunar_table.py`` and paste its output over ``FIRST_YEAR`` … ``_MONTHS`` there.
``python bench/lunar_table.py --check`` compares ``lunar.to_gregorian`` with ``lunar_python`` on
every day of every month of the table (and the 30th of each 29-day month) and prints the count.
"""

from __future__ import annotations

import sys

from lunar_python import Lunar, LunarYear  # type: ignore[import-not-found]

FIRST, LAST = 1821, 2100  # 道光元年 to the end of the century


def main() -> None:
    codes, expected = [], None
    for year in range(FIRST, LAST + 1):
        months = LunarYear.fromYear(year).getMonthsInYear()
        first = months[0].getFirstJulianDay()
        assert expected is None or first == expected, year  # each year starts where the last ended
        expected = first + sum(m.getDayCount() for m in months)
        bits = sum(1 << i for i, m in enumerate(months) if m.getDayCount() == 30)
        codes.append(f"{LunarYear.fromYear(year).getLeapMonth():x}{bits:04x}")
    start = Lunar.fromYmd(FIRST, 1, 1).getSolar()
    print(f"FIRST_YEAR = {FIRST}")
    print(f"_NEW_YEAR = dt.date({start.getYear()}, {start.getMonth()}, {start.getDay()})  # 正月初一 of FIRST_YEAR")
    print("_MONTHS = (  # a year each: its leap month (0: none), then a bit a month in order, 1 = 30 days")
    for i in range(0, len(codes), 14):
        print(f'    "{"".join(codes[i : i + 14])}"')
    print(")")


def check() -> None:
    """Every lunar day of the table against lunar_python's Gregorian day."""
    from rag.ingest.lunar import to_gregorian

    days = wrong = 0
    for year in range(FIRST, LAST + 1):
        for month in LunarYear.fromYear(year).getMonthsInYear():
            number, leap = abs(month.getMonth()), month.getMonth() < 0
            for day in range(1, 31):
                ours = to_gregorian(year, number, day, leap)
                if day > month.getDayCount():
                    wrong += ours is not None
                    continue
                solar = Lunar.fromYmd(year, month.getMonth(), day).getSolar()
                days, wrong = days + 1, wrong + (ours is None or ours.isoformat() != solar.toYmd())
    print(f"{days} days from {FIRST} to {LAST}: {wrong} differ")


if __name__ == "__main__":
    check() if "--check" in sys.argv else main()
