"""Photos and QR codes on a scan, and the captions and labels under or beside them, are kept
out of the articles' text (rag.ingest.pictures, issue 34 item 2), on pages rendered from the
sample archive's own text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cer import cer
from render_pages import render_text, save_png

from rag.ingest import scans
from rag.ingest.diagrams import SHADE, diagrams
from rag.ingest.gutters import ink
from rag.ingest.pictures import captions, pictures, qr_codes
from rag.ingest.reading_order import TextBox
from tests.conftest import FAKE_HASH, SAMPLE

OCR = pytest.mark.slow
WHITE = np.full((600, 600, 3), 255, np.uint8)  # boxes alone: the character pitch tells the type


def _sample_text() -> str:
    text = "\n\n".join((SAMPLE / name).read_text("utf-8") for name in ("page_01.txt", "page_02.txt"))
    return "\n\n".join(b for b in text.split("\n\n") if b.strip() and "DAILY" not in b and "│" not in b)


def _with_photos(beside: bool = False):
    pages = render_text(_sample_text(), columns=2, photos=True, captions_beside=beside)
    pages = [p for p in pages if any(ln.kind == "photo" for ln in p.lines)]
    assert pages, "the sample text renders with at least one photo"
    return pages[0]


def _with_qr_codes(qr: bool | float = True):
    pages = render_text(_sample_text(), columns=2, qr=qr, seed=3)
    pages = [p for p in pages if any(ln.kind == "qr" for ln in p.lines)]
    assert pages, "the sample text renders with at least one QR code"
    return pages[0]


def _iou(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0, w) * max(0, h)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_photos_are_found_where_they_are_printed_and_text_alone_is_no_photo() -> None:
    page = _with_photos()
    printed = [ln.box for ln in page.lines if ln.kind == "photo"]
    found = pictures(np.asarray(page.image.convert("RGB")), 23.0)
    assert len(found) == len(printed)
    assert all(max(_iou(p, f) for f in found) > 0.85 for p in printed)
    plain = render_text(_sample_text(), columns=2)[0]  # headlines in display type, body text
    assert pictures(np.asarray(plain.image.convert("RGB")), 23.0) == []


def test_qr_codes_are_found_where_they_are_printed_and_nowhere_else() -> None:
    page = _with_qr_codes()
    printed = [ln.box for ln in page.lines if ln.kind == "qr"]
    found = qr_codes(np.asarray(page.image.convert("RGB")))
    assert len(found) == len(printed)
    assert all(max(_iou(p, f) for f in found) > 0.8 for p in printed)
    assert qr_codes(np.asarray(_with_photos().image.convert("RGB"))) == []  # a photo is no QR code
    assert qr_codes(np.asarray(page.image.convert("L"))) == found  # grey pages too


def test_text_in_a_dark_corner_is_no_photo() -> None:
    """A page photographed in uneven light: a corner darkening to half the paper's brightness is
    "printed on" nearly all over, in tones that vary like a photo's, but the lines OCR reads
    clearly there are text; and it is no diagram, whose words would be kept out of the text."""
    plain = render_text(_sample_text(), columns=2)[0]
    grey = np.asarray(plain.image.convert("L")).astype(np.float32)
    grey[300:800, 40:620] *= np.linspace(0.8, 0.5, 580)
    dark = np.stack([grey.astype(np.uint8)] * 3, axis=-1)
    assert pictures(dark, 23.0)  # by its ink alone, the corner looks like a photo
    lines = [ln.box for ln in plain.lines if ln.text]
    assert pictures(dark, 23.0, lines) == []
    assert diagrams(ink(dark, SHADE), 23.0, lines) == []


def _box(text: str, y0: float, size: float = 20.0, x0: float = 40.0) -> TextBox:
    return TextBox(text, x0, y0, x0 + size * len(text), y0 + size)


def test_a_caption_is_the_short_run_under_a_photo_in_smaller_type_or_set_apart() -> None:
    photo = (40.0, 100.0, 440.0, 300.0)
    body = [_box(f"正文第{i}行的文字内容全部都在这里", 400 + 30 * i) for i in range(5)]
    small = _box("图为志愿者向居民讲解政策。", 310, size=16)
    assert captions([small, *body], [photo], WHITE) == {0}  # smaller type, right under the photo
    apart = _box("图为新建成的乡村道路一角的景色风光", 310)  # body size, set apart from the text below
    assert captions([apart, *body], [photo], WHITE) == {0}
    running = [_box(f"正文第{i}行的文字内容全部都在这里", 310 + 30 * i) for i in range(5)]
    assert captions(running, [photo], WHITE) == set()  # the story just runs on under the photo
    assert captions([small, *body], [], WHITE) == set()
    tail = TextBox("识。", 40, 338, 64, 362)  # a wrapped caption's last characters, in a taller box
    assert captions([small, tail, *body], [photo], WHITE) == {0, 1}
    close = [_box(f"正文第{i}行的文字内容全部都在这里", 336 + 30 * i, x0=40 + 40 * (i == 0)) for i in range(5)]
    assert captions([small, *close], [photo], WHITE) == {0}  # the paragraph right under it starts indented


def test_a_caption_beside_a_photo_is_the_run_level_with_its_top_or_bottom_in_smaller_type() -> None:
    photo = (40.0, 100.0, 280.0, 300.0)
    body = [_box(f"正文第{i}行的文字内容全部都在这里", 330 + 30 * i) for i in range(4)]
    top = [_box("图为志愿者向居", 102, size=16, x0=295), _box("民讲解政策。", 124, size=16, x0=295)]
    assert captions([*top, *body], [photo], WHITE) == {0, 1}
    bottom = [_box("图为新建成的乡", 256, size=16, x0=295), _box("村道路。", 278, size=16, x0=295)]
    assert captions([*bottom, *body], [photo], WHITE) == {0, 1}
    round_it = [_box(f"绕图排的正文{i}", 100 + 30 * i, x0=295) for i in range(6)]  # text set round it
    assert captions([*round_it, *body], [photo], WHITE) == set()
    assert captions([*top, *body], [photo], WHITE, [(288.0, 60.0, 900.0)]) == set()  # past a gutter
    floating = [_box("图为志愿者向居", 180, size=16, x0=295)]  # level with neither end
    assert captions([*floating, *body], [photo], WHITE) == set()


def test_a_label_in_the_body_type_beside_a_qr_code_is_set_apart_from_the_text_after_it() -> None:
    """A QR code's label may be set in the body's type: beside the code and apart from the next
    paragraph it is the label; lines that run on under the code at the line spacing are text
    set round it.  Beside a photo the same body-type run is text."""
    code = (40.0, 100.0, 130.0, 190.0)
    body = [_box(f"正文第{i}行的文字内容全部都在这里", 230 + 30 * i) for i in range(4)]
    label = [_box("扫码观看活动视频", 102, x0=145)]
    assert captions([*label, *body], [code], WHITE, codes=True) == {0}
    assert captions([*label, *body], [code], WHITE) == set()  # told by its type alone: body text
    round_it = [_box(f"绕码排的正文第{i}行", 100 + 30 * i, x0=145) for i in range(3)]
    running = [_box(f"正文第{i}行的文字内容全部都在这里", 190 + 30 * i) for i in range(4)]
    assert captions([*round_it, *running], [code], WHITE, codes=True) == set()


def test_a_headline_under_a_photo_starts_the_next_story_and_is_no_caption() -> None:
    photo = (40.0, 100.0, 440.0, 300.0)
    headline = _box("县城新建两所小学", 312, size=32)
    body = [_box(f"正文第{i}行的文字内容全部都在这里", 370 + 30 * i) for i in range(4)]
    assert captions([headline, *body], [photo], WHITE) == set()


@pytest.mark.parametrize("beside", [False, True], ids=["under", "beside"])
def test_captions_are_told_on_rendered_pages_by_their_printed_type(beside: bool) -> None:
    """On every page of the sample text with photos, the lines under (or beside) the photos are
    the captions, even where a caption's spaces make its pitch look like the body's: the printed
    characters are smaller (0.85 of the body)."""
    pages = render_text(_sample_text(), columns=3, photos=True, captions_beside=beside)
    pages = [p for p in pages if any(ln.kind == "photo" for ln in p.lines)]
    assert len(pages) >= 2
    for page in pages:
        lines = [ln for ln in page.lines if ln.kind not in ("photo",) and ln.text]
        boxes = [TextBox(ln.text.replace(" ", ""), *ln.box) for ln in lines]
        photos = [tuple(float(v) for v in ln.box) for ln in page.lines if ln.kind == "photo"]
        found = captions(boxes, photos, np.asarray(page.image.convert("RGB")))
        assert found == {i for i, ln in enumerate(lines) if ln.kind == "caption"}


def test_a_caption_whose_spaces_widen_its_pitch_is_told_by_its_printed_height() -> None:
    """``图为活动现场。 记者 林晓 摄`` in 0.85 of the body's type: OCR leaves its spaces out, so its
    pitch over eleven characters is nearly the body's; its printed characters are smaller."""
    from PIL import Image, ImageDraw, ImageFont
    from render_pages import find_font

    image = Image.new("L", (700, 500), 255)
    draw = ImageDraw.Draw(image)
    body, small = ImageFont.truetype(find_font(), 23), ImageFont.truetype(find_font(), 20)
    caption = "图为活动现场。 记者 林晓 摄"
    draw.text((40, 310), caption, font=small, fill=0)
    boxes = [TextBox(caption.replace(" ", ""), 38, 306, 42 + small.getlength(caption), 334)]
    for i in range(4):
        text = f"正文第{i}行的文字内容全部都在这里了"
        draw.text((40, 340 + 34 * i), text, font=body, fill=0)
        boxes.append(TextBox(text, 38, 336 + 34 * i, 42 + body.getlength(text), 366 + 34 * i))
    photo = (40.0, 100.0, 440.0, 300.0)
    pixels = np.asarray(image.convert("RGB"))
    assert captions(boxes, [photo], pixels) == {0}
    assert captions(boxes, [photo], WHITE) == set()  # by its boxes alone it is body text


