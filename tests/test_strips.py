"""Columns a narrow gutter apart read strip by strip (rag.ingest.strips, issue 34): which parts
of a page are read again, and how their lines replace the whole page's."""

from __future__ import annotations

from rag.ingest.gutters import Gutter
from rag.ingest.strips import Zone, joined_gutters, read_zones, zones

EM = 20.0


def _line(text: str, x0: float, y0: float, x1: float) -> list:
    points = [[x0, y0], [x1, y0], [x1, y0 + EM], [x0, y0 + EM]]
    return [points, text, 0.99, [points], [text], [0.99]]


def test_zones_lie_between_gutters_over_the_rows_both_bounding_gutters_run_down() -> None:
    gaps = [Gutter(400.0, 100.0, 900.0, 12.0), Gutter(800.0, 200.0, 1000.0, 10.0)]
    assert zones(gaps, 1200, 1200, EM) == [
        Zone(0.0, 400.0, 100.0, 900.0),
        Zone(400.0, 800.0, 200.0, 900.0),
        Zone(800.0, 1200.0, 200.0, 1000.0),
    ]
    assert zones([Gutter(400.0, 100.0, 120.0, 10.0)], 1200, 1200, EM) == []  # a run of one line
    assert zones([], 1200, 1200, EM) == []


def test_only_narrow_gutters_without_a_rule_that_the_detector_ran_lines_across_are_read_again() -> None:
    narrow, wide = Gutter(400.0, 100.0, 900.0, 12.0), Gutter(800.0, 100.0, 900.0, 40.0)
    joined = [(40.0, 120.0 + 40 * i, 1100.0, 140.0 + 40 * i) for i in range(3)]  # over both gutters
    assert joined_gutters([narrow, wide], joined, [], EM) == [narrow]  # the wide one kept them apart
    assert joined_gutters([narrow], joined, [405.0], EM) == []  # a rule printed in it: cut there
    assert joined_gutters([narrow], joined[:1], [], EM) == [narrow]  # one line, but a column's gutter
    short = Gutter(400.0, 100.0, 400.0, 12.0)  # 15 characters down: beside a vertical headline
    assert joined_gutters([short], joined[:1], [], EM) == []  # one line joined: not enough
    assert joined_gutters([short], joined, [], EM) == [short]
    beside = [(40.0, 120.0 + 40 * i, 395.0 + 15, 140.0 + 40 * i) for i in range(3)]  # 10 px over
    assert joined_gutters([short], beside, [], EM) == []  # a box's padding, not a joined line


def test_the_stripe_between_a_vertical_headline_and_its_text_is_not_read_strip_by_strip() -> None:
    stripe = Gutter(400.0, 100.0, 500.0, 10.0)  # 20 characters down, two lines run across it
    joined = [(360.0, 440.0 + 30 * i, 700.0, 460.0 + 30 * i) for i in range(2)]
    text = [(405.0, 110.0 + 30 * i, 700.0, 130.0 + 30 * i) for i in range(10)]  # the column beside
    headline = [(365.0, 100.0 + 34 * i, 395.0, 130.0 + 34 * i) for i in range(10)]  # one character a box
    assert joined_gutters([stripe], [*joined, *text, *headline], [], EM) == []
    column = [(80.0, 110.0 + 30 * i, 395.0, 130.0 + 30 * i) for i in range(10)]  # a column of text instead
    assert joined_gutters([stripe], [*joined, *text, *column], [], EM) == [stripe]


def test_strip_lines_replace_joined_and_lost_lines_and_a_headline_over_both_columns_stays() -> None:
    zs = [Zone(0.0, 300.0, 100.0, 400.0), Zone(300.0, 600.0, 100.0, 400.0)]
    page = [
        _line("跨两栏的大标题", 40, 40, 560),  # above the gutter's rows: kept
        _line("左栏第一行右栏第一行", 40, 120, 560),  # joined across the gutter: read again
        _line("左栏第三行", 40, 200, 290),  # the same line the strip finds: taken as read
    ]  # the second line pair the detector lost
    asked, read = [], []

    def detect(x0: int, y0: int, x1: int, y1: int) -> list:
        asked.append((x0, y0, x1, y1))
        return [(x0 + (40 if x0 == 0 else 10), 120 + 40 * i, x0 + 290 - x0 // 30, 140 + 40 * i) for i in range(3)] + [
            (x0, 500, x0 + 90, 520)  # below the zone's rows: the page's own reading of it stands
        ]

    def recognise(box: tuple) -> list:
        read.append(box)
        side = "左" if box[0] < 300 else "右"
        return _line(f"{side}栏第{'一二三'[(round(box[1]) - 120) // 40]}行", box[0], box[1], box[2])

    out = read_zones(detect, recognise, page, zs, EM)
    assert asked == [(0, 90, 300, 410), (300, 90, 600, 410)]  # half a character above and below
    left, right = [f"左栏第{n}行" for n in "一二三"], [f"右栏第{n}行" for n in "一二三"]
    assert [line[1] for line in out] == ["跨两栏的大标题", *left, *right]
    assert len(read) == 5  # the left column's third line was read whole already


def test_a_strip_line_under_a_kept_page_line_is_not_read_twice() -> None:
    zs = [Zone(0.0, 300.0, 100.0, 400.0)]
    page = [_line("伸出条外的一行文字", 40, 120, 420)]  # reaches past the strip: kept whole
    out = read_zones(lambda *part: [(40.0, 120.0, 300.0, 140.0)], lambda box: _line("?", *box[:3]), page, zs, EM)
    assert [line[1] for line in out] == ["伸出条外的一行文字"]
