"""Columns a narrow gutter apart, read one column strip at a time (issue 34).

Across a gutter narrower than a character the OCR detector joins a line of one column to the
line beside it, and sometimes loses the pair altogether (a line 50 characters long over a white
stripe scores under its box threshold).  Cutting a joined line at the gutter afterwards
(``ocr._across_gutters``) mends the first, not the second.  So where the page image shows such
a gutter (``rag.ingest.gutters``), the rows it runs down are read again strip by strip, each
strip a column (or the columns between two narrow gutters), and those lines replace the page's.
Outside those rows — a headline set over both columns, a masthead — the whole page's lines
stay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from rag.ingest.gutters import Gutter

NARROW = 0.9  # of a character: a gutter narrower than this is read strip by strip
MIN_JOINED = 2  # lines run across a gutter before its rows are read strip by strip
LONG = 30.0  # characters down the page (20 lines): a column's gutter, not one beside a vertical headline
PAD = 0.5  # of a character: rows read above and below a gutter's run (its first and last ink rows)
MIN_COLUMN = 4.0  # characters: lines this long (median) on each side; beside a vertical headline they are shorter
Found = list  # one RapidOCR line: [points, text, score, char points, chars, char scores]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1


class Zone(NamedTuple):
    """A strip of the page read on its own: columns ``x0``–``x1``, rows ``top``–``bottom``."""

    x0: float
    x1: float
    top: float
    bottom: float


def joined_gutters(gaps: Sequence[Gutter], lines: Sequence[Box], rules: Sequence[float], em: float) -> list[Gutter]:
    """The gutters where the detector joins or loses lines: narrower than ``NARROW`` of a
    character, no column rule printed in them (``ocr._pieces`` cuts a line at a rule), a column
    of lines on each side (the lines ending at it, or starting there, are ``MIN_COLUMN``
    characters long or more: beside a vertical headline they are its characters one by one), and
    either down ``LONG`` characters of the page (a column's gutter: the detector loses a line
    pair there now and then even where it joins none) or with at least ``MIN_JOINED`` lines
    reaching a character into both sides."""

    def across(g: Gutter, b: Box) -> bool:
        return b[0] + em <= g.x <= b[2] - em and g.top <= (b[1] + b[3]) / 2 <= g.bottom

    def columns_beside(g: Gutter) -> bool:
        rows = [b for b in lines if g.top <= (b[1] + b[3]) / 2 <= g.bottom]
        left = [b[2] - b[0] for b in rows if g.x - 2 * em <= b[2] <= g.x + em / 2]
        right = [b[2] - b[0] for b in rows if g.x - em / 2 <= b[0] <= g.x + 2 * em]
        return all(not side or float(np.median(side)) >= MIN_COLUMN * em for side in (left, right))

    return [
        g
        for g in gaps
        if g.width < NARROW * em
        and not any(abs(x - g.x) <= em for x in rules)
        and columns_beside(g)
        and (g.bottom - g.top >= LONG * em or sum(across(g, b) for b in lines) >= MIN_JOINED)
    ]


def zones(gaps: Sequence[Gutter], width: int, height: int, em: float) -> list[Zone]:
    """The strips between the gutters ``gaps`` (and the page's edges), each over the rows every
    gutter bounding it runs down."""
    narrow = sorted(gaps, key=lambda g: g.x)
    if not narrow:
        return []
    edges = [Gutter(0.0, 0.0, float(height), 0.0), *narrow, Gutter(float(width), 0.0, float(height), 0.0)]
    out = []
    for left, right in pairwise(edges):
        top, bottom = max(left.top, right.top), min(left.bottom, right.bottom)
        if bottom - top >= 2 * em and right.x - left.x >= 2 * em:
            out.append(Zone(left.x, right.x, top, bottom))
    return out


def read_zones(
    detect: Callable[[int, int, int, int], list[Box]],
    recognise: Callable[[Box], Found],
    found: list[Found],
    zs: Sequence[Zone],
    em: float,
) -> list[Found]:
    """The page's lines with those in ``zs`` found again strip by strip: ``detect(x0, y0, x1,
    y1)`` gives the line boxes in that part of the page (page pixels), ``recognise(box)`` reads
    one.  A page line is kept unless the strips cover it whole.  A strip's line is taken when its
    middle lies in the zone's rows and no kept page line stands over most of it; a page line
    that is the same line (each covers most of the other) is taken as it was read, and only the
    lines the whole page joined across the gutter or lost are read again."""
    kept = [line for line in found if not _covered(_bounds(line), zs, em)]
    replaced = [line for line in found if _covered(_bounds(line), zs, em)]
    boxes = [_bounds(line) for line in kept]
    out = list(kept)
    for z in zs:
        y0, y1 = max(0, round(z.top - PAD * em)), round(z.bottom + PAD * em)
        for box in detect(round(z.x0), y0, round(z.x1), y1):
            if not z.top <= (box[1] + box[3]) / 2 <= z.bottom or any(_overlap(box, b) > 0.5 for b in boxes):
                continue
            same = [r for r in replaced if min(_overlap(box, _bounds(r)), _overlap(_bounds(r), box)) > 0.8]
            out.append(same[0] if same else recognise(box))
    return out


def _covered(box: Box, zs: Sequence[Zone], em: float) -> bool:
    """The line's middle row lies in zones that together span it from end to end."""
    x0, y0, x1, y1 = box
    middle = (y0 + y1) / 2
    spans = sorted((z.x0, z.x1) for z in zs if z.top <= middle <= z.bottom)
    joined: list[list[float]] = []
    for a, b in spans:  # zones side by side share their gutter's x
        if joined and a <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], b)
        else:
            joined.append([a, b])
    return any(a - em / 2 <= x0 and x1 <= b + em / 2 for a, b in joined)


def _overlap(a: Box, b: Box) -> float:
    """How much of box ``a`` box ``b`` covers (0–1)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    area = (a[2] - a[0]) * (a[3] - a[1])
    return w * h / area if w > 0 and h > 0 and area > 0 else 0.0


def _bounds(line: Found) -> Box:
    xs = [float(p[0]) for p in line[0]]
    ys = [float(p[1]) for p in line[0]]
    return min(xs), min(ys), max(xs), max(ys)
