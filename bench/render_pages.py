"""Render raw OCR newspaper text as synthetic multi-column page images, with ground truth.

Lets the OCR ingest be measured without committing binaries: each ``.txt`` (blocks of lines separated by blank lines)
is laid out in 2 or 3 columns on A4 pages with the system Chinese font; every drawn line is returned with its box,
and ``truth_text`` gives the page's text in reading order. ``save_pdf(..., text_layer=True)`` uses reportlab (a test
dependency) to write born-digital pages whose text pypdfium2 can extract; everything else needs only Pillow.

    python bench/render_pages.py [SEEDS_DIR] --out DIR [--dpi 150] [--seed 7] [--rotate 2] [--degrade]
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import random
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from page_diagrams import CHART_P, KINDS, place_chart
from page_photos import CAPTIONS, DRAWN_KINDS, PHOTO_P, QR_LABELS, QR_P, draw_picture, place_photo, place_qr
from PIL import Image, ImageDraw, ImageFont

from rag.ingest.cleaning import clean_line, furniture_kind

DEFAULT_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
SENTENCE_END = tuple("。！？”」…")
NO_LINE_START = set("，。、；：！？）」』”’》〉】…,.;:!?)%")
NO_LINE_END = set("（「『“‘《〈【(")
VERTICAL_P = 0.15
ASCII_WORD = re.compile(r"[A-Za-z0-9]{2}")
PICTURE_KINDS = ("photo", "caption", "qr", "label", "shape")  # not in the truth text, nor in a born-digital PDF
BASELINE = 0.88  # baseline position inside the em box (CJK ideographic convention)


@dataclass
class Line:
    text: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels; y0/y1 bound the em box
    kind: str  # heading | body | vertical | photo, qr, shape (drawn) | caption, label (not in the truth text)
    block: int


@dataclass
class RenderedPage:
    image: Image.Image
    lines: list[Line]
    truth_text: str
    columns: int


def find_font(font_path: str | None = None) -> str:
    """The given font, else the WenQuanYi default, else the first Chinese TrueType font `fc-list` knows."""
    if font_path:
        return font_path
    if Path(DEFAULT_FONT).is_file():
        return DEFAULT_FONT
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False).stdout
        files = {p.strip().rstrip(":") for p in out.splitlines() if p.strip()}
        for f in sorted(files, key=lambda f: (not f.lower().endswith((".ttc", ".ttf")), f)):  # reportlab: no CFF
            if Path(f).is_file():
                return f
    raise FileNotFoundError(f"no Chinese font: install fonts-wqy-microhei ({DEFAULT_FONT}) or pass font_path")


def _squash(m: re.Match[str]) -> str:
    a, b = m.string[m.start() - 1 : m.start()], m.string[m.end() : m.end() + 1]
    return " " if ASCII_WORD.fullmatch(a + b) else ""


OPENING = re.compile(r"^\s*(?:本报讯|本报\S{0,6}电|(?:新华社|中新社)\S{1,12}电|[（(]上接)")


def read_blocks(text: str) -> list[tuple[str, bool]]:
    """Blocks (runs of non-blank lines) as (paragraph, is_heading); whitespace kept only between ASCII words.
    A line that opens an article (本报讯 …) starts a block of its own: the lines above it are its headline; page
    furniture (paper name, page line, editors) is printed a line a block, as mastheads are."""
    blocks = []
    for raw in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = [ln for ln in raw.split("\n") if ln.strip()]
        furniture = any(furniture_kind(clean_line(ln)) for ln in lines)
        cut = [i for i, ln in enumerate(lines) if i and (furniture or OPENING.match(ln))]
        for part in (lines[a:b] for a, b in zip([0, *cut], [*cut, len(lines)])):
            para = re.sub(r"\s+", _squash, "\n".join(part).strip())
            if para:
                short = len(part) <= 2 and len(para) <= 30 and not para.endswith(SENTENCE_END)
                blocks.append((para, short and not furniture and not re.search("[，；：。]", para)))
    return blocks


class _Layout:
    """Flows blocks into columns and pages, producing positioned Lines (no drawing)."""

    def __init__(
        self, columns: int, dpi: int, font_path: str, rng: random.Random, vertical: bool, gutter, photos, beside
    ):
        k = dpi / 150
        self.width, self.height = round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)
        self.margin, self.gap = round(60 * k), round((gutter * 23 if gutter else 36) * k)
        self.col_w = (self.width - 2 * self.margin - (columns - 1) * self.gap) // columns
        self.body, self.head = round(23 * k), round(23 * k * 1.4)
        self.font_path, self.rng, self.vertical, self.columns = font_path, rng, vertical, columns
        self.photos: random.Random | None = photos  # where photos go, when they are drawn
        self.beside = beside  # captions set beside their photos, not under them
        self.qr: random.Random | None = None  # where QR codes go, when they are drawn
        self.qr_type = 0.85  # their labels' type, a share of the body's
        self.charts: random.Random | None = None  # where charts go, when they are drawn
        self.chart_kinds = KINDS  # of which kinds
        self.dpi = dpi
        self.pages: list[list[Line]] = []
        self.lines: list[Line] = []
        self.col, self.y, self.narrow_until, self.narrow_by = 0, self.margin, 0, 0
        self._widths: dict[tuple[int, str], float] = {}

    def col_x(self, col: int) -> int:
        return self.margin + col * (self.col_w + self.gap)

    def next_column(self) -> None:
        self.col, self.y, self.narrow_until = self.col + 1, self.margin, 0
        if self.col == self.columns:
            self.pages.append(self.lines)
            self.lines, self.col = [], 0

    def fit(self, text: str, i: int, room: float, size: int) -> int:
        """End index of the longest run text[i:j] that fits in `room` px, with simple kinsoku."""
        j, used = i, 0.0
        while j < len(text):
            key = (size, text[j])
            if key not in self._widths:
                self._widths[key] = _font(self.font_path, size).getlength(text[j])
            if used + self._widths[key] > room and j > i:
                break
            used += self._widths[key]
            j += 1
        for _ in range(2):  # don't start a line with closing punctuation or end it with an opening one
            if i + 1 < j < len(text) and (text[j] in NO_LINE_START or text[j - 1] in NO_LINE_END):
                j -= 1
        return j

    def emit(
        self, text: str, size: int, kind: str, block: int, indent: int = 0, at: tuple[int, int] | None = None
    ) -> None:
        """Set ``text`` line by line down the column (or at ``at``: x and width, in the column)."""
        i, pitch = 0, round(size * 1.5)
        while i < len(text):
            if self.y + size > self.height - self.margin:
                self.next_column()
            x0, room = at or (self.col_x(self.col), self.col_w)
            if self.y < self.narrow_until and not at:
                x0, room = x0 + self.narrow_by, room - self.narrow_by
            x0, room = x0 + indent, room - indent
            j = self.fit(text, i, room, size)
            seg = text[i:j].rstrip()
            x1 = x0 + round(_font(self.font_path, size).getlength(seg))
            self.lines.append(Line(seg, (x0, self.y, x1, self.y + size), kind, block))
            self.y += pitch
            i, indent = j + (j < len(text) and text[j] == " "), 0

    def add(self, block: int, text: str, heading: bool, has_next: bool) -> None:
        bottom = self.height - self.margin
        if not heading:
            self.emit(text, self.body, "body", block, indent=2 * self.body)
            if self.photos and self.photos.random() < PHOTO_P:
                place_photo(self, self.photos.choice(CAPTIONS), self.beside, Line, self.photos)
            if self.qr and self.qr.random() < QR_P:
                place_qr(self, self.qr.choice(QR_LABELS), Line, self.dpi, self.qr_type)
            if self.charts and self.charts.random() < CHART_P:
                place_chart(self, Line, self.charts, self.font_path, self.chart_kinds)
            return
        if self.y > self.margin:
            self.y += round(self.body * 0.6)
        upright = self.vertical and self.rng.random() < VERTICAL_P
        if upright and has_next and re.fullmatch(r"[\u4e00-\u9fff]{2,12}", text) and self.y >= self.narrow_until:
            tall = len(text) * round(self.head * 1.1)
            if self.y + tall > bottom:
                self.next_column()
            x0 = self.col_x(self.col)
            self.lines.append(Line(text, (x0, self.y, x0 + self.head, self.y + tall), "vertical", block))
            self.narrow_until, self.narrow_by = self.y + tall, self.head + round(self.body * 0.8)
            return
        if self.y + round(self.head * 1.5) + self.body > bottom:  # keep the heading with what follows
            self.next_column()
        self.emit(text, self.head, "heading", block)
        self.y += round(self.body * 0.3)

    def run(self, blocks: list[tuple[str, bool]]) -> list[list[Line]]:
        for b, (text, heading) in enumerate(blocks):
            self.add(b, text, heading, b + 1 < len(blocks))
        if self.lines:
            self.pages.append(self.lines)
        return self.pages


@functools.cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=0)


def _glyphs(line: Line):
    """(x, baseline, text, size) runs to draw for a Line, in pixels."""
    x0, y0, x1, y1 = line.box
    if line.kind != "vertical":
        yield x0, y0 + round((y1 - y0) * BASELINE), line.text, y1 - y0
        return
    size, pitch = x1 - x0, (y1 - y0) // len(line.text)
    for k, ch in enumerate(line.text):
        yield x0, y0 + k * pitch + round(size * BASELINE), ch, size


def _truth(lines: list[Line]) -> str:
    blocks: list[list[str]] = []
    last = None
    for ln in lines:
        if ln.kind in PICTURE_KINDS:
            continue
        if ln.block != last:
            blocks.append([])
            last = ln.block
        blocks[-1].append(ln.text)
    return "\n\n".join("".join(b) for b in blocks)


def _rules(lay: _Layout) -> list[tuple[int, int, int, int]]:
    xs = [lay.col_x(c) - lay.gap // 2 for c in range(1, lay.columns)]
    return [(x, lay.margin, x, lay.height - lay.margin) for x in xs]


def render_text(
    text: str,
    columns: int = 2,
    *,
    dpi: int = 150,
    seed: int = 7,
    vertical: bool = False,
    font_path: str | None = None,
    gutter: float = 0.0,
    rules: bool = True,
    photos: bool = False,
    captions_beside: bool = False,
    qr: bool | float = False,
    charts: bool | tuple[str, ...] = False,
) -> list[RenderedPage]:
    """Lay `text` out in `columns` columns on as many pages as it needs; deterministic for a given seed.
    ``gutter``: the space between columns in body characters (default 36 px at 150 dpi, about 1.6);
    ``rules``: a grey line printed down each gutter; ``photos``: now and then a photo after a
    paragraph, with a caption under it, or beside it with ``captions_beside`` (in the lines, not in
    ``truth_text``; bench/page_photos.py); ``qr``: now and then a QR code with its label beside it
    (in 0.85 of the body's type, or in the share ``qr`` says);
    ``charts``: now and then a bar or pie chart (or the kinds named) with its words (page_diagrams)."""
    if columns not in (2, 3):
        raise ValueError("columns must be 2 or 3")
    blocks = read_blocks(text)
    if not blocks:
        raise ValueError("no text to render")
    path = find_font(font_path)
    where = random.Random(seed + 1) if photos else None
    lay = _Layout(columns, dpi, path, random.Random(seed), vertical, gutter, where, captions_beside)
    lay.qr, lay.charts = (random.Random(seed + 2) if qr else None), (random.Random(seed + 3) if charts else None)
    lay.qr_type = qr if isinstance(qr, float) else lay.qr_type
    lay.chart_kinds = charts if isinstance(charts, tuple) else KINDS
    out = []
    for lines in lay.run(blocks):
        img = Image.new("L", (lay.width, lay.height), 255)
        draw = ImageDraw.Draw(img)
        for rule in _rules(lay) if rules else []:
            draw.line(rule, fill=150, width=1)
        for ln in lines:
            if ln.kind in DRAWN_KINDS:
                draw_picture(img, draw, ln.kind, ln.text, ln.box, seed, dpi)
                continue
            for x, base, s, size in _glyphs(ln):
                if ln.kind == "vertical":
                    x += (size - _font(path, size).getlength(s)) / 2
                draw.text((x, base), s, font=_font(path, size), fill=0, anchor="ls")
        img.info.update(dpi=(dpi, dpi), font_path=path, rules=_rules(lay) if rules else [])
        out.append(RenderedPage(img, lines, _truth(lines), columns))
    return out


def _dpi(page: RenderedPage) -> int:
    return round(page.image.info.get("dpi", (150, 150))[0])


def save_tiff(pages: list[RenderedPage], path: str | Path) -> None:
    """Multi-page 8-bit grayscale TIFF, deflate-compressed, byte-reproducible."""
    first, *rest = [p.image for p in pages]
    buf = io.BytesIO()
    dpi = (_dpi(pages[0]),) * 2
    first.save(buf, format="TIFF", save_all=True, append_images=rest, compression="tiff_deflate", dpi=dpi)
    data = bytearray(buf.getvalue())
    with Image.open(io.BytesIO(bytes(data))) as tif:  # libtiff leaves the word-alignment byte after a strip unset
        for frame in range(tif.n_frames):
            tif.seek(frame)
            starts = set(tif.tag_v2[273])
            for end in (o + n for o, n in zip(tif.tag_v2[273], tif.tag_v2[279])):
                if end % 2 and end not in starts and end < len(data):
                    data[end] = 0
    Path(path).write_bytes(data)


def save_png(page: RenderedPage, path: str | Path) -> None:
    page.image.save(path, dpi=(_dpi(page),) * 2)


def save_pdf(pages: list[RenderedPage], path: str | Path, text_layer: bool) -> None:
    """Image-only PDF (a scan), or with `text_layer` a born-digital PDF drawing each Line as real text (reportlab)."""
    if not text_layer:
        first, *rest = [p.image for p in pages]
        first.save(path, save_all=True, append_images=rest, resolution=_dpi(pages[0]), creationDate=None, modDate=None)
        return
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    font_file = pages[0].image.info.get("font_path") or find_font()
    name = f"CJK-{Path(font_file).stem}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, font_file, subfontIndex=0))
    w, h = pages[0].image.size
    k = 72 / _dpi(pages[0])
    pdf = canvas.Canvas(str(path), pagesize=(w * k, h * k), invariant=1)
    for page in pages:
        pdf.setStrokeGray(150 / 255)
        pdf.setLineWidth(k)
        for x0, y0, x1, y1 in page.image.info.get("rules", []):
            pdf.line(x0 * k, (h - y0) * k, x1 * k, (h - y1) * k)
        for ln in page.lines:
            if ln.kind in PICTURE_KINDS:  # a born-digital page is drawn without its photos
                continue
            for x, base, s, size in _glyphs(ln):
                if ln.kind == "vertical":
                    x += (size - pdfmetrics.stringWidth(s, name, size)) / 2
                pdf.setFont(name, size * k)
                pdf.drawString(x * k, (h - base) * k, s)
        pdf.showPage()
    pdf.save()


def main(argv: list[str] | None = None) -> None:
    default_seeds = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "seeds"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds", nargs="?", type=Path, default=default_seeds.resolve())
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--dpi", type=int, default=150)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rotate", type=float, default=0.0, help="turn every page up to ± this many degrees (seeded)")
    ap.add_argument("--gutter", type=float, default=0.0, help="space between columns, in body characters")
    ap.add_argument("--no-rules", action="store_true", help="no line printed down the gutters")
    ap.add_argument("--photos", action="store_true", help="now and then a photo with a caption under it")
    ap.add_argument("--captions-beside", action="store_true", help="with --photos: captions beside the photos")
    ap.add_argument("--qr", action="store_true", help="now and then a QR code with a label beside it")
    ap.add_argument("--qr-body-type", action="store_true", help="with --qr: the labels in the body's type")
    ap.add_argument("--charts", action="store_true", help="now and then a bar or pie chart with its words")
    ap.add_argument("--line-charts", action="store_true", help="line charts instead (with --charts: all three)")
    ap.add_argument("--degrade", action="store_true", help="also blur, warp, grey paper, noise and JPEG 40")
    args = ap.parse_args(argv)
    from scanner import scanned, turned

    turns = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    report = []
    for n, src in enumerate(sorted(args.seeds.glob("*.txt"))):
        cols = 2 if n % 2 == 0 else 3
        text = src.read_text(encoding="utf-8")
        pages = render_text(
            text,
            cols,
            dpi=args.dpi,
            seed=args.seed,
            vertical=cols == 3,
            gutter=args.gutter,
            rules=not args.no_rules,
            photos=args.photos,
            captions_beside=args.captions_beside,
            qr=1.0 if args.qr and args.qr_body_type else args.qr,
            charts=(*KINDS * args.charts, *("line",) * args.line_charts) if args.line_charts else args.charts,
        )
        angles = [round(turns.uniform(-args.rotate, args.rotate), 2) if args.rotate else 0.0 for _ in pages]
        pages = [turned(p, a) if a else p for p, a in zip(pages, angles)]
        if args.degrade:
            pages = [scanned(p, turns, degrees=0) for p in pages]
        truth = "\n\n".join(p.truth_text for p in pages)
        written = [args.out / f"{src.stem}.c{cols}.tif", args.out / f"{src.stem}.truth.txt"]
        save_tiff(pages, written[0])
        written[1].write_text(truth, encoding="utf-8")
        if n < 2:
            written.append(args.out / f"{src.stem}.{'text' if n else 'scan'}.pdf")
            save_pdf(pages, written[-1], text_layer=n == 1)
        chars = len(re.sub(r"\s+", "", truth))
        report.append({"source": src.name, "columns": cols, "pages": len(pages), "chars": chars, "turned": angles})
        report[-1]["captions"] = sum(ln.kind in ("caption", "label") for p in pages for ln in p.lines)
        report[-1]["files"] = [str(p) for p in written]
    print(json.dumps({"out": str(args.out), "files": report}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
