"""Photos and QR codes on a scanned page, and the captions printed under or beside them (issue 34).

A caption (``图为…… 记者 某某 摄``) describes a photo, not the story beside it, and the OCR
detector also finds "lines" in a photo's texture.  Neither belongs in an article's text.  A photo
is told from text by how much of it is printed: a character cell of body text leaves most of its
pixels white paper, a photo leaves almost none.  Its caption is the short run of lines directly
under it, within its width, in smaller type than the body or set apart from the text below by
more than the line spacing (text that just runs on under a photo is neither); or the run of lines
beside it, in its column, level with its top or its bottom, in smaller type than the body (text
set round a photo is in the body's).  A QR code (found by OpenCV's detector, which ships inside
the OCR extra's opencv wheel) is a picture too, and the label beside or under it (``扫码关注…``)
is told the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from statistics import median

import numpy as np

from rag.ingest.diagrams import NEARER  # a title over a picture is told as a chart's word over it
from rag.ingest.gutters import ink
from rag.ingest.reading_order import TextBox, type_size

Box = tuple[float, float, float, float]  # x0, y0, x1, y1
Wall = tuple[float, float, float]  # a gutter or a rule: x, top, bottom
PAPER = 0.9  # a pixel darker than this share of the paper's brightness is printed on
FILLED = 0.6  # share of a character cell printed on, over which it is part of a picture
MIN_CELLS = 3  # a picture is at least this many character cells wide and tall
FLAT = 20  # grey levels: the middle half of a picture's tones spans more (a chart's bar is one tone and noise)
CAPTION_LINES = 3  # at most
BESIDE_LINES = 6  # at most, for a caption set beside its photo (a narrow measure: more lines)
SMALLER = 0.92  # caption type under this share of the body's
LARGER = 1.08  # a line in type this much larger than the caption's is the text under it


def pictures(image: np.ndarray, em: float, text: Sequence[Box] = ()) -> list[Box]:
    """The photos (and other pictures) on a page turned straight whose characters are ``em``
    pixels high: blocks of character cells nearly all printed on, and no cell under a line of
    ``text`` the OCR read clearly (a page photographed in uneven light is dark in its corners,
    and its text is still text)."""
    cell = max(4, round(em))
    grey = image.mean(axis=2) if image.ndim == 3 else image.astype(np.float32)
    printed = grey < PAPER * float(np.median(grey))
    rows, cols = printed.shape[0] // cell, printed.shape[1] // cell
    if rows < MIN_CELLS or cols < MIN_CELLS:
        return []
    filled = printed[: rows * cell, : cols * cell].reshape(rows, cell, cols, cell).mean(axis=(1, 3)) >= FILLED
    for x0, y0, x1, y1 in text:
        filled[max(0, round(y0)) // cell : round(y1) // cell + 1, max(0, round(x0)) // cell : round(x1) // cell + 1] = 0
    seen = np.zeros_like(filled)
    found: list[Box] = []
    for r, c in zip(*np.nonzero(filled)):
        if seen[r, c]:
            continue
        seen[r, c] = True
        stack, cells = [(int(r), int(c))], []
        while stack:  # the cells joined to this one, side by side or one above another
            y, x = stack.pop()
            cells.append((y, x))
            for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                if 0 <= ny < rows and 0 <= nx < cols and filled[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
        ys, xs = [y for y, _ in cells], [x for _, x in cells]
        tall, wide = max(ys) - min(ys) + 1, max(xs) - min(xs) + 1
        box = (min(xs) * cell, min(ys) * cell, (max(xs) + 1) * cell, (max(ys) + 1) * cell)
        area = (slice(box[1], box[3]), slice(box[0], box[2]))
        tones = grey[area][printed[area]]  # one flat tone is a drawn shape: rag.ingest.diagrams
        spread = float(np.subtract(*np.percentile(tones, [75, 25]))) if tones.size else 0.0
        if tall >= MIN_CELLS and wide >= MIN_CELLS and len(cells) >= 0.6 * tall * wide and spread >= FLAT:
            found.append((float(box[0]), float(box[1]), float(box[2]), float(box[3])))
    return found


def qr_codes(image: np.ndarray) -> list[Box]:
    """The QR codes printed on a page image (found, not decoded): each one's bounding box.
    OpenCV comes with the OCR extra, imported here so that the rest of ingest runs without it."""
    import cv2

    grey = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2GRAY)
    make = getattr(cv2, "QRCodeDetectorAruco", cv2.QRCodeDetector)
    try:
        found, corners = make().detectMulti(grey)
    except cv2.error:
        return []
    if not found or corners is None:
        return []
    return [(float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())) for q in corners]


def inside(box: TextBox, pictures: Sequence[Box]) -> bool:
    """The line's middle lies in a picture: a "line" the detector saw in a photo's texture."""
    x, y = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    return any(p[0] <= x <= p[2] and p[1] <= y <= p[3] for p in pictures)


def captions(
    boxes: Sequence[TextBox],
    pictures: Sequence[Box],
    image: np.ndarray,
    walls: Sequence[Wall] = (),
    codes: bool = False,
) -> set[int]:
    """The indices of ``boxes`` that are captions of ``pictures`` on the page ``image``; ``walls``
    are the page's gutters and rules, ``(x, top, bottom)`` (a line beyond one is the next
    column's).  A photo has one caption: beside it, else under it; and it may have a title
    above it, in type no larger than the body's.  Beside a QR code (``codes``), a run in the
    body's type set apart from the text after it is its label too (text set round a code runs
    on under it)."""
    if not boxes or not pictures:
        return set()
    printed = ink(image)
    body = median(b.height for b in boxes)
    body_type = _body_type(boxes, printed)

    def size(run: Sequence[int]) -> float:
        return _size([boxes[i] for i in run], printed, body_type)

    out: set[int] = set()
    for p in pictures:
        beside = [
            run
            for run in _runs_beside(boxes, p, body, walls)
            if (ratio := size(run)) < SMALLER or (codes and ratio <= LARGER and _set_apart(boxes, run, body))
        ]
        for run in beside:
            out.update(run)
        if beside or not (run := _run_under(boxes, p, body, printed)) or (ratio := size(run)) > LARGER:
            continue  # a headline under a photo starts the next story
        if _set_apart(boxes, run, body) or ratio < SMALLER:
            out.update(run)
    for p in pictures:
        if (above := _run_above(boxes, p, body)) and size(above) <= 1.0:
            out.update(above)
    return out


def _set_apart(boxes: Sequence[TextBox], run: Sequence[int], body: float) -> bool:
    """The run of lines stands apart from the text under it, by more than its line spacing."""
    lines = [boxes[i] for i in run]
    below = [b for b in boxes if b.y0 > lines[-1].y1 and _within(b, (lines[0].x0, 0, lines[0].x1, 0))]
    spacing = lines[1].y0 - lines[0].y1 if len(lines) > 1 else 0.5 * body
    return not below or min(b.y0 for b in below) - lines[-1].y1 > max(spacing, 0.5 * body) + 0.3 * body


def _run_above(boxes: Sequence[TextBox], picture: Box, body: float) -> list[int]:
    """The line directly above a picture (closer than a line's space), within its width, clearly
    nearer it than the line above it (a title over a photo or a chart; text running on into a
    picture is as near the line before it as the picture)."""
    over = [i for i, b in enumerate(boxes) if _within(b, picture) and b.y1 <= picture[1] + 0.5 * body]
    if not over:
        return []
    nearest = max(over, key=lambda i: boxes[i].y1)
    b = boxes[nearest]
    gap = max(0.0, picture[1] - b.y1)
    before = [o.y1 for o in boxes if o.y1 <= b.y0 and min(o.x1, b.x1) - max(o.x0, b.x0) > 0]
    if gap > 0.8 * body or (before and NEARER * (b.y0 - max(before)) <= gap):
        return []
    return [nearest]


def _runs_beside(boxes: Sequence[TextBox], picture: Box, body: float, walls: Sequence[Wall]) -> list[list[int]]:
    """The runs of lines beside a picture, right and left, in its column (no gutter or rule
    between): within its rows, each next line close under the last at the same edge (the left
    one right of the picture, either left of it), the run level with the picture's top or
    ending level with its bottom (at most ``BESIDE_LINES``)."""
    runs = []
    for right in (True, False):
        side = sorted(
            (i for i, b in enumerate(boxes) if _beside(b, picture, right, body, walls)), key=lambda i: boxes[i].y0
        )
        if not side or len(side) > BESIDE_LINES:
            continue
        first, last = boxes[side[0]], boxes[side[-1]]
        close = all(boxes[j].y0 - boxes[i].y1 <= 0.8 * body for i, j in pairwise(side))
        aligned = all(
            abs(b.x0 - first.x0) <= 0.5 * body or (not right and abs(b.x1 - first.x1) <= 0.5 * body)
            for b in (boxes[i] for i in side)
        )
        level = abs(first.y0 - picture[1]) <= body or abs(last.y1 - picture[3]) <= body
        if close and aligned and level:
            runs.append(side)
    return runs


def _beside(b: TextBox, picture: Box, right: bool, body: float, walls: Sequence[Wall]) -> bool:
    """The line stands close right (or left) of the picture, within its rows, with no gutter or
    rule between (a dark stripe inside a photo, which ends with it, is no rule)."""
    edge = picture[2] if right else picture[0]
    away, inner = (b.x0 - edge, b.x0) if right else (edge - b.x1, b.x1)
    return (
        not b.vertical
        and -0.3 * body <= away <= 2 * body
        and picture[1] - body <= b.y0
        and b.y1 <= picture[3] + body
        and not any(
            min(edge, inner) < x < max(edge, inner)
            and top < picture[3]
            and bottom > picture[1]
            and (top < picture[1] - body or bottom > picture[3] + body)
            for x, top, bottom in walls
        )
    )


def _body_type(boxes: Sequence[TextBox], printed: np.ndarray) -> tuple[float, float]:
    """The page's body type, measured once: the median character pitch of its lines and the
    median height of the printed characters of its lines of four or more (0 where unknown)."""
    pitches = [size for b in boxes if (size := type_size(b))]
    heights = [h for b in boxes if len(b.text.strip()) >= 4 and not b.vertical and (h := _ink_height(printed, b))]
    return (median(pitches) if pitches else 0.0), (median(heights) if heights else 0.0)


def _size(lines: Sequence[TextBox], printed: np.ndarray, body_type: tuple[float, float]) -> float:
    """The type of ``lines`` against the page's body type (1.0: the same): the smaller of two
    measures, their character pitch and the height of their printed characters in the image
    (``printed``: the page's ink).  The detector pads its boxes, the more so around small type,
    and a caption's spaces (``记者 某某 摄``) widen its pitch, which OCR leaves out of its text."""
    pitch, height = body_type
    sizes = [size for b in lines if (size := type_size(b))]
    by_pitch = median(sizes) / pitch if sizes and pitch else 1.0
    ours = [h for b in lines if len(b.text.strip()) >= 2 and (h := _ink_height(printed, b))]
    return min(by_pitch, median(ours) / height if ours and height else by_pitch)


def _ink_height(printed: np.ndarray, box: TextBox) -> int:
    """How many rows of the line's box its characters are printed on, top to bottom."""
    crop = printed[max(0, round(box.y0)) : round(box.y1), max(0, round(box.x0)) : round(box.x1)]
    rows = np.flatnonzero(crop.sum(axis=1) >= max(2, 0.02 * crop.shape[1])) if crop.size else np.zeros(0, int)
    return int(rows[-1] - rows[0] + 1) if len(rows) else 0


def _run_under(boxes: Sequence[TextBox], picture: Box, body: float, printed: np.ndarray) -> list[int]:
    """The lines directly under a picture, within its width, one below another (at most
    ``CAPTION_LINES``): each next line close under the last, at the first one's left edge (an
    indented line starts a paragraph) and in no larger type, by pitch or printed height (a
    caption's short wrapped tail, whose pitch says little, goes with it)."""
    under = sorted(
        (i for i, b in enumerate(boxes) if _within(b, picture) and picture[3] - 0.5 * body <= b.y0),
        key=lambda i: boxes[i].y0,
    )
    if not under or boxes[under[0]].y0 - picture[3] > 1.5 * body:
        return []
    first = boxes[under[0]]
    run = [under[0]]
    for i in under[1:CAPTION_LINES]:
        b, last = boxes[i], boxes[run[-1]]
        if b.y0 - last.y1 > 0.8 * body or abs(b.x0 - first.x0) > 0.5 * body:
            break
        size, before = type_size(b), type_size(last) or type_size(first)
        if size and before and size > LARGER * before:
            break
        height, first_height = _ink_height(printed, b), _ink_height(printed, first)
        if len(b.text.strip()) >= 2 and height and first_height and height > LARGER * first_height:
            break
        run.append(i)
    return run


def _within(box: TextBox, picture: Box) -> bool:
    """Most of the line stands within the picture's width."""
    overlap = min(box.x1, picture[2]) - max(box.x0, picture[0])
    return overlap >= 0.5 * (box.x1 - box.x0)
