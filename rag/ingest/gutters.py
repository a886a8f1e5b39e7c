"""Narrow gutters found in the page image (issue 34).

A gutter narrower than a character (real pages: 8–13 px between columns of 16–17 px type) is
narrower than the gap the OCR detector needs to keep lines apart: it joins a line of one column
to the line beside it, and the page is read straight across its columns.  Printed rules are
found by ``ocr.column_rules``; a gutter without one is found here: a stripe at least
``MIN_WIDTH`` of a character wide with no ink in it, ink close on both sides, down a run of
many text lines.  The small gaps between the characters of a column line up too (Chinese is
set on a grid), but they are a tenth of a character wide, not a third.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from rag.ingest.reading_order import TextBox

MIN_WIDTH = 0.3  # of a character: the narrowest gutter looked for
MIN_LINES = 8  # text lines a gutter must run down
STEP = 2  # rows looked at: every other one


class Gutter(NamedTuple):
    """A white stripe between two columns: its middle ``x``, the rows it runs down, and how wide
    the white is there (pixels)."""

    x: float
    top: float
    bottom: float
    width: float


def ink(image: np.ndarray, share: float = 0.6) -> np.ndarray:
    """Where the image is printed on: darker than ``share`` of its median (paper) brightness."""
    grey = image.mean(axis=2) if image.ndim == 3 else image.astype(np.float32)
    return grey < share * float(np.median(grey))


def gutters(image: np.ndarray, em: float) -> list[Gutter]:
    """Gutters between the columns of a page turned straight, whose characters are ``em``
    pixels high."""
    return _found(ink(image[::STEP]), em)  # every other row: half the work


def gutters_between(boxes: Sequence[TextBox], width: int, height: int, em: float) -> list[Gutter]:
    """Gutters between the columns of a page known only by its text boxes (a PDF's text layer):
    the boxes painted as ink."""
    printed = np.zeros((height // STEP + 1, width), bool)
    for b in boxes:
        printed[max(0, round(b.y0)) // STEP : round(b.y1) // STEP + 1, max(0, round(b.x0)) : round(b.x1)] = True
    return _found(printed, em)


def _found(printed_rows: np.ndarray, em: float) -> list[Gutter]:
    """Gutters in a mask of ink, every ``STEP``-th row of the page."""
    if em < 4:
        return []
    printed = printed_rows.astype(np.int32)
    height, width = printed.shape
    run = np.concatenate([np.zeros((height, 1), np.int32), np.cumsum(printed, axis=1)], axis=1)
    half, reach = max(1, round(MIN_WIDTH * em / 2)), round(1.5 * em)
    xs = np.flatnonzero(printed.sum(axis=0) <= 0.05 * height)  # a gutter's columns are nearly white
    if not len(xs):
        return []

    def inked(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # ink in columns [a, b) of every row
        return run[:, np.clip(b, 0, width)] - run[:, np.clip(a, 0, width)]

    clear = inked(xs - half, xs + half + 1) == 0
    flanked = (inked(xs - half - reach, xs - half) > 0) & (inked(xs + half + 1, xs + half + 1 + reach) > 0)
    gap = clear & flanked  # rows × candidate columns: a white stripe here with ink on either side
    n = len(xs)
    counted, start = np.zeros(n, np.int32), np.zeros(n, np.int32)
    best, best_start, best_end = np.zeros(n, np.int32), np.zeros(n, np.int32), np.zeros(n, np.int32)
    for y in range(height):  # ink in the stripe ends a run; rows without ink beside it do not
        start = np.where(gap[y] & (counted == 0), y, start)
        counted = np.where(gap[y], counted + 1, np.where(clear[y], counted, 0))
        longer = counted > best
        best = np.where(longer, counted, best)
        best_start, best_end = np.where(longer, start, best_start), np.where(longer, y, best_end)
    found: list[Gutter] = []
    keep = np.flatnonzero(best * STEP >= MIN_LINES * 0.6 * em)  # a line's ink is ~0.6 of its height or more
    for group in np.split(keep, np.flatnonzero(np.diff(xs[keep]) > 1) + 1) if len(keep) else []:
        i = int(group[np.argmax(best[group])])
        top, bottom = float(best_start[i] * STEP), float(best_end[i] * STEP + STEP - 1)
        found.append(Gutter(float(xs[i]), top, bottom, float(xs[group[-1]] - xs[group[0]] + 1 + 2 * half)))
    return found
