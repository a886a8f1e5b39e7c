"""Diagrams on the synthetic pages of ``render_pages``: bar and pie charts with their words (issue 34).

A chart is set across its column after a paragraph, now and then: its title, then a bar chart
(a value over each bar, an axis, a name under each bar), a pie chart (grey wedges and a key of
squares and names beside it) or a line chart (a thin line through a dot a name, its value over
each dot, two axes).  Titles, names and values are the project's own; they are lines of
kind ``label``, which the truth text leaves out, and what is drawn is lines of kind ``shape``
whose text says what to draw (``rect GREY``, ``line``, ``wedge START END GREY``, ``dot``, ``segment
X0 Y0 X1 Y1``).
"""

from __future__ import annotations

import itertools
import random
from typing import TYPE_CHECKING

from PIL import ImageDraw, ImageFont

if TYPE_CHECKING:
    from page_photos import Flow

CHART_P = 0.05  # chance of a chart after a paragraph
KINDS = ("bar", "pie")  # the charts drawn by default; "line" on request
CHARTS = (  # the project's own: a title and the names of its parts
    ("柳溪县近五年粮食产量（万吨）", ("2019年", "2020年", "2021年", "2022年", "2023年")),
    ("各镇新增就业岗位（个）", ("城关镇", "河口镇", "青山乡", "石桥镇")),
    ("一季度各类案件受理情况", ("民事", "行政", "刑事", "执行")),
    ("县城居民出行方式占比", ("公交", "步行", "骑行", "自驾", "其他")),
)


def place_chart(lay: Flow, line: type, rng: random.Random, font_path: str, kinds: tuple[str, ...] = KINDS) -> None:
    """A chart six lines tall across the current column with its title above it (``rng``
    chooses its kind among ``kinds`` and its values); ``line`` makes a ``render_pages.Line``."""
    title, names = rng.choice(CHARTS)
    small, gap, space = round(lay.body * 0.75), round(lay.body * 0.6), lay.body  # a line's space round a chart
    tall = 6 * round(lay.body * 1.5)
    if lay.y + space + lay.body + tall + 2 * small > lay.height - lay.margin:
        lay.next_column()
    lay.y += space if lay.y > lay.margin else 0
    lay.emit(title, round(lay.body * 0.9), "label", -5)
    lay.y -= round(lay.body * 0.35)
    x0, top = lay.col_x(lay.col), lay.y
    font = ImageFont.truetype(font_path, small, index=0)

    def label(text: str, x: float, y: int) -> None:  # a word centred on x
        width = round(font.getlength(text))
        left = round(min(max(x - width / 2, x0), x0 + lay.col_w - width))
        lay.lines.append(line(text, (left, y, left + width, y + small), "label", -5))

    if kinds == KINDS:  # (the draws of the first charts' bench, kept)
        kind = "bar" if rng.random() < 0.5 else "pie"
    else:
        kind = rng.choice(kinds)
    if kind == "line":
        _line_chart(lay, line, rng, names, label, (x0, top, tall, small, gap, space))
        return
    if kind == "bar":
        slot = lay.col_w / len(names)
        values = [rng.randrange(120, 990) for _ in names]
        axis = top + tall
        for k, (name, value) in enumerate(zip(names, values)):
            middle = x0 + (k + 0.5) * slot
            height = round((tall - small - gap) * value / max(values))
            bar = (round(middle - 0.25 * slot), axis - height, round(middle + 0.25 * slot), axis)
            lay.lines.append(line(f"rect {rng.randrange(60, 150)}", bar, "shape", -6))
            label(str(value), middle, bar[1] - small - round(0.2 * lay.body))
            label(name, middle, axis + round(0.25 * lay.body))
        lay.lines.append(line("line", (x0, axis, x0 + lay.col_w, axis), "shape", -6))
        lay.y = axis + round(0.25 * lay.body) + small + space
        return
    shares = [rng.randrange(10, 40) for _ in names]
    side = tall - gap
    disk = (x0 + gap, top + gap // 2, x0 + gap + side, top + gap // 2 + side)
    start = 0.0
    key_x, key_y = disk[2] + round(0.8 * lay.body), top + round(0.5 * lay.body)
    for k, (name, share) in enumerate(zip(names, shares)):
        end = start + 360 * share / sum(shares)
        grey = 40 + 100 * k // len(names)
        lay.lines.append(line(f"wedge {start:.1f} {end:.1f} {grey}", disk, "shape", -6))
        square = (key_x, key_y + k * round(1.3 * small), key_x + small, key_y + k * round(1.3 * small) + small)
        lay.lines.append(line(f"rect {grey}", square, "shape", -6))
        text = f"{name} {round(100 * share / sum(shares))}%"
        left = key_x + small + round(0.3 * lay.body)
        width = round(font.getlength(text))
        lay.lines.append(line(text, (left, square[1], left + width, square[3]), "label", -5))
        start = end
    lay.y = top + tall + space


def _line_chart(lay: Flow, line: type, rng: random.Random, names, label, frame) -> None:
    """A thin line through one dot a name over two axes, each dot's value over it."""
    x0, top, tall, small, gap, space = frame
    slot = lay.col_w / len(names)
    values = [rng.randrange(120, 990) for _ in names]
    axis, left = top + tall, x0 + round(0.3 * slot)
    low, high = min(values), max(values)
    points = []
    for k, (name, value) in enumerate(zip(names, values)):
        middle = round(x0 + (k + 0.5) * slot)
        y = axis - round(gap + (tall - 2 * small - 2 * gap) * (0.15 + 0.85 * (value - low) / max(1, high - low)))
        points.append((middle, y))
        dot = max(3, round(0.15 * lay.body))
        lay.lines.append(line("dot", (middle - dot, y - dot, middle + dot, y + dot), "shape", -6))
        label(str(value), middle, y - small - round(0.5 * lay.body))
        label(name, middle, axis + round(0.25 * lay.body))
    for (a, b), (c, d) in itertools.pairwise(points):
        box = (min(a, c), min(b, d), max(a, c), max(b, d))
        lay.lines.append(line(f"segment {a} {b} {c} {d}", box, "shape", -6))
    lay.lines.append(line("line", (left, axis, x0 + lay.col_w, axis), "shape", -6))
    lay.lines.append(line("line", (left, top, left, axis), "shape", -6))
    lay.y = axis + round(0.25 * lay.body) + small + space


def draw_shape(draw: ImageDraw.ImageDraw, text: str, box: tuple[int, int, int, int]) -> None:
    """Draw one ``shape`` line of a chart."""
    what, *args = text.split()
    if what == "rect":
        draw.rectangle(box, fill=int(args[0]))
    elif what == "line":
        draw.line((box[0], box[1], box[2], box[3]), fill=0, width=2)
    elif what == "segment":
        draw.line(tuple(int(v) for v in args), fill=0, width=2)
    elif what == "dot":
        draw.ellipse(box, fill=0)
    elif what == "wedge":
        draw.pieslice(box, float(args[0]), float(args[1]), fill=int(args[2]), outline=255)
