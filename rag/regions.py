"""The rectangles of a cited span on its page image.

An article read from a scan or PDF stores ``regions`` (written by ``rag.ingest.placing``): JSON
with the source file, the size of each page it is on (in the pixels its boxes use) and one row a
line, ``[page, x0, y0, x1, y1, start, end]``, ``start``/``end`` being offsets into the article's
text.  A passage or a quote maps to the lines it overlaps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class PageRegion:
    """The rectangles of a span on one page image."""

    file: str  # the source file (image, TIFF or PDF) as ingested
    page: int  # 1-based
    width: int  # the page in the pixels of ``boxes``
    height: int
    kind: str  # image | pdf
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    skew: float = 0.0  # degrees the page image is turned; ``boxes`` are of it turned straight

    def to_dict(self) -> dict:
        return {
            "page_image": {
                "file": self.file,
                "page": self.page,
                "width": self.width,
                "height": self.height,
                "kind": self.kind,
                "skew": self.skew,
            },
            "boxes": [list(b) for b in self.boxes],
        }

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        return (
            min(b[0] for b in self.boxes),
            min(b[1] for b in self.boxes),
            max(b[2] for b in self.boxes),
            max(b[3] for b in self.boxes),
        )


def region_of(regions: str, start: int, end: int) -> PageRegion | None:
    """The lines of the article text's ``[start, end)`` (``regions`` being the article's JSON)
    on the page where most of them stand."""
    if not regions:
        return None
    try:
        data = json.loads(regions)
        rows = [r for r in data["lines"] if r[5] < end and r[6] > start]
        if not rows:
            return None
        pages = [r[0] for r in rows]
        page = max(set(pages), key=pages.count)
        width, height = data["pages"][str(page)]
        boxes = [(int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows if r[0] == page]
        skew = float(data.get("skews", {}).get(str(page), 0.0))
        return PageRegion(data["file"], int(page), int(width), int(height), data.get("kind", "image"), boxes, skew)
    except (ValueError, KeyError, TypeError, IndexError):
        return None  # regions written by another version: no picture rather than a failure