@OCR
@pytest.mark.parametrize("beside", [False, True], ids=["under", "beside"])
def test_a_scan_with_photos_keeps_their_captions_and_texture_out_of_the_text(tmp_path: Path, beside: bool) -> None:
    from rag.ingest.loaders import file_digest

    page = _with_photos(beside)
    lines = [ln.text for ln in page.lines if ln.kind == "caption"]
    png = tmp_path / "photos.png"
    save_png(page, png)
    layout = scans.PageReader(None, workers=1).layout(png, "scan", file_digest(png)[0])
    assert not layout.notes  # a photo is no reason to warn
    assert cer(page.truth_text, layout.text) <= 0.02, layout.text[:300]
    assert sorted(c.replace(" ", "") for _, _, c in layout.kept_out) == sorted(c.replace(" ", "") for c in lines)
    assert not any(c[:6] in layout.text for c in lines)
    assert sorted((page, what) for page, what, _ in layout.kept_out) == [(1, "photo caption")] * len(lines)


@OCR
def test_ingest_lists_the_captions_it_kept_out_and_is_not_a_warning(tmp_path: Path) -> None:
    """A photo and its caption are what a page is; the report lists the captions and the exit
    status stays 0 (nothing went wrong)."""
    from typer.testing import CliRunner

    from rag.cli import app

    env = {"RAG_EMBEDDING_MODEL": FAKE_HASH, "RAG_OCR_WORKERS": "1"}
    page = _with_photos()
    save_png(page, tmp_path / "photos.png")
    args = ["ingest", str(tmp_path / "photos.png"), "--index", str(tmp_path / "i"), "--json"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    printed = [ln.text.replace(" ", "") for ln in page.lines if ln.kind == "caption"]
    assert len(report["kept_out"]) == len(printed) and not report["warnings"]
    assert all(any(c in k.replace(" ", "") for k in report["kept_out"]) for c in printed)


@OCR
@pytest.mark.parametrize("qr", [True, 1.0], ids=["smaller-type", "body-type"])
def test_the_label_beside_a_qr_code_is_kept_out_and_reported_as_one(tmp_path: Path, qr: bool | float) -> None:
    """``扫码观看 活动视频`` beside a QR code, in smaller type or the body's, is no part of the
    story around it: it is kept out of the text and the report says it was a QR code's label."""
    from rag.ingest.loaders import file_digest

    page = _with_qr_codes(qr)
    labels = [ln.text.replace(" ", "") for ln in page.lines if ln.kind == "label"]
    png = tmp_path / "qr.png"
    save_png(page, png)
    layout = scans.PageReader(None, workers=1).layout(png, "scan", file_digest(png)[0])
    assert cer(page.truth_text, layout.text) <= 0.02, layout.text[:300]
    assert sorted(line.replace(" ", "") for _, _, line in layout.kept_out) == sorted(labels)
    assert {what for _, what, _ in layout.kept_out} == {"QR code label"}
    assert not any(label[:4] in layout.text.replace(" ", "") for label in labels)
    from typer.testing import CliRunner

    from rag.cli import app

    env = {"RAG_EMBEDDING_MODEL": FAKE_HASH, "RAG_OCR_WORKERS": "1"}
    result = CliRunner().invoke(app, ["ingest", str(png), "--index", str(tmp_path / "i"), "--json"], env=env)
    assert result.exit_code == 0, result.output
    kept = json.loads(result.stdout)["kept_out"]
    assert len(kept) == len(labels) and all("page 1: QR code label 「扫" in k for k in kept), kept
