"""The skew of a scanned page, from the lines the OCR detector found, and the page straightened.

Each detected line comes with its characters' boxes: the line through their centres has the
slope of the printed line (for a line of few characters, the slope of its quadrilateral's top
and bottom edges).  The page's skew is the median slope, weighted by the lines' lengths (short
boxes — a page number, a character read alone — barely count).  The line
quadrilaterals and the image are then rotated back by that angle about the page centre, so the
reading order sees straight lines and full-height gutters (issue 34).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MIN_LINES = 3  # long lines needed to trust an estimate
MIN_ANGLE = 0.05  # degrees: below this the page is left as it is
MAX_ANGLE = 10.0  # degrees: beyond this a slope is not a tilted text line


def skew_angle(result: Sequence) -> float:
    """Degrees the page is turned counter-clockwise (as PIL's ``rotate`` and OpenCV count), from
    RapidOCR's result (line quad, text, score[, word quads, words]); 0.0 when too few long lines
    say so.  A line with six or more word boxes gives the slope through their centres (least
    squares); another long line the slope of its quad's top and bottom edges."""
    slopes: list[tuple[float, float]] = []
    for found in result or ():
        words = found[3] if len(found) >= 5 and found[3] else []
        if len(words) >= 6:
            slopes += _through_centres(words)
        else:
            slopes += _edges(found[0])
    if len(slopes) < MIN_LINES:
        return 0.0
    return round(weighted_median(slopes), 3)


def weighted_median(pairs: Sequence[tuple[float, float]]) -> float:
    """The value at which half the total weight of (value, weight) ``pairs`` lies below; 0.0 for none."""
    ordered = sorted(pairs)
    half, seen = sum(w for _, w in ordered) / 2, 0.0
    for value, weight in ordered:
        seen += weight
        if seen >= half:
            return value
    return 0.0


def _through_centres(words: Sequence) -> list[tuple[float, float]]:
    centres = np.array([np.asarray(w, dtype=np.float64).reshape(-1, 2).mean(axis=0) for w in words])
    dx = centres[:, 0] - centres[:, 0].mean()
    span = float(centres[:, 0].max() - centres[:, 0].min())
    if span <= 0 or not (dx * dx).sum():
        return []
    slope = float((dx * (centres[:, 1] - centres[:, 1].mean())).sum() / (dx * dx).sum())
    angle = -math.degrees(math.atan(slope))  # y runs down the page
    return [(angle, span)] if abs(angle) <= MAX_ANGLE else []


def _edges(quad: Sequence) -> list[tuple[float, float]]:
    if len(quad) != 4:
        return []
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = ((float(p[0]), float(p[1])) for p in quad)
    width, height = math.hypot(x1 - x0, y1 - y0), math.hypot(x3 - x0, y3 - y0)
    if width < 3 * max(height, 1.0):
        return []  # a short box or a vertical one: its edges say little about the page
    angle = -math.degrees(math.atan2((y1 - y0 + y2 - y3) / 2, (x1 - x0 + x2 - x3) / 2))
    return [(angle, width)] if abs(angle) <= MAX_ANGLE else []


def straightening(angle: float, width: int, height: int) -> np.ndarray:
    """The 2×3 affine matrix that turns a page skewed by ``angle`` degrees back, about its centre."""
    import cv2

    return cv2.getRotationMatrix2D((width / 2, height / 2), -angle, 1.0)


def rotate_points(points: Sequence[Sequence[float]], matrix: np.ndarray) -> list[list[float]]:
    """Points moved by an affine matrix."""
    arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    moved = arr @ matrix[:, :2].T + matrix[:, 2]
    return moved.tolist()


def rotate_image(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The image moved by the matrix, same size, the uncovered corners white."""
    import cv2

    h, w = image.shape[:2]
    fill = (255,) * (image.shape[2] if image.ndim == 3 else 1)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


def straighten(result: list, image: np.ndarray) -> tuple[list, np.ndarray, float]:
    """RapidOCR's result (line quads, text, score, word quads, words) and the page image, turned
    back by the page's skew; with the skew in degrees (0.0: left as they were)."""
    angle = skew_angle(result)
    if abs(angle) < MIN_ANGLE:
        return result, image, 0.0
    h, w = image.shape[:2]
    matrix = straightening(angle, w, h)
    turned = []
    for found in result:
        found = list(found)
        found[0] = rotate_points(found[0], matrix)
        if len(found) >= 5 and found[3]:
            found[3] = [rotate_points(word, matrix) for word in found[3]]
        turned.append(found)
    return turned, rotate_image(image, matrix), angle
