"""Diagrams on a scanned page, and the words printed in them (issue 34).

A chart's title, its values and the names under its bars belong to the chart, not to the story
beside it; read into the text they put ``741 793 193`` and ``公交 步行 骑行`` between two of its
sentences.  A diagram is told from text by what is printed outside the OCR's lines: on a page of
text that is rules, frames and specks, on a chart it is bars, wedges and curves.  So: the ink
outside every line (and outside the page's photos), less thin straight lines (rules, frames,
axes: they run for several characters and are a fraction of one thick) and specks; what is left
and big — two characters wide and tall or more, once its parts a character apart are joined —
is drawn.  The lines standing on or close by it are its words, and so are the lines close by
those (a title over the values over the bars); a line printed on a tint (a shaded headline) is
not, for the tint is all round it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.ingest.reading_order import TextBox

Box = tuple[float, float, float, float]  # x0, y0, x1, y1
SHADE = 0.8  # darker than this share of the paper's brightness is printed on: charts come in tints
MIN_SIZE = 2.0  # characters: what is drawn is at least this wide and tall
LARGEST = 1.15  # a line this much taller than the page's lines (a headline) is no diagram's word
MAX_TEXT = 0.25  # share of a diagram's extent its lines may cover (a chart's words are few and short)
LONGEST = 30  # characters: a line longer than this is a rule down the page, not an axis
MIN_FILLED = 0.15  # share of its extent printed on (a stain is faint, a chart's bars are solid)
NEARER = 0.75  # a word above or below stands at most this share of its distance to any other line from it
REACH = 0.8  # characters: a diagram's words stand at most this far from it
ON_TINT = 0.5  # share of each strip round a line printed on, over which it is printed on a tint


def diagrams(ink: np.ndarray, em: float, text: Sequence[Box], pictures: Sequence[Box] = ()) -> list[Box]:
    """The drawn parts of the diagrams on a page turned straight whose characters are ``em``
    pixels high (``ink``: where it is printed on, darker than ``SHADE`` of the paper): ink outside
    the ``text`` lines and the ``pictures``, less rules and specks; parts standing on one
    straight line (a bar chart's bars on its axis) are one diagram."""
    import cv2

    if em <= 0:
        return []
    printed = ink.astype(np.uint8)
    swatches = _swatches(printed, em)
    _blank(printed, pictures, round(em))  # a picture's box is whole cells: its edge too
    _blank(printed, text, 0)  # the lines as boxed: an axis runs close over the words under it
    long, thick = max(3, round(2 * em)), max(2, round(0.3 * em))
    lines = np.zeros_like(printed)
    for run, across in (((1, long), (thick, 1)), ((long, 1), (1, thick))):
        straight = cv2.morphologyEx(printed, cv2.MORPH_OPEN, np.ones(run, np.uint8))
        thicker = cv2.morphologyEx(straight, cv2.MORPH_OPEN, np.ones(across, np.uint8))
        lines |= ((straight > 0) & (thicker == 0)).astype(np.uint8)
    _blank(printed, text, max(1, round(0.15 * em)))  # and a little round them: ink the boxes cut
    for x, y, w, h in swatches:  # a key's swatch boxed with its name is drawn, not text
        printed[y : y + h, x : x + w] = 1
    drawn = cv2.morphologyEx(printed & (1 - lines), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    parts = [  # ink round a line of text is a tint (a shaded box) or a shadow, not a drawing
        part
        for part in _parts(drawn, round(em), em) + _curves(printed & (1 - lines), em)
        if not any(part[0] <= x0 and x1 <= part[2] and part[1] <= y0 and y1 <= part[3] for x0, y0, x1, y1 in text)
    ]
    _, line_of, line_stats, _ = cv2.connectedComponentsWithStats(lines)
    axes = _axes(line_of, line_stats, em)
    joined = list(range(len(parts)))  # union-find over the parts: two on one line are one diagram

    def root(k: int) -> int:
        while joined[k] != k:
            joined[k] = k = joined[joined[k]]
        return k

    standing: dict[int, int] = {}  # a line's number → the first part found on it
    extent: dict[int, Box] = {}  # a part → the lines it stands on
    for k, (x0, y0, x1, y1) in enumerate(parts):
        near = line_of[max(0, y0 - thick) : y1 + thick, max(0, x0 - thick) : x1 + thick]
        for n in (int(n) for n in np.unique(near) if n):
            x, y, w, h = (int(v) for v in line_stats[n, :4])
            if max(w, h) > LONGEST * em:
                continue
            joined[root(k)] = root(standing.setdefault(n, k))
            extent[k] = _union(extent.get(k, (x0, y0, x1, y1)), (x, y, x + w, y + h))
    for n, frame in axes.items():  # a line chart's curve stands between its two axes
        for k, part in enumerate(parts):
            if frame[0] <= part[0] and part[2] <= frame[2] and frame[1] <= part[1] and part[3] <= frame[3]:
                joined[root(k)] = root(standing.setdefault(n, k))
                extent[k] = _union(extent.get(k, part), frame)
    for picture in pictures:  # a picture with drawn parts beside it (a pie and its key) is a diagram
        beside = [k for k, part in enumerate(parts) if _apart(picture, part) <= 2 * em]
        for k in beside:
            joined[root(k)] = root(beside[0])
            extent[k] = _union(extent.get(k, parts[k]), picture)
    groups: dict[int, list[Box]] = {}
    for k, part in enumerate(parts):
        groups.setdefault(root(k), []).append(extent.get(k, part))
    found: list[Box] = []
    for members in groups.values():
        box = members[0]
        for other in members[1:]:
            box = _union(box, other)
        big = box[2] - box[0] >= MIN_SIZE * em and box[3] - box[1] >= MIN_SIZE * em
        if big and _text_share(box, text) <= MAX_TEXT:
            found.append((float(box[0]), float(box[1]), float(box[2]), float(box[3])))
    return found


def _text_share(box: Box, text: Sequence[Box]) -> float:
    """How much of ``box`` the lines of ``text`` cover: a chart holds a few short words, a page
    of text with stray ink round its lines (an old page's rules and stains) is mostly lines."""
    x0, y0 = round(box[0]), round(box[1])
    covered = np.zeros((max(1, round(box[3]) - y0), max(1, round(box[2]) - x0)), bool)
    for a, b, c, d in text:
        covered[max(0, round(b) - y0) : max(0, round(d) - y0), max(0, round(a) - x0) : max(0, round(c) - x0)] = True
    return float(covered.mean())


def _swatches(printed: np.ndarray, em: float) -> list[tuple[int, int, int, int]]:
    """Solid squares a character's size or less (a chart key's colours): no character is one."""
    import cv2

    count, _, stats, _ = cv2.connectedComponentsWithStats(printed)
    return [
        (int(x), int(y), int(w), int(h))
        for x, y, w, h, area in stats[1:count]
        if 0.4 * em <= min(w, h) and max(w, h) <= 1.2 * em and max(w, h) <= 1.4 * min(w, h) and area >= 0.85 * w * h
    ]


def _blank(printed: np.ndarray, boxes: Sequence[Box], pad: int) -> None:
    for x0, y0, x1, y1 in boxes:
        printed[max(0, round(y0) - pad) : round(y1) + pad, max(0, round(x0) - pad) : round(x1) + pad] = 0


def _apart(a: Box, b: Box) -> float:
    """How far apart two boxes stand (0 where they overlap)."""
    return max(0.0, a[0] - b[2], b[0] - a[2], a[1] - b[3], b[1] - a[3])


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _parts(drawn: np.ndarray, reach: int, em: float) -> list[tuple[int, int, int, int]]:
    """The drawn parts: ink a character apart or less joined, half a character wide and tall or
    more and solid enough (``MIN_FILLED``)."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(drawn, np.ones((reach, reach), np.uint8)))
    parts = []
    for k in range(1, count):
        x, y, w, h = (int(v) for v in stats[k, :4])
        if w < 0.5 * em + reach or h < 0.5 * em + reach:
            continue
        part = drawn[y : y + h, x : x + w] & (labels[y : y + h, x : x + w] == k)
        rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
        box = (x + int(cols[0]), y + int(rows[0]), x + int(cols[-1]) + 1, y + int(rows[-1]) + 1)
        if part.sum() >= MIN_FILLED * (box[2] - box[0]) * (box[3] - box[1]):
            parts.append(box)
    return parts


def _curves(rest: np.ndarray, em: float) -> list[tuple[int, int, int, int]]:
    """Thin drawn lines that are not straight (a line chart's curve): ink outside the lines of
    text and the rules, two characters long or more and half one across at least, yet too thin
    to fill ``MIN_FILLED`` of its extent (a solid part is one of ``_parts``); no character is so
    long, and text the OCR did not box comes a character at a time."""
    import cv2

    count, _, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    return [
        (int(x), int(y), int(x + w), int(y + h))
        for x, y, w, h, area in stats[1:count]
        if max(w, h) >= MIN_SIZE * em and min(w, h) >= 0.5 * em and area < MIN_FILLED * w * h
    ]


def _axes(line_of: np.ndarray, stats: np.ndarray, em: float) -> dict[int, Box]:
    """The thin straight lines that meet as a chart's axes: one piece two characters or more
    each way, running along two or three sides of its extent, not four (a frame round a box of
    text is closed)."""
    out: dict[int, Box] = {}
    for n in range(1, len(stats)):
        x, y, w, h = (int(v) for v in stats[n, :4])
        if min(w, h) < MIN_SIZE * em or max(w, h) > LONGEST * em:
            continue
        mine = line_of[y : y + h, x : x + w] == n
        t = max(2, round(0.2 * em))
        sides = (mine[:t].any(axis=0), mine[-t:].any(axis=0), mine[:, :t].any(axis=1), mine[:, -t:].any(axis=1))
        if 2 <= sum(side.mean() >= 0.8 for side in sides) <= 3:
            out[n] = (float(x), float(y), float(x + w), float(y + h))
    return out


def words(boxes: Sequence[TextBox], diagrams: Sequence[Box], ink: np.ndarray, em: float) -> set[int]:
    """The indices of ``boxes`` that are words of ``diagrams`` (``ink`` as ``diagrams`` takes
    it): lines beside a diagram or one of its words, or above or below one, clearly nearer it
    than any other line, in type no larger than the body's and not printed on a tint."""
    if not diagrams or em <= 0:
        return set()
    out: set[int] = set()
    for diagram in diagrams:
        extent = diagram
        for _ in range(4):  # the words next to the drawing, then those next to them
            rest = [boxes[i] for i, b in enumerate(boxes) if i not in out and not b.vertical]
            more = {
                i
                for i, b in enumerate(boxes)
                if i not in out
                and not b.vertical
                and b.height <= LARGEST * em
                and _belongs(b, extent, rest, em)
                and not _on_tint(b, ink, em)
            }
            if not more:
                break
            out |= more
            for i in more:
                extent = _union(extent, (boxes[i].x0, boxes[i].y0, boxes[i].x1, boxes[i].y1))
    return out


def _belongs(b: TextBox, extent: Box, lines: Sequence[TextBox], em: float) -> bool:
    """The line stands beside the diagram's ``extent`` (level with it, ``REACH`` characters away
    at most) or above or below it, clearly nearer it than any other of the ``lines`` (a body
    line is nearer the line before it than a chart)."""
    reach = REACH * em
    x0, y0, x1, y1 = extent
    if min(b.y1, y1) - max(b.y0, y0) >= 0.5 * b.height and max(x0 - b.x1, b.x0 - x1) <= reach:
        return True
    gap = _gap_under(b, extent)
    if gap > reach:
        return False
    return all(NEARER * _gap_under(b, (o.x0, o.y0, o.x1, o.y1)) > gap for o in lines if o is not b)


def _gap_under(b: TextBox, area: Box) -> float:
    """How far above or below the line ``area`` stands (0: they overlap; infinite: not above
    or below it, they share under a third of the narrower one's width)."""
    shared = min(b.x1, area[2]) - max(b.x0, area[0])
    if shared < 0.3 * min(b.x1 - b.x0, area[2] - area[0]):
        return float(np.inf)
    return max(0.0, area[1] - b.y1, b.y0 - area[3])


def _on_tint(b: TextBox, printed: np.ndarray, em: float) -> bool:
    """The line is printed on a tint or a bar: the strips above, below, left and right of it
    are each mostly printed on (a word under a bar has paper below it)."""
    h, w = printed.shape
    pad, gap = max(2, round(0.4 * em)), max(1, round(0.15 * em))
    x0, y0, x1, y1 = round(b.x0), round(b.y0), round(b.x1), round(b.y1)
    strips = (
        printed[max(0, y0 - pad) : max(0, y0 - gap), x0:x1],
        printed[min(h, y1 + gap) : min(h, y1 + pad), x0:x1],
        printed[y0:y1, max(0, x0 - pad) : max(0, x0 - gap)],
        printed[y0:y1, min(w, x1 + gap) : min(w, x1 + pad)],
    )
    return all(strip.size and strip.mean() >= ON_TINT for strip in strips)
