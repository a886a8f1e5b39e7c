"""Offline OCR of page images: RapidOCR (PP-OCRv4 Chinese, models inside the wheel) on ONNX
Runtime (``rag.ingest.scans`` runs it in a pool of worker processes and caches each page).

``rapidocr-onnxruntime`` is the ``ocr`` extra; without it, scans are reported as skipped with the
install command.  Vertical text (a headline printed top to bottom) is detected as a tall box;
the recogniser reads lines, so the box is cut into its character cells, laid side by side and
read again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.ingest.deskew import straighten
from rag.ingest.diagrams import SHADE, diagrams, words
from rag.ingest.gutters import Gutter, gutters, ink
from rag.ingest.orientation import quarter_turns, side_by_side
from rag.ingest.pictures import captions, inside, pictures, qr_codes
from rag.ingest.reading_order import TextBox, joined
from rag.ingest.strips import Box, joined_gutters, read_zones, zones

INSTALL_HINT = "OCR needs the ocr extra: pip install 'baokan-rag[ocr]' (rapidocr-onnxruntime, models included)"
INSTALL_HINT_ZH = (
    "识别扫描件需要先安装文字识别（OCR）组件：pip install 'baokan-rag[ocr]'（即 rapidocr-onnxruntime，已含模型）"
)
MAX_SIDE = 4000  # pixels the detector sees on the long side (a broadsheet at 150 dpi is ~3,300)
MIN_SCORE = 0.5  # recognition confidence under which a box is dropped (RapidOCR's default)
TALL = 1.5  # height over width of a box RapidOCR reads on end (its characters one under another)
COLUMN = 3.0  # height over width of a column of vertical text on an upright page
PRINTED_OVER = 0.9  # confidence over which a line inside a photo is text printed over it, and kept

_engine = None


def engine(threads: int = 0):
    """This process's RapidOCR (made once; ``threads`` ONNX Runtime threads, 0 = all cores)."""
    global _engine
    if _engine is None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError:
            from rag.ingest.loaders import LoadError

            raise LoadError(INSTALL_HINT, zh=INSTALL_HINT_ZH) from None

        n = threads or -1
        _engine = RapidOCR(
            max_side_len=MAX_SIDE,
            intra_op_num_threads=n,
            inter_op_num_threads=1 if threads else -1,
            text_score=0.0,  # RapidOCR drops no line; read_image says which it keeps (and gives this again)
        )
    return _engine


def read_image(image: np.ndarray, threads: int = 0) -> tuple[list[TextBox], float, list[float], list[tuple[str, str]]]:
    """The text boxes of one page image (RGB or grey array), in the pixels of the page turned
    upright (rag.ingest.orientation) and straight (rag.ingest.deskew), and the degrees the scan
    was turned counter-clockwise: a multiple of 90 for a page on its side or upside down, plus
    its skew; the x of each narrow gutter found between its columns (rag.ingest.gutters); and
    the lines kept out of the boxes, as (what, line): the captions printed under or beside its
    photos and the labels of its QR codes (rag.ingest.pictures), and the words of its diagrams
    (rag.ingest.diagrams)."""
    ocr = engine(threads)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = np.ascontiguousarray(image[:, :, ::-1])  # RGB → BGR, as OpenCV expects
    # RapidOCR drops a line read under its text_score, reset to 0.5 by any keyword argument: it is
    # given as 0 and the reader keeps the lines read surely enough and the boxes standing on end,
    # which are read again below (RapidOCR turns those the wrong way on a page read turned); no
    # angle classifier line by line — the page's turn is decided once for the page (orientation)
    options = dict(return_word_box=True, use_cls=False, text_score=0.0)

    def lines(page: np.ndarray, turned: int) -> list:
        found = ocr(page, **options)[0] or []
        return [f for f in found if float(f[2]) >= MIN_SCORE or _on_end(TextBox("", *_bounds(f[0])), turned)]

    read_turned: list = []  # the words check's reading of the page turned a quarter, kept if it is turned

    def texts_turned(turned: np.ndarray) -> list[str]:
        read_turned[:] = lines(turned, 1)
        return [str(f[1]) for f in read_turned]

    result = lines(image, 0)
    turns = 0
    for look in range(2):  # a page on its side may come out upside down: one more look
        page = texts_turned if not look else None
        k = quarter_turns(lambda crop: _read_line(ocr, crop), lambda crops: ocr.text_cls(crops)[1], image, result, page)
        if not k:
            break
        turns += k
        image = np.ascontiguousarray(np.rot90(image, k))
        result = read_turned if turns == 1 and read_turned else lines(image, turns)
    result, image, skew = straighten(result, image)
    quarter = -90 * (turns % 4)
    skew = round(skew + (quarter + 360 if quarter <= -180 else quarter), 3)
    rules = column_rules(image)
    heights = [b.height for found in result or [] if (b := TextBox("", *_bounds(found[0]))).width >= 3 * b.height]
    em = float(np.median(heights)) if heights else 0.0
    gaps = gutters(image, em) if heights else []
    joined = joined_gutters(gaps, [_bounds(found[0]) for found in result or []], [x for x, _, _ in rules], em)
    if zs := zones(joined, image.shape[1], image.shape[0], em):
        detect = lambda x0, y0, x1, y1: _detect(ocr, image, x0, y0, x1, y1)  # noqa: E731
        result = read_zones(detect, lambda box: _recognise(ocr, image, box), result or [], zs, em)
    clear = [_bounds(f[0]) for f in result or [] if _clear(float(f[2]), str(f[1]))]
    photos = pictures(image, em, clear) if em else []
    codes = qr_codes(image)
    drawn = photos + codes
    boxes = []
    for found in result or []:
        for piece in _pieces(found, rules, drawn):
            score = float(found[2])
            if on_end := _on_end(piece, turns):  # a column of characters: vertical text
                piece, score = _read_vertical(ocr, image, piece, turns)
            if inside(piece, drawn) and not _clear(score, piece.text):
                continue  # a "line" in a photo's texture (text printed over a picture reads clearly)
            parts = [piece] if on_end else _across_gutters(ocr, image, piece, gaps)
            if parts == [piece] and score < MIN_SCORE and not on_end:
                continue  # read whole, and not sure enough of it
            boxes += [box for box in parts if box.text.strip()]
    walls = [(g.x, g.top, g.bottom) for g in gaps] + rules
    under = {i: "QR code label" for i in captions(boxes, codes, image, walls, codes=True)}
    under |= {i: "photo caption" for i in captions(boxes, photos, image, walls) if i not in under}
    read = [_bounds(found[0]) for found in result or []] + [(b.x0, b.y0, b.x1, b.y1) for b in boxes]
    shaded = ink(image, SHADE)  # charts come in tints
    charts = diagrams(shaded, em, read, drawn) if em else []
    under |= {i: "diagram label" for i in words(boxes, charts, shaded, em) if i not in under}
    kept = [b for i, b in enumerate(boxes) if i not in under]
    return kept, skew, [g.x for g in gaps], [(under[i], boxes[i].text) for i in sorted(under)]


