"""Where each article segmented from a scan or PDF stands on its pages: the ``regions`` JSON
(read back by ``rag.regions``)."""

from __future__ import annotations

import json

from rag.ingest.cleaning import normalize_width
from rag.ingest.reading_order import PageLayout
from rag.models import Article

SLACK = 60  # characters a line may be found past the last one (text the segmenter dropped)


def _folded(text: str) -> tuple[str, list[int]]:
    """``text`` without whitespace (widths normalised), and each kept character's offset."""
    chars, where = [], []
    for i, c in enumerate(normalize_width(text)):
        if not c.isspace():
            chars.append(c)
            where.append(i)
    return "".join(chars), where


def article_regions(article: Article, layout: PageLayout, file: str, kind: str) -> str:
    """The ``regions`` JSON of an article segmented from ``layout`` (a PageLayout): each page
    line of the article's span found, in order, in its text ("" when none is)."""
    body, where = _folded(article.text)
    rows: list[list[int]] = []
    cursor = 0
    for line in layout.lines:
        if line.end <= article.start or line.start >= article.end:
            continue
        piece, _ = _folded(layout.text[line.start : line.end])
        if not piece:
            continue
        at = body.find(piece, cursor, cursor + len(piece) + SLACK)
        if at < 0:
            continue
        rows.append([line.page, *line.box, where[at], where[at + len(piece) - 1] + 1])
        cursor = at + len(piece)
    if not rows:
        return ""
    sizes = {p.number: [p.width, p.height] for p in layout.pages}
    pages = {str(n): sizes[n] for n in sorted({r[0] for r in rows})}
    data: dict = {"file": file, "kind": kind, "pages": pages, "lines": rows}
    skews = {str(p.number): p.skew for p in layout.pages if p.skew and str(p.number) in pages}
    if skews:  # the boxes are of these pages turned straight (rag.ingest.deskew)
        data["skews"] = skews
    return json.dumps(data, separators=(",", ":"))
