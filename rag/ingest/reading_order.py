"""Text boxes of a page (OCR or a PDF text layer) → page text in reading order, with where each
line stands on the page.

Newspaper pages are columns, sometimes under a headline that spans several of them, sometimes
with a headline printed vertically.  The boxes are split recursively (an XY-cut): first at a
vertical gap that runs the full height of the region (columns, left to right), else at a
horizontal gap taller than the line spacing (bands, top to bottom).  Within a leaf, boxes are
gathered into lines by their vertical overlap; a new paragraph starts at an indented line, after
a short one, or where the type size changes (a headline's display type against body type), as
a compositor sets them.  A gutter may slant a little on a warped scan; a page set vertically is
read right to left.  The text that comes out has the shape of the
``.txt`` pages (column lines, blank lines between blocks), so the segmenter reads both alike.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

from rag.ingest.cleaning import page_label
from rag.ingest.dates import DATE
from rag.ingest.deskew import weighted_median


@dataclass
class TextBox:
    """One piece of text on a page, in page pixels (x to the right, y down)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    vertical: bool = False  # printed top to bottom (a vertical headline)

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def em(self) -> float:
        """The character size: the narrow side of the box."""
        return self.width if self.vertical else self.height


@dataclass
class PlacedLine:
    """A line of page text: its character span in the page text and its rectangle."""

    start: int
    end: int
    page: int  # 1-based
    box: tuple[int, int, int, int]


@dataclass
class PageSize:
    number: int  # 1-based
    width: int
    height: int
    skew: float = 0.0  # degrees the scan was turned; the lines are placed on the page turned straight


@dataclass
class PageLayout:
    """A file's text (pages in order, blank lines between blocks) and where its lines stand."""

    text: str = ""
    lines: list[PlacedLine] = field(default_factory=list)
    pages: list[PageSize] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # rag.models.Said: what the report should say of a page
    kept_out: list[tuple[int, str, str]] = field(default_factory=list)  # (page, what, line): captions, labels, charts

    def add_page(
        self, number: int, width: int, height: int, blocks: list[list[tuple[str, TextBox]]], skew: float = 0.0
    ) -> None:
        """Append a page's blocks (each a list of (line text, line box)) to the text."""
        self.pages.append(PageSize(number, int(width), int(height), float(skew)))
        parts = [self.text] if self.text else []
        at = len(self.text)
        for block in blocks:
            if parts:
                parts.append("\n\n")
                at += 2
            for i, (text, box) in enumerate(block):
                if i:
                    parts.append("\n")
                    at += 1
                self.lines.append(PlacedLine(at, at + len(text), number, _rounded(box)))
                parts.append(text)
                at += len(text)
        self.text = "".join(parts)


def joined(left: str, right: str, gap: float, height: float) -> str:
    """Two pieces of one line side by side: a space only between Latin words or numbers set
    apart (Chinese is set solid; OCR's gaps between characters are not spaces)."""
    spaced = left[-1:].isascii() and right[:1].isascii() and gap > 0.2 * height
    return left + (" " if spaced else "") + right


def _rounded(box: TextBox) -> tuple[int, int, int, int]:
    return round(box.x0), round(box.y0), round(box.x1), round(box.y1)


def order_page(boxes: list[TextBox], gutters: Sequence[float] = ()) -> list[list[tuple[str, TextBox]]]:
    """The page's text blocks in reading order; each block a list of (line text, line box).
    ``gutters``: the x of narrow gutters found in the image (rag.ingest.gutters), where a
    column may be cut at a gap narrower than the usual 0.9 of a character."""
    boxes = [b for b in boxes if b.text.strip() and b.width > 0 and b.height > 0]
    if not boxes:
        return []
    em = median(b.em for b in boxes)
    boxes = _join_stacks(boxes)
    blocks: list[list[tuple[str, TextBox]]] = []
    sizes = [size for b in boxes if (size := type_size(b))]
    body = median(sizes) if sizes else em
    rtl = vertical_page(boxes)
    for leaf in _cut(boxes, em, rtl, tuple(gutters)):
        blocks.extend(_vertical_blocks(leaf) if rtl else _leaf_blocks(leaf, body))
    return blocks