def _on_end(box: TextBox, turns: int) -> bool:
    """A box standing on end: a column of vertical text (three times as tall as wide), or, on a
    page read turned a quarter, one of its horizontal lines — however short (RapidOCR itself
    reads a box half again as tall as wide as one on end, and turns it the wrong way here)."""
    return box.height >= (TALL if turns % 2 else COLUMN) * max(1.0, box.width)


def _clear(score: float, text: str) -> bool:
    """A line read clearly enough to be text wherever it stands, a photo included."""
    return score >= PRINTED_OVER and len(text.strip()) >= 4


def _detect(ocr, image: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> list[Box]:
    """The line boxes the detector finds in one part of the page, in the page's pixels."""
    result, _ = ocr(np.ascontiguousarray(image[y0:y1, x0:x1]), use_det=True, use_cls=False, use_rec=False)
    return [(a + x0, b + y0, c + x0, d + y0) for a, b, c, d in (_bounds(points) for points in result or [])]


def _recognise(ocr, image: np.ndarray, box: Box) -> list:
    """One detected line read, as a RapidOCR line; a tall box is left to ``_read_vertical``."""
    x0, y0, x1, y1 = box
    corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    if y1 - y0 >= 3 * max(1.0, x1 - x0):
        return [corners, "", 1.0]
    text, score = _read_line(ocr, image[max(0, round(y0)) : round(y1), max(0, round(x0)) : round(x1)])
    return [corners, text, score]


def _across_gutters(ocr, image: np.ndarray, box: TextBox, gaps: Sequence[Gutter]) -> list[TextBox]:
    """A line the detector ran across a narrow gutter (rag.ingest.gutters), cut there and each
    side read again; a line that crosses none, as it is."""
    middle = (box.y0 + box.y1) / 2
    inside = (box.x0 + box.height, box.x1 - box.height)
    cuts = sorted(x for x, top, bottom, _ in gaps if inside[0] < x < inside[1] and top <= middle <= bottom)
    if not cuts or box.vertical or box.height >= box.width:
        return [box]
    out = []
    for x0, x1 in zip([box.x0, *cuts], [*cuts, box.x1]):
        crop = image[max(0, round(box.y0)) : round(box.y1), max(0, round(x0)) : round(x1)]
        text, score = _read_line(ocr, crop) if crop.size else ("", 0.0)
        if text.strip() and score >= MIN_SCORE:
            inked = np.flatnonzero(ink(crop).any(axis=0))
            left, right = (x0 + inked[0], x0 + inked[-1] + 1) if len(inked) else (x0, x1)
            out.append(TextBox(text, float(left), box.y0, float(right), box.y1))
    return out


Rule = tuple[float, float, float]  # a printed vertical line: x, top, bottom


def column_rules(image: np.ndarray, min_share: float = 0.12) -> list[Rule]:
    """The vertical lines printed between columns: runs of dark pixels, at most a few pixels
    wide, at least ``min_share`` of the page tall."""
    grey = image.mean(axis=2) if image.ndim == 3 else image
    dark = grey < 0.8 * float(np.median(grey))  # rules are often printed grey
    height = dark.shape[0]
    run = np.zeros(dark.shape[1], dtype=np.int32)
    best = np.zeros_like(run)
    end = np.zeros_like(run)
    for y in range(height):
        run = np.where(dark[y], run + 1, 0)
        longer = run > best
        best = np.where(longer, run, best)
        end = np.where(longer, y, end)
    rules: list[Rule] = []
    for x in np.flatnonzero(best >= min_share * height):
        top, bottom = float(end[x] - best[x] + 1), float(end[x])
        if rules and x - rules[-1][0] <= 6:  # the same rule, a few pixels wide
            continue
        rules.append((float(x), top, bottom))
    return rules


def _crossed(rules: Sequence[Rule], x0: float, x1: float, y0: float, y1: float) -> bool:
    return any(x0 <= x <= x1 and top <= (y0 + y1) / 2 <= bottom for x, top, bottom in rules)


def _pieces(found: list, rules: Sequence[Rule] = (), pictures: Sequence[Box] = ()) -> list[TextBox]:
    """One detected line as boxes, cut where its characters stand further apart than a
    character's height or a column rule runs between them (the detector joins lines of
    neighbouring columns across a narrow gap, and reads the rule as a character), and where
    they pass into or out of a picture (a QR code's label run into its pattern)."""
    points, text = found[0], str(found[1])
    whole = TextBox(text, *_bounds(points))
    if len(found) < 5 or not found[3] or len(found[3]) != len(found[4]) or whole.height >= TALL * max(1.0, whole.width):
        return [whole]  # no characters' boxes, or a box taller than wide (its characters stand one under another)
    pieces: list[TextBox] = []
    kept = []
    was_in = False
    for word_points, word in zip(found[3], found[4]):
        x0, y0, x1, y1 = _bounds(word_points)
        now_in = inside(TextBox(str(word), x0, y0, x1, y1), pictures)
        into, was_in = now_in != was_in, now_in
        if len(str(word)) == 1 and x1 - x0 < 0.6 * whole.height and _crossed(rules, x0 - 2, x1 + 2, y0, y1):
            pieces.append(TextBox("", x0, y0, x1, y1))  # the rule itself: a break, no text
            continue
        kept.append(str(word))
        last = pieces[-1] if pieces and pieces[-1].text else None
        if (
            last is not None
            and x0 - last.x1 < 0.8 * whole.height
            and not into
            and not _crossed(rules, last.x1, x0, y0, y1)
        ):
            last.text = joined(last.text, str(word), x0 - last.x1, whole.height)
            last.x1, last.y0, last.y1 = max(last.x1, x1), min(last.y0, y0), max(last.y1, y1)
        else:
            pieces.append(TextBox(str(word), x0, y0, x1, y1))
    pieces = [p for p in pieces if p.text]
    return pieces if "".join(p.text for p in pieces).replace(" ", "") == "".join(kept).replace(" ", "") else [whole]


def _read_line(ocr, crop: np.ndarray) -> tuple[str, float]:
    """One line image read as it stands (no angle classifier): its text and mean confidence."""
    result, _ = ocr(crop, use_det=False, use_cls=False, use_rec=True)
    found = [r for r in result or [] if r]
    return "".join(str(r[0]) for r in found), float(np.mean([float(r[1]) for r in found])) if found else 0.0


def _bounds(points) -> tuple[float, float, float, float]:
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _read_vertical(ocr, image: np.ndarray, box: TextBox, turns: int = 0) -> tuple[TextBox, float]:
    """A tall box read as vertical text, with the reading's confidence: its square character cells
    side by side, read as a line.
    On a page read turned a quarter (``turns`` odd: a page set vertically), a tall box is as
    likely one of its horizontal lines — a header line, a headline across the columns — whose
    characters now lie on their side: it is also read turned back as the line it was, its text
    put in the order the page's columns are read (right to left on a vertical page, as such a
    page sets its horizontal lines), and the surer reading kept."""
    x0, y0, x1, y1 = (round(v) for v in (box.x0, box.y0, box.x1, box.y1))
    crop = image[max(0, y0) : y1, max(0, x0) : x1]
    readings = [_read_cells(ocr, side_by_side(crop))]
    if turns % 2:
        text, score = _read_line(ocr, np.ascontiguousarray(np.rot90(crop, -turns)))
        readings.append((text[::-1] if turns % 4 == 1 else text, score if text.strip() else 0.0))
    text, score = max(readings, key=lambda r: r[1])
    return TextBox(text, box.x0, box.y0, box.x1, box.y1, vertical=True), score


def _read_cells(ocr, strip: np.ndarray) -> tuple[str, float]:
    """Character cells laid side by side read as a line: the pieces read surely enough, and the
    mean confidence over all (a strip read as nothing scores 0)."""
    result, _ = ocr(strip, use_det=False, use_cls=False, use_rec=True)
    found = [r for r in result or [] if r]
    text = "".join(str(r[0]) for r in found if float(r[1]) >= MIN_SCORE)
    return text, float(np.mean([float(r[1]) for r in found])) if text else 0.0
