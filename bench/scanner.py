"""Pages as scanners give them: a rendered page (bench/render_pages.py) turned, warped, blurred,
on grey noisy paper, saved as a rough JPEG — seeded, so a bench or a test gets the same page again."""

from __future__ import annotations

import io
import random

from PIL import Image
from render_pages import RenderedPage


def turned(page: RenderedPage, degrees: float) -> RenderedPage:
    """The page as a scanner with a crooked sheet gives it: turned ``degrees`` counter-clockwise
    about its centre (white where the sheet does not reach); the text it holds is the same."""
    img = page.image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    img.info.update(page.image.info)
    return RenderedPage(img, page.lines, page.truth_text, page.columns)


def scanned(page: RenderedPage, rng: random.Random, degrees: float = 2.0, jpeg: int = 40) -> RenderedPage:
    """The page as a cheap scanner or a phone gives it (issue 34 item 5), all drawn from ``rng``:
    turned up to ± ``degrees``, a slight perspective warp (each corner moved up to 0.6 % of the
    page), blurred (radius 0.6–1.0 px), on grey paper (210–235) with pixel noise (σ 10), saved
    as a JPEG of quality ``jpeg``.  The text it holds is the same."""
    import numpy as np
    from PIL import ImageFilter

    img = page.image
    if degrees:
        img = img.rotate(rng.uniform(-degrees, degrees), resample=Image.Resampling.BICUBIC, fillcolor=255)
    w, h = img.size
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    moved = [(x + rng.uniform(-1, 1) * 0.006 * w, y + rng.uniform(-1, 1) * 0.006 * h) for x, y in corners]
    img = img.transform(img.size, Image.Transform.PERSPECTIVE, _perspective(corners, moved), Image.Resampling.BICUBIC)
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.0)))
    paper = rng.uniform(210, 235)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 10, (h, w))
    pixels = np.asarray(img, dtype=np.float32) / 255 * paper + noise
    img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=jpeg)
    img = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    img.info.update(page.image.info)
    return RenderedPage(img, page.lines, page.truth_text, page.columns)


def _perspective(target: list[tuple[float, float]], source: list[tuple[float, float]]) -> list[float]:
    """PIL's 8 coefficients mapping each output corner in ``target`` to the input point in ``source``."""
    import numpy as np

    rows, rhs = [], []
    for (x, y), (u, v) in zip(target, source):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(rows), np.array(rhs))]
