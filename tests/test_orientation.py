"""Whole-page orientation by the words a page reads as (issue 34): a vertical page whose
characters the detector joined across its columns is turned a quarter; a page of modern prose
is never read a second time."""

from __future__ import annotations

import numpy as np

from rag.ingest.orientation import quarter_turns
from rag.text.tokenize import dictionary_share

POEM = "自由花已巴黎植专制魔难诈命延史臣先记女权篇一首诗乃是亚洲大陆的一个大豪杰所作才冠古今且有一种"
PROSE = "柳溪县首届乡村年货节在城南广场开幕，开幕第一天全县农特产品销售额达到一百八十六万元。"
COLUMNS = [(POEM + PROSE)[i : i + 8] for i in range(0, len(POEM + PROSE), 8)]  # printed top to bottom


def _across(columns: list[str]) -> list[str]:
    """The columns' characters read row by row across them, as a detector joining a tight grid gives them."""
    return ["".join(col[i] for col in columns if i < len(col)) for i in range(max(map(len, columns)))]


def _wide(texts: list[str]) -> list:
    """RapidOCR-like lines: one wide box a text, one under another."""
    return [
        [[[10, 40 * i], [10 + 24 * len(t), 40 * i], [10 + 24 * len(t), 40 * i + 24], [10, 40 * i + 24]], t, 0.9]
        for i, t in enumerate(texts)
    ]


def test_the_dictionary_share_tells_prose_from_columns_read_across() -> None:
    assert dictionary_share(PROSE) > 0.7
    assert dictionary_share("".join(_across(COLUMNS))) < dictionary_share("".join(COLUMNS)) - 0.3
    assert dictionary_share("2026 A-03") == 0.0


def test_a_page_whose_lines_read_as_no_words_is_turned_when_turned_it_reads_as_words() -> None:
    image = np.full((400, 600, 3), 255, dtype=np.uint8)
    pages: list[tuple[int, ...]] = []

    def read_page(turned: np.ndarray) -> list[str]:
        pages.append(turned.shape[:2])
        return COLUMNS

    unused = lambda *_: ("", 0.0)  # noqa: E731
    never_flipped = lambda crops: [("0", 0.99)] * len(crops)  # noqa: E731
    assert quarter_turns(unused, never_flipped, image, _wide(_across(COLUMNS)), read_page) == 1
    assert pages == [(600, 400)]  # the page turned a quarter, read once
    assert quarter_turns(unused, never_flipped, image, _wide(_across(COLUMNS)), lambda _: _across(COLUMNS)) == 0
    assert quarter_turns(unused, never_flipped, image, _wide([PROSE] * 4), read_page) == 0
    assert len(pages) == 1  # modern prose: no second reading
