"""Whole-page orientation: a page scanned upside down or on its side is turned upright before
the reading order sees it (issue 34).

The detector finds text lines at any orientation, but the recogniser reads them only upright.
So the page's longest lines are looked at again.  Wide lines: RapidOCR's angle classifier
(PP-OCR's, made for this) says whether each is upside down; when most are, so is the page.  A
page of mostly tall "lines" is on its side, or printed vertically: its lines are read turned a
quarter either way and cell by cell (vertical text, characters upright and stacked), and turned
only when a quarter turn reads clearly better.  A page of wide lines whose text is mostly not
words (``rag.text.dictionary_share``) may be a vertical page whose characters, set on a strict
grid, the detector joined across its columns: it is read turned a quarter too, and turned when
that reads as words clearly more often.  A page found turned is turned and read again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from rag.text.tokenize import dictionary_share

SAMPLE = 8  # longest lines read again
MARGIN = 0.15  # mean confidence a quarter turn must win by
UPSIDE_DOWN = 2 / 3  # share of the sampled lines the classifier must find upside down
SURE = 0.9  # the classifier's confidence that counts
FEW_WORDS = 0.45  # dictionary share under which a page of wide lines is read turned too (modern prose ~.8)
MORE_WORDS = 0.08  # share a quarter turn must win by
MIN_CHARACTERS = 50  # read characters needed to judge a page by its words

Read = Callable[[np.ndarray], tuple[str, float]]
Classify = Callable[[list[np.ndarray]], list[tuple[str, float]]]
ReadPage = Callable[[np.ndarray], list[str]]


def quarter_turns(
    read: Read, classify: Classify, image: np.ndarray, result: Sequence, read_page: ReadPage | None = None
) -> int:
    """Quarter turns (``np.rot90``'s k: counter-clockwise) that make the page upright; 0 when it
    is, or when too little text says otherwise.  ``read`` recognises one upright line image
    (text, confidence); ``classify`` labels line images ``"0"`` or ``"180"`` with a confidence;
    ``result`` is RapidOCR's reading of the page as it is; ``read_page`` (optional) reads a whole
    page image's lines, for the words check."""
    wide, tall = _lines(image, result)
    if len(tall) > len(wide) and sum(_long(b) for b in tall) > sum(_long(b) for b in wide):
        crops = [_crop(image, b) for b in _longest(tall)]
        as_cells = _mean(read, [side_by_side(c) for c in crops])
        turned = {k: _mean(read, [np.rot90(c, k) for c in crops]) for k in (1, -1)}
        k = max(turned, key=lambda q: turned[q])
        return k if turned[k] >= as_cells + MARGIN else 0
    if not wide:
        return 0
    crops = [c for b in _longest(wide) if min((c := _crop(image, b)).shape[:2]) >= 4]
    labels = classify(crops) if crops else []
    flipped = sum("180" in label and score >= SURE for label, score in labels)
    if labels and flipped >= UPSIDE_DOWN * len(labels):
        return 2
    return _columns_read_across(read_page, image, result) if read_page else 0


def _columns_read_across(read_page: ReadPage, image: np.ndarray, result: Sequence) -> int:
    """1 when the page's lines read as words clearly more often turned a quarter (its columns
    were read across), else 0.  The turned reading costs a second pass over the page, so it is
    tried only on a page whose lines are mostly not words."""
    here = "".join(str(found[1]) for found in result or () if len(found) > 1)
    if sum("\u4e00" <= c <= "\u9fff" for c in here) < MIN_CHARACTERS or (share := dictionary_share(here)) >= FEW_WORDS:
        return 0
    turned = dictionary_share("".join(read_page(np.ascontiguousarray(np.rot90(image, 1)))))
    return 1 if turned >= share + MORE_WORDS else 0


Bounds = tuple[int, int, int, int]


def _lines(image: np.ndarray, result: Sequence) -> tuple[list[Bounds], list[Bounds]]:
    """The detected lines' bounds: wide ones (at least 3:1) and tall ones."""
    h, w = image.shape[:2]
    wide, tall = [], []
    for found in result or ():
        xs = [float(p[0]) for p in found[0]]
        ys = [float(p[1]) for p in found[0]]
        b = (max(0, int(min(xs))), max(0, int(min(ys))), min(w, int(max(xs)) + 1), min(h, int(max(ys)) + 1))
        bw, bh = b[2] - b[0], b[3] - b[1]
        if bw >= 3 * bh > 0:
            wide.append(b)
        elif bh >= 3 * bw > 0:
            tall.append(b)
    return wide, tall


def _long(b: Bounds) -> int:
    return max(b[2] - b[0], b[3] - b[1])


def _longest(boxes: list[Bounds]) -> list[Bounds]:
    return sorted(boxes, key=_long, reverse=True)[:SAMPLE]


def _crop(image: np.ndarray, b: Bounds) -> np.ndarray:
    return np.ascontiguousarray(image[b[1] : b[3], b[0] : b[2]])


def side_by_side(crop: np.ndarray) -> np.ndarray:
    """A tall crop's square character cells laid side by side, a little white between them:
    vertical text as a line the recogniser reads (also ``ocr``'s way to read a vertical headline)."""
    size = max(1, crop.shape[1])
    count = max(1, round(crop.shape[0] / size))
    step = crop.shape[0] / count
    cells = [crop[round(i * step) : round((i + 1) * step)] for i in range(count)]
    height = min(c.shape[0] for c in cells)
    pad = np.full((height, max(2, size // 6), *crop.shape[2:]), 255, dtype=crop.dtype)
    return np.ascontiguousarray(np.concatenate([part for c in cells for part in (c[:height], pad)], axis=1))


def _mean(read: Callable[[np.ndarray], tuple[str, float]], crops: list[np.ndarray]) -> float:
    """Mean recognition confidence over the crops (a crop read as nothing counts 0)."""
    scores = []
    for crop in crops:
        if min(crop.shape[:2]) < 4:
            continue
        text, score = read(np.ascontiguousarray(crop))
        scores.append(score if text.strip() else 0.0)
    return float(np.mean(scores)) if scores else 0.0
