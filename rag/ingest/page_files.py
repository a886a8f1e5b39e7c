"""Page files other than text: e-paper HTML articles, and scans and PDFs read through one page
reader that reads the pages of the files coming next while the current one is stored."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from rag.ingest.loaders import InputFile, LoadError
from rag.ingest.reading_order import PageLayout
from rag.models import Article


def html_article(item: InputFile) -> Article:
    """An e-paper article page as one article (a sidecar's paper, date, page win)."""
    from rag.ingest.html_page import read_html

    page = read_html(item.path)
    text = "\n".join(x for x in (page.subtitle, page.text) if x)
    return Article(
        doc_id=f"{item.name}#1",
        source=item.name,
        text=text,
        headline=page.headline,
        paper=item.meta.get("paper") or page.paper,
        date=item.meta.get("date") or page.date,
        page=item.meta.get("page") or page.page,
        section=item.meta.get("section", ""),
        byline=page.byline,
        start=0,
        end=len(text),
    )


class PagesAhead:
    """The scans and PDFs of a run through one page reader: the pages of files coming next
    (those not already in the index unchanged) are read while the current one is stored."""

    def __init__(
        self,
        inputs: Sequence[InputFile],
        cache: Path | None,
        workers: int,
        needs_reading: Callable[[InputFile], bool],
        on_page: Callable[[str], None],
    ) -> None:
        """``needs_reading(item)``: False for a file the index holds unchanged; ``on_page(name)``
        after each page read."""
        from rag.ingest.scans import PageReader, page_count

        self.needs_reading, self.on_page = needs_reading, on_page
        self.total_pages = 0  # of the scans and PDFs given (for progress)
        for item in inputs:
            if item.kind in ("scan", "pdf"):
                with contextlib.suppress(LoadError):  # reported when its turn comes
                    self.total_pages += page_count(item.path, item.kind)
        self.reader = PageReader(cache, workers, on_page=lambda how: self.on_page(self._name))
        self._name = ""

    def layout(self, item: InputFile, upcoming: Sequence[InputFile]) -> PageLayout:
        self._name = item.name
        return self.reader.layout(item.path, item.kind, item.sha256, self._ahead(upcoming))

    def _ahead(self, upcoming: Sequence[InputFile]) -> Iterator[tuple[Path, str, str]]:
        for item in upcoming:
            if item.kind not in ("scan", "pdf"):
                continue
            try:
                if self.needs_reading(item):
                    yield item.path, item.kind, item.sha256
            except LoadError:
                continue

    def close(self) -> None:
        self.reader.close()