def vertical_page(boxes: list[TextBox]) -> bool:
    """Most of the page's characters stand in vertical lines: a page set top to bottom, whose
    columns are read right to left (a traditional layout)."""
    down = sum(len(b.text.strip()) for b in boxes if b.vertical)
    return down > sum(len(b.text.strip()) for b in boxes if not b.vertical)


def _vertical_blocks(boxes: list[TextBox]) -> list[list[tuple[str, TextBox]]]:
    """A region of a vertical page: the lines set across it first (a header, a headline), each
    a block, then its columns right to left as the lines of one block."""
    across: list[list[tuple[str, TextBox]]] = [
        [(_across(ln), ln)] for ln in _lines([b for b in boxes if not b.vertical])
    ]
    columns = sorted((b for b in boxes if b.vertical), key=lambda b: -b.x1)
    return across + ([[(b.text.strip(), b) for b in columns]] if columns else [])


def _join_stacks(boxes: list[TextBox]) -> list[TextBox]:
    """Single characters stacked one under the other (a vertical headline that OCR or a PDF's
    text layer gives a character at a time) joined into one vertical box, when most of them
    stand alone: characters with text set solid beside them belong to their lines."""
    rows: dict[int, list[TextBox]] = {}
    step = max(1.0, median(b.em for b in boxes))
    for b in boxes:
        for r in range(int(b.y0 // step), int(b.y1 // step) + 1):
            rows.setdefault(r, []).append(b)

    def alone(b: TextBox) -> bool:
        size = max(b.width, b.height)
        near = {id(c): c for r in range(int(b.y0 // step), int(b.y1 // step) + 1) for c in rows.get(r, [])}
        return not any(
            c is not b
            and min(b.y1, c.y1) - max(b.y0, c.y0) > 0.5 * min(b.height, c.height)
            and max(c.x0 - b.x1, b.x0 - c.x1) < 0.25 * size  # set solid: characters of a line touch
            for c in near.values()
        )

    def cell(b: TextBox) -> bool:  # one character's square (OCR may read it as two: 引 → 12)
        n = len(b.text.strip())
        return not b.vertical and (n == 1 or (n == 2 and 0.5 <= b.width / b.height <= 1.5))

    singles = sorted((b for b in boxes if cell(b)), key=lambda b: b.y0)
    runs: list[list[TextBox]] = []
    for b in singles:
        for run in runs:
            last = run[-1]
            size = max(last.width, last.height)
            aligned = abs((b.x0 + b.x1) / 2 - (last.x0 + last.x1) / 2) <= 0.25 * size
            if aligned and -0.1 * size <= b.y0 - last.y1 <= 0.35 * size:  # closer than lines are
                run.append(b)
                break
        else:
            runs.append([b])
    runs = [run for run in runs if len(run) >= 2 and 2 * sum(alone(b) for b in run) > len(run)]
    joined = {id(b) for run in runs for b in run}
    out = [b for b in boxes if id(b) not in joined]
    for run in runs:
        text = "".join(b.text.strip() for b in run)
        out.append(TextBox(text, min(b.x0 for b in run), run[0].y0, max(b.x1 for b in run), run[-1].y1, True))
    return out


def _across(line: TextBox) -> str:
    """A line set across a vertical page, as it reads: older papers set such lines right to left
    (日九月四年八國民華中 is 中華民國八年四月九日), newer ones left to right.  Geometry cannot
    tell, so the content does: a date or a page number that reads only backwards."""
    text = line.text
    backwards = text[::-1]
    if (DATE.search(backwards) or page_label(backwards)) and not (DATE.search(text) or page_label(text)):
        return backwards
    return text


def _cut(boxes: list[TextBox], em: float, rtl: bool = False, gutters: tuple[float, ...] = ()) -> list[list[TextBox]]:
    """XY-cut: the regions of ``boxes`` in reading order (columns right to left when ``rtl``)."""
    if len(boxes) <= 1:
        return [boxes]
    for axis, min_gap in (("x", 0.9 * em), ("y", 1.2 * em)):
        parts = _split(boxes, axis, min_gap, gutters if axis == "x" else (), NARROW * em)
        if len(parts) > 1:
            parts = parts[::-1] if rtl and axis == "x" else parts
            return [leaf for part in parts for leaf in _cut(part, em, rtl, gutters)]
    return [boxes]


MAX_SLANT = 0.02  # px across per px down (1.15°): what a warped scan leaves after deskew
NARROW = 0.2  # of a character: the least gap cut at a narrow gutter the image shows


def _split(
    boxes: list[TextBox], axis: str, min_gap: float, gutters: tuple[float, ...] = (), narrow: float = 0.0
) -> list[list[TextBox]]:
    """Groups of ``boxes`` separated by empty stripes at least ``min_gap`` wide along ``axis``.
    Across the page (``x``) a gutter may slant a little, where a scan was warped (photographed
    at an angle, or not flat on the glass: deskew straightens the page on average, not every
    gutter).  Where no straight gutter is found, the region's own slant — how its lines' aligned
    edges drift down the column (``_slant``) — is followed instead."""
    parts = _split_at(boxes, axis, min_gap, 0.0, gutters, narrow)
    if axis == "x" and len(parts) == 1 and abs(slant := _slant(boxes)) >= 0.002:
        parts = _split_at(boxes, axis, min_gap, slant)
    return parts


def _slant(boxes: list[TextBox]) -> float:
    """How far the aligned edges of a column's lines move across per pixel down: the median,
    weighted by distance, over pairs of lines up to 20 lines apart that overlap across and whose
    left (or right) edges stay within half a line height plus the largest slant of each other
    (indented first lines fall outside).  0.0 when fewer than five pairs say so."""
    ordered = sorted(boxes, key=lambda b: b.y0)
    slopes: list[tuple[float, float]] = []
    for i, b in enumerate(ordered):
        for c in ordered[i + 1 :]:
            down = c.y0 - b.y0
            if down > 20 * b.height:
                break
            if down < 0.5 * b.height or min(b.x1, c.x1) <= max(b.x0, c.x0):
                continue
            for edge in ((c.x0 - b.x0), (c.x1 - b.x1)):
                if abs(edge) < 0.5 * b.height + MAX_SLANT * down:
                    slopes.append((edge / down, down))
    if len(slopes) < 5:
        return 0.0
    slope = weighted_median(slopes)
    return slope if abs(slope) <= MAX_SLANT else 0.0


def _split_at(
    boxes: list[TextBox], axis: str, min_gap: float, shear: float, gutters: tuple[float, ...] = (), narrow: float = 0.0
) -> list[list[TextBox]]:
    """``_split`` along a stripe that moves ``shear`` pixels across for each pixel down; at one
    of ``gutters`` a gap of ``narrow`` is enough."""
    if axis == "x" and gutters:
        edges = {id(b): _beside_gutters(b, gutters, narrow) for b in boxes}
        lo, hi = (lambda b: edges[id(b)][0]), (lambda b: edges[id(b)][1])
    elif axis == "x":
        top = min(b.y0 for b in boxes)
        lo = lambda b: b.x0 - shear * ((b.y1 if shear > 0 else b.y0) - top)  # noqa: E731
        hi = lambda b: b.x1 - shear * ((b.y0 if shear > 0 else b.y1) - top)  # noqa: E731
    else:
        lo, hi = (lambda b: b.y0), (lambda b: b.y1)
    ordered = sorted(boxes, key=lo)
    groups: list[list[TextBox]] = [[ordered[0]]]
    reach = hi(ordered[0])
    for b in ordered[1:]:
        gap = lo(b) - reach
        if gap >= min_gap or (gap >= narrow > 0 and any(reach <= x <= lo(b) for x in gutters)):
            groups.append([])
        groups[-1].append(b)
        reach = max(reach, hi(b))
    return groups


OVERHANG = 1.0  # of a character: how far a line's box may reach over a gutter the image shows


def _beside_gutters(box: TextBox, gutters: tuple[float, ...], narrow: float) -> tuple[float, float]:
    """The box's left and right edges, ending a ``narrow`` gap short of a gutter it reaches
    over by less than a character.  The detector pads its boxes, and next to a narrow gutter it
    may take in part of the neighbouring column's last character (抓 read as 爪 at a headline's
    start); a white stripe down the page image is the better evidence of where the column ends.
    A headline set over both columns reaches over by more and still keeps them together."""
    x0, x1 = box.x0, box.x1
    reach = OVERHANG * narrow / NARROW
    for x in gutters:
        if x0 < x < x1 and min(x - x0, x1 - x) < reach:
            x0, x1 = (x + narrow, x1) if x - x0 < x1 - x else (x0, x - narrow)
    return x0, x1


def _leaf_blocks(boxes: list[TextBox], body: float) -> list[list[tuple[str, TextBox]]]:
    """A region's lines, cut into blocks at paragraph starts; vertical text is a block alone,
    read before the lines beside it."""
    vertical = sorted((b for b in boxes if b.vertical), key=lambda b: (b.y0, b.x0))
    lines = _lines([b for b in boxes if not b.vertical])
    blocks: list[list[tuple[str, TextBox]]] = []
    left = min((b.x0 for b in lines), default=0.0)
    right = max((b.x1 for b in lines), default=0.0)
    cur: list[tuple[str, TextBox]] = []
    prev: TextBox | None = None
    for box in lines:
        while vertical and vertical[0].y0 <= box.y0 + 0.5 * box.height:
            if cur:
                blocks.append(cur)
                cur, prev = [], None
            head = vertical.pop(0)
            blocks.append([(head.text.strip(), head)])
        size = box.height
        indented = box.x0 - left >= 1.2 * size
        short_before = prev is not None and right - prev.x1 >= 1.5 * size
        gap = prev is not None and box.y0 - prev.y1 >= 0.9 * size
        if cur and (indented or short_before or gap or (prev is not None and _new_type(prev, box, body))):
            blocks.append(cur)
            cur = []
        cur.append((box.text, box))
        prev = box
    if cur:
        blocks.append(cur)
    blocks += [[(b.text.strip(), b)] for b in vertical]
    return blocks


DISPLAY = 1.25  # type this many times the page's body type is display type: a headline


def type_size(box: TextBox) -> float:
    """The size of a horizontal line's type from its character pitch (a Chinese character is
    square; a Latin letter or figure about half as wide); 0.0 for a line too short to say."""
    text = box.text.replace(" ", "")
    if box.vertical or len(text) < 4:
        return 0.0
    wide = sum(not c.isascii() for c in text)
    return box.width / (wide + 0.5 * (len(text) - wide))


def _new_type(prev: TextBox, box: TextBox, body: float) -> bool:
    """The line is set in other type than the one above it: a headline's lines (display type,
    ``DISPLAY`` times the body type or more) against body text, or a kicker against its headline.
    A headline over two lines is then a block of its own, as the segmenter knows headlines."""
    a, b = type_size(prev), type_size(box)
    if not a or not b:
        return False
    if (a >= DISPLAY * body) != (b >= DISPLAY * body):
        return True
    return min(a, b) >= DISPLAY * body and abs(a - b) > 0.15 * max(a, b)


def _lines(boxes: list[TextBox]) -> list[TextBox]:
    """Boxes that share a line (overlap by half their height) joined left to right."""
    lines: list[list[TextBox]] = []
    for b in sorted(boxes, key=lambda b: (b.y0 + b.y1) / 2):
        if lines:
            last = lines[-1]
            top, bottom = min(x.y0 for x in last), max(x.y1 for x in last)
            overlap = min(bottom, b.y1) - max(top, b.y0)
            if overlap >= 0.5 * min(b.height, bottom - top):
                last.append(b)
                continue
        lines.append([b])
    out = []
    for parts in lines:
        parts.sort(key=lambda b: b.x0)
        text = parts[0].text.strip()
        for a, b in itertools.pairwise(parts):
            text = joined(text, b.text.strip(), b.x0 - a.x1, a.height)
        out.append(
            TextBox(
                text,
                min(b.x0 for b in parts),
                min(b.y0 for b in parts),
                max(b.x1 for b in parts),
                max(b.y1 for b in parts),
            )
        )
    return out
