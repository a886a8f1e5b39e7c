"""Charts on a scan, and the words printed in them, are kept out of the articles' text
(rag.ingest.diagrams, issue 34 item 2), on pages rendered from the sample archive's own text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cer import cer
from PIL import Image, ImageDraw, ImageFont
from render_pages import find_font, render_text, save_png

from rag.ingest import scans
from rag.ingest.diagrams import SHADE, diagrams, words
from rag.ingest.gutters import ink
from rag.ingest.pictures import captions, pictures
from rag.ingest.reading_order import TextBox
from tests.test_pictures import _sample_text

OCR = pytest.mark.slow
EM = 23.0  # the body type of render_text at 150 dpi


def _chart_pages(columns: int):
    pages = render_text(_sample_text(), columns=columns, charts=True, seed=9)
    pages = [p for p in pages if any(ln.kind == "shape" for ln in p.lines)]
    assert len(pages) >= 2, "the sample text renders with charts on two pages"
    return pages


def _text_lines(page):
    lines = [ln for ln in page.lines if ln.text and ln.kind not in ("shape", "photo", "qr")]
    return lines, [TextBox(ln.text.replace(" ", ""), *ln.box) for ln in lines]


@pytest.mark.parametrize("columns", [2, 3])
def test_the_words_of_bar_and_pie_charts_are_told_from_the_text_round_them(columns: int) -> None:
    """Every title, value and name of a chart, and no line of the stories above and below it:
    a bar chart is drawn (flat tones standing on one axis), a pie's wedges read as a picture
    whose key is set beside it and whose title stands over it."""
    for page in _chart_pages(columns):
        image = np.asarray(page.image.convert("RGB"))
        lines, boxes = _text_lines(page)
        photos = pictures(image, EM, [b[:4] for b in (ln.box for ln in lines)])
        charts = diagrams(ink(image, SHADE), EM, [ln.box for ln in lines], photos)
        axes = [ln.box for ln in page.lines if ln.text == "line"]
        pies = {ln.box for ln in page.lines if ln.text.startswith("wedge")}
        assert len(axes) <= len(charts) <= len(axes) + len(pies)  # a pie is a picture, and with its key a chart
        assert all(any(c[0] <= a[0] + 2 and c[2] >= a[2] - 2 and abs(c[3] - a[3]) <= 3 for c in charts) for a in axes)
        found = captions(boxes, photos, image) | words(boxes, charts, ink(image, SHADE), EM)
        assert found == {i for i, ln in enumerate(lines) if ln.kind == "label"}


def test_a_page_of_text_with_rules_has_no_diagram() -> None:
    """Rules down the gutters and across a column, headlines in display type: no diagram."""
    page = render_text(_sample_text(), columns=3)[0]
    image = page.image.copy()
    ImageDraw.Draw(image).line((60, 400, 420, 400), fill=0, width=2)  # a rule between two stories
    lines, _ = _text_lines(page)
    assert diagrams(ink(np.asarray(image.convert("RGB")), SHADE), EM, [ln.box for ln in lines]) == []


def _drawn(size=(700, 600)):
    image = Image.new("L", size, 255)
    return image, ImageDraw.Draw(image), ImageFont.truetype(find_font(), 23)


def _write(draw, font, text: str, x: int, y: int) -> TextBox:
    draw.text((x, y), text, font=font, fill=0)
    return TextBox(text, x - 2, y - 2, x + 2 + font.getlength(text), y + 28)


def test_a_headline_on_a_tint_and_the_text_under_a_chart_are_no_words_of_it() -> None:
    """A chart's words stand nearer it than any other line; the body text under it runs on at
    its own line spacing, and a grey band with a headline printed on it is a tint, no diagram."""
    image, draw, font = _drawn()
    draw.rectangle((40, 40, 640, 100), fill=120)
    boxes = [_write(draw, font, "县城新建两所小学正式开学", 60, 56)]
    for k, height in enumerate((80, 140, 110)):  # a bar chart on an axis, a name under each bar
        draw.rectangle((100 + 180 * k, 330 - height, 160 + 180 * k, 330), fill=90)
        boxes.append(_write(draw, font, f"{k + 1}月", 110 + 180 * k, 338))
    draw.line((60, 330, 640, 330), fill=0, width=2)
    boxes += [_write(draw, font, f"正文第{i}行的文字内容全部都在这里", 40, 395 + 34 * i) for i in range(4)]
    pixels, em = np.asarray(image.convert("RGB")), 30.0  # the lines' height, as OCR boxes them
    charts = diagrams(ink(pixels, SHADE), em, [(b.x0, b.y0, b.x1, b.y1) for b in boxes])
    assert len(charts) == 1  # the bars on their axis
    assert words(boxes, charts, ink(pixels, SHADE), em) == {1, 2, 3}
    shaded = (30.0, 30.0, 650.0, 110.0)  # were the band taken for one, its headline is on a tint
    assert words(boxes, [shaded], ink(pixels, SHADE), em) == set()


def test_a_line_charts_thin_curve_between_its_axes_is_drawn_and_a_framed_box_of_text_is_not() -> None:
    """A line chart is a curve two pixels thick, too thin to be a solid part: between its two
    axes it is a diagram, and its values and names are its words; a frame closed round a box of
    text is no chart's axes."""
    image, draw, font = _drawn()
    draw.line((80, 60, 80, 330), fill=0, width=2)
    draw.line((80, 330, 660, 330), fill=0, width=2)
    points = [(140, 250), (300, 230), (460, 280), (600, 120)]
    draw.line(points, fill=0, width=2)
    boxes = []
    for k, (x, y) in enumerate(points):
        draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=0)
        boxes += [_write(draw, font, str(300 + 37 * k), x - 18, y - 40), _write(draw, font, f"{k + 1}月", x - 18, 338)]
    boxes += [_write(draw, font, f"正文第{i}行的文字内容全部都在这里", 40, 400 + 34 * i) for i in range(4)]
    pixels, em = np.asarray(image.convert("RGB")), 30.0
    charts = diagrams(ink(pixels, SHADE), em, [(b.x0, b.y0, b.x1, b.y1) for b in boxes])
    assert len(charts) == 1 and charts[0][0] <= 82 and charts[0][3] >= 328  # the curve with its axes
    assert words(boxes, charts, ink(pixels, SHADE), em) == set(range(8))

    image, draw, font = _drawn()
    draw.rectangle((30, 30, 670, 330), outline=0, width=2)
    boxes = [_write(draw, font, f"方框里的第{i}行文字也是正文的一部分", 50, 50 + 40 * i) for i in range(6)]
    pixels = np.asarray(image.convert("RGB"))
    assert diagrams(ink(pixels, SHADE), em, [(b.x0, b.y0, b.x1, b.y1) for b in boxes]) == []


@OCR
def test_a_scan_with_charts_keeps_their_words_out_of_the_text_and_says_so(tmp_path: Path) -> None:
    from rag.ingest.loaders import file_digest

    page = _chart_pages(3)[0]
    labels = [ln.text.replace(" ", "") for ln in page.lines if ln.kind == "label"]
    png = tmp_path / "charts.png"
    save_png(page, png)
    layout = scans.PageReader(None, workers=1).layout(png, "scan", file_digest(png)[0])
    assert cer(page.truth_text, layout.text) <= 0.02, layout.text[:300]
    kept = [line.replace(" ", "") for _, _, line in layout.kept_out]
    assert len(kept) >= len(labels) - 1 and set(kept) <= set(labels), (kept, labels)
    assert "diagram label" in {what for _, what, _ in layout.kept_out}
    assert not any(label in layout.text.replace(" ", "") for label in labels if len(label) >= 5)
