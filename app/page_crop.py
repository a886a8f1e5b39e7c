"""The cited region of a page scan: a crop around the quoted lines with the lines highlighted,
and the whole page as a JPEG the browser can open (TIFF and PDF pages are converted once into
``<index>/page-images``, which the server is allowed to serve)."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import threading
from functools import lru_cache
from pathlib import Path

from rag.regions import PageRegion

CROP_WIDTH = 640  # pixels of the crop image sent (it is shown at the card's width)
PAGE_WIDTH = 1600  # pixels of the whole-page JPEG
MARGIN_LINES = 2.0  # lines of context above and below the quoted lines
_lock = threading.Lock()


@lru_cache(maxsize=8)
def _page(file: str, kind: str, page: int, width: int, height: int, skew: float = 0.0):
    """The page as an RGB image in the pixels its boxes use — a scan turned upright and straight
    as its OCR boxes were (rag.ingest.orientation, rag.ingest.deskew) — or None when the file is gone."""
    from PIL import Image

    quarter = round(skew / 90)
    if quarter % 2:  # read on its side: the file's page is the other way round
        width, height = height, width

    path = Path(file)
    if not path.is_file():
        return None
    try:
        if kind == "pdf":
            import pypdfium2 as pdfium

            with _lock:  # pdfium is not thread-safe
                doc = pdfium.PdfDocument(str(path))
                try:
                    pg = doc[page - 1]
                    w_pt, _ = pg.get_size()
                    image = pg.render(scale=width / w_pt).to_pil().convert("RGB")
                finally:
                    doc.close()
        else:
            with Image.open(path) as im:
                im.seek(page - 1)
                image = im.convert("RGB")
    except Exception:  # noqa: BLE001 - a damaged or replaced file: no picture, never a failed answer
        return None
    if image.size != (width, height):
        image = image.resize((width, height))
    if quarter % 4:
        image = image.rotate(-90 * quarter, expand=True)  # exact for quarter turns
    if skew - 90 * quarter:
        turn = -(skew - 90 * quarter)
        image = image.rotate(turn, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=(255, 255, 255))
    return image


def whole_page(region: PageRegion, folder: Path) -> Path | None:
    """The page as a JPEG under ``folder`` (written once), for the “整版” link."""
    key = f"{region.file}:{region.page}:{region.width}" + (f":{region.skew}" if region.skew else "")
    name = hashlib.sha1(key.encode()).hexdigest()[:20] + ".jpg"
    target = folder / name
    if target.is_file():
        return target
    image = _page(region.file, region.kind, region.page, region.width, region.height, region.skew)
    if image is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    scale = min(1.0, PAGE_WIDTH / image.width)
    shown = image.resize((round(image.width * scale), round(image.height * scale))) if scale < 1 else image
    tmp = target.with_suffix(".tmp")
    shown.save(tmp, "JPEG", quality=82)
    tmp.replace(target)
    return target


def crop_html(region: PageRegion, page_link: str = "") -> str:
    """A figure: the crop around ``region``'s lines as an inline JPEG, each line highlighted by
    a box placed in percent of the crop, and a link to the whole page ("" when the page image
    cannot be read)."""
    image = _page(region.file, region.kind, region.page, region.width, region.height, region.skew)
    if image is None or not region.boxes:
        return ""
    x0, y0, x1, y1 = region.bounds
    line = max(8, min(b[3] - b[1] for b in region.boxes))
    left, right = max(0, x0 - line), min(image.width, x1 + line)
    top, bottom = max(0, y0 - round(MARGIN_LINES * line)), min(image.height, y1 + round(MARGIN_LINES * line))
    crop = image.crop((left, top, right, bottom))
    scale = min(1.0, CROP_WIDTH / crop.width)
    if scale < 1:
        crop = crop.resize((round(crop.width * scale), round(crop.height * scale)))
    buf = io.BytesIO()
    crop.save(buf, "JPEG", quality=80)
    src = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    w, h = right - left, bottom - top
    marks = "".join(
        f'<div class="crop-mark" style="left:{100 * (b[0] - left) / w:.2f}%;top:{100 * (b[1] - top) / h:.2f}%;'
        f'width:{100 * (b[2] - b[0]) / w:.2f}%;height:{100 * (b[3] - b[1]) / h:.2f}%"></div>'
        for b in region.boxes
    )
    link = ""
    if page_link:
        href = html.escape(page_link)
        link = f'<a class="page-link" href="{href}" target="_blank" rel="noopener">查看整版（第{region.page}页）</a>'

    return (
        f'<figure class="page-crop"><div class="crop-frame">'
        f'<img class="crop-image" src="{src}" alt="原版面：引文所在位置">{marks}</div>'
        f"<figcaption>原版面 · {html.escape(Path(region.file).name)} 第{region.page}页 {link}</figcaption></figure>"
    )


CSS = """
.page-crop {margin:6px 0 8px;}
.crop-frame {position:relative; display:inline-block; max-width:100%; line-height:0; border:1px solid #ccc;}
.crop-image {max-width:100%; height:auto; display:block;}
.crop-mark {position:absolute; background:rgba(255,214,0,.35); outline:2px solid #e6a700; pointer-events:none;}
.page-crop figcaption {color:#666; font-size:.85em; margin-top:2px;}
"""
