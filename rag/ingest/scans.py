"""Page scans (PNG, JPEG, TIFF) and PDFs → text boxes per page → a ``PageLayout``.

A page is read in a worker: an image page is OCR'd; a PDF page gives its text layer when it has
one, else it is rendered at ``PDF_DPI`` and OCR'd.  Coordinates are page pixels: the image's
own, or the PDF page at ``PDF_DPI``, so a citation's boxes and the page shown line up.  Limits
stop decompression bombs: ``MAX_PIXELS`` a page, ``MAX_PAGES`` a file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rag.ingest import ocr
from rag.ingest.gutters import gutters_between
from rag.ingest.loaders import LoadError, os_reason_zh
from rag.ingest.page_notes import page_notes
from rag.ingest.reading_order import PageLayout, TextBox, order_page

MAX_PIXELS = 80_000_000  # a broadsheet page scanned at 400 dpi is ~45 megapixels
MAX_PAGES = 300  # a file; a daily's issue is 4–64 pages
# the resolution a PDF page without text is rendered at for OCR (bench/ocr_quality.py --pdf-dpi)
PDF_DPI = int(os.environ.get("RAG_PDF_DPI", "150"))
# of the cached boxes: raise it when reading a page changes (2: straightened; 3: upright, gutters; 4: strips, captions;
# 5: no strips beside a vertical headline, captions beside photos; 6: QR code labels, kept_out; 7: diagram words,
# titles over pictures, flat tones no photo; 8: line charts, every line kept, no angle classifier line by line, a
# vertical page read across its columns turned, lines on end on a turned page read turned back)
CACHE_VERSION = "8"
MIN_TEXT_LAYER = 20  # characters a PDF page needs in its text layer to be read without OCR


@dataclass
class PageBoxes:
    """One page as read: its size in pixels, its text boxes and how they were obtained."""

    width: int
    height: int
    boxes: list[TextBox]
    how: str  # ocr | text-layer
    skew: float = 0.0  # degrees the scan was turned (counter-clockwise); its boxes are of the page turned straight
    gutters: list[float] = field(default_factory=list)  # x of the narrow gutters between columns (rag.ingest.gutters)
    kept_out: list[tuple[str, str]] = field(default_factory=list)  # (what, line): captions, QR labels, chart words


class OcrCache:
    """Each page's boxes as a small JSON file under ``folder``, keyed by the file's sha256, the
    page and the settings: a killed or repeated ingest reads pages already OCR'd from here."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path | None:
        return None if self.folder is None else self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> PageBoxes | None:
        path = self._path(f"{key}-{CACHE_VERSION}")
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text("utf-8"))
            boxes = [TextBox(**b) for b in data["boxes"]]
            gutters = [float(x) for x in data.get("gutters", [])]
            kept_out = [(str(what), str(line)) for what, line in data.get("kept_out", [])]
            skew = float(data.get("skew", 0.0))
            return PageBoxes(data["width"], data["height"], boxes, data["how"], skew, gutters, kept_out)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def put(self, key: str, page: PageBoxes) -> None:
        path = self._path(f"{key}-{CACHE_VERSION}")
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(asdict(page), ensure_ascii=False), "utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def page_count(path: Path, kind: str) -> int:
    """Pages in a scan or PDF; LoadError for a damaged, encrypted or oversized file."""
    if kind == "pdf":
        with _pdf(path) as doc:
            n = len(doc)
    else:
        with _image(path) as im:
            n = getattr(im, "n_frames", 1)
    if n > MAX_PAGES:
        raise LoadError(
            f"{n} pages, the limit is {MAX_PAGES} a file: split it",
            zh=f"共 {n} 页，超过每个文件 {MAX_PAGES} 页的上限：请拆分",
        )
    if n == 0:
        raise LoadError("no pages", zh="文件里没有页面")
    return n


def read_page(path: Path, kind: str, number: int, cache_key: str = "", cache: OcrCache | None = None) -> PageBoxes:
    """Page ``number`` (1-based) of a scan or PDF as text boxes, from ``cache`` when known."""
    key = f"{cache_key}-{number}-{PDF_DPI if kind == 'pdf' else 0}" if cache_key else ""
    if key and cache is not None and (hit := cache.get(key)) is not None:
        return hit
    if kind == "pdf":
        page = _pdf_page(path, number)
    else:
        page = _ocr(_image_page(path, number))
    if key and cache is not None:
        cache.put(key, page)
    return page


def _ocr(image: np.ndarray) -> PageBoxes:
    boxes, skew, gutters, kept_out = ocr.read_image(image, threads=_threads())
    height, width = image.shape[:2]
    if round(skew / 90) % 2:  # read on its side: the upright page is the other way round
        width, height = height, width
    return PageBoxes(width, height, boxes, "ocr", skew, gutters, kept_out)


def _threads() -> int:
    return int(os.environ.get("RAG_OCR_THREADS", "0"))


class _pdf:
    """``with _pdf(path) as doc``: an open pdfium document, or LoadError saying why not."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self):
        import pypdfium2 as pdfium

        try:
            self.doc = pdfium.PdfDocument(str(self.path))
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise LoadError(
                    "the PDF is encrypted (password protected): decrypt it first, e.g. `qpdf --decrypt IN.pdf OUT.pdf`",
                    zh="PDF 已加密（有密码）：请先解密，例如 `qpdf --decrypt IN.pdf OUT.pdf`",
                ) from None
            raise LoadError(f"not a readable PDF ({exc})", zh="不是可读的 PDF（文件已损坏或不是 PDF）") from None
        except OSError as exc:
            raise LoadError(f"cannot read: {exc.strerror or exc}", zh=f"无法读取：{os_reason_zh(exc)}") from None
        return self.doc

    def __exit__(self, *exc) -> None:
        self.doc.close()


def _pdf_page(path: Path, number: int) -> PageBoxes:
    with _pdf(path) as doc:
        page = doc[number - 1]
        width_pt, height_pt = page.get_size()
        scale = _scale(width_pt, height_pt, PDF_DPI / 72)
        text = page.get_textpage()
        boxes = _text_layer(text, height_pt, scale)
        if sum(len(b.text) for b in boxes) >= MIN_TEXT_LAYER:
            width, height = round(width_pt * scale), round(height_pt * scale)
            em = float(np.median([b.height for b in boxes if not b.vertical] or [0.0]))
            gaps = [g.x for g in gutters_between(boxes, width, height, em)]
            return PageBoxes(width, height, boxes, "text-layer", gutters=gaps)
        image = np.asarray(page.render(scale=scale, grayscale=True).to_pil().convert("RGB"))
    return _ocr(image)


def _scale(width: float, height: float, scale: float) -> float:
    """``scale``, lowered so the rendered page stays within ``MAX_PIXELS``."""
    if width * height * scale * scale > MAX_PIXELS:
        scale = (MAX_PIXELS / (width * height)) ** 0.5
    return scale


def _text_layer(textpage, height_pt: float, scale: float) -> list[TextBox]:
    """The text layer's runs (pdfium's text rectangles) as boxes in page pixels."""
    boxes = []
    for i in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(i)
        text = textpage.get_text_bounded(left, bottom, right, top).replace("\r", "").replace("\n", "")
        if not text.strip():
            continue
        box = TextBox(text, left * scale, (height_pt - top) * scale, right * scale, (height_pt - bottom) * scale)
        box.vertical = box.height >= 2 * box.width and len(text.strip()) >= 2
        boxes.append(box)
    return boxes


class _image:
    """``with _image(path) as im``: an opened (not yet decoded) image within the pixel limit."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self):
        from PIL import Image, UnidentifiedImageError

        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        try:
            self.im = Image.open(self.path)
        except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError, ValueError) as exc:
            raise LoadError(_image_problem(exc), zh=_image_problem_zh(exc)) from None
        except OSError as exc:
            raise LoadError(f"cannot read: {exc.strerror or exc}", zh=f"无法读取：{os_reason_zh(exc)}") from None
        return self.im

    def __exit__(self, *exc) -> None:
        self.im.close()


def _image_problem(exc: Exception) -> str:
    from PIL import Image

    if isinstance(exc, Image.DecompressionBombError):
        return f"image too large ({exc}); the limit is {MAX_PIXELS / 1e6:.0f} megapixels a page"
    return f"not a readable image (damaged or another format): {exc}"


def _image_problem_zh(exc: Exception) -> str:
    from PIL import Image

    if isinstance(exc, Image.DecompressionBombError):
        m = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(m.group(1)) / 1e6:.0f} 百万像素，" if m else ""
        return f"图片太大（{size}每页上限 {MAX_PIXELS / 1e6:.0f} 百万像素）"
    return "不是可读的图片（文件已损坏或是其他格式）"


def _image_page(path: Path, number: int) -> np.ndarray:
    from PIL import Image

    with _image(path) as im:
        try:
            im.seek(number - 1)
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise LoadError(
                    f"page {number} is {w}×{h} pixels; the limit is {MAX_PIXELS / 1e6:.0f} megapixels",
                    zh=f"第 {number} 页有 {w}×{h} 像素，超过每页 {MAX_PIXELS / 1e6:.0f} 百万像素的上限",
                )
            return np.asarray(im.convert("RGB"))
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
            raise LoadError(
                f"page {number}: {_image_problem(exc)}", zh=f"第 {number} 页：{_image_problem_zh(exc)}"
            ) from None


def _pooled_read(path: str, kind: str, number: int, cache_key: str, cache_folder: str | None) -> PageBoxes:
    """One page in a worker process (one ONNX Runtime thread: the pool is the parallelism)."""
    os.environ["RAG_OCR_THREADS"] = "1"
    return _read_reported(Path(path), kind, number, cache_key, cache_folder)


def _read_reported(path: Path, kind: str, number: int, cache_key: str, cache_folder: str | None) -> PageBoxes:
    """``read_page``, with anything OCR throws on a strange page reported as that page's problem."""
    cache = OcrCache(Path(cache_folder) if cache_folder else None)
    try:
        return read_page(path, kind, number, cache_key, cache)
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - OpenCV/ONNX Runtime errors on a damaged page: skip the file, say why
        raise LoadError(
            f"page {number}: cannot be read ({type(exc).__name__}: {exc})",
            zh=f"第 {number} 页无法识别（读取这一页时出错，页面可能已损坏）",
        ) from None


class PageReader:
    """Reads the pages of scans and PDFs in ``workers`` processes (one: in this process), and
    the first pages of the files coming next while the caller stores the current one, so a
    folder of single-page scans keeps every core busy."""

    def __init__(
        self, cache_folder: Path | None, workers: int = 0, on_page: Callable[[str], None] = lambda how: None
    ) -> None:
        self.cache_folder = str(cache_folder) if cache_folder else None
        self.workers = workers or max(1, min(os.cpu_count() or 1, 8))
        self.on_page = on_page
        self._pool: ProcessPoolExecutor | None = None
        self._queued: dict[tuple[str, int], Future] = {}

    def layout(self, path: Path, kind: str, sha256: str, upcoming: Iterable[tuple[Path, str, str]] = ()) -> PageLayout:
        """The reading-ordered text of one file; pages of the ``upcoming`` (path, kind, sha256)
        files are queued behind it while it is read."""
        pages = page_count(path, kind)
        futures = []
        for n in range(1, pages + 1):
            queued = self._queued.pop((str(path), n), None)
            futures.append(queued if queued is not None else self._start(path, kind, sha256, n))
        for nxt in upcoming:
            if len(self._queued) >= 2 * self.workers or self.workers == 1:
                break
            self._prefetch(*nxt)
        layout = PageLayout()
        for n, fut in enumerate(futures, 1):
            try:
                page = fut.result()
            except BrokenProcessPool:
                self.close()  # a worker died (out of memory?): a fresh pool for the next file
                raise LoadError(
                    f"page {n}: the OCR worker died (out of memory?)",
                    zh=f"第 {n} 页：文字识别进程意外退出（可能是内存不足）",
                ) from None
            self.on_page(page.how)
            layout.add_page(n, page.width, page.height, order_page(page.boxes, page.gutters), page.skew)
            if page.how == "ocr":
                layout.notes += page_notes(n, page.boxes, page.skew)
                layout.kept_out += [(n, what, line) for what, line in page.kept_out]
        return layout

    def _start(self, path: Path, kind: str, sha256: str, number: int) -> Future:
        if self.workers > 1:
            return self._executor().submit(_pooled_read, str(path), kind, number, sha256, self.cache_folder)
        fut: Future = Future()
        try:
            fut.set_result(_read_reported(path, kind, number, sha256, self.cache_folder))
        except LoadError as exc:
            fut.set_exception(exc)
        return fut

    def _prefetch(self, path: Path, kind: str, sha256: str) -> None:
        if (str(path), 1) in self._queued:
            return
        try:
            pages = min(page_count(path, kind), 2 * self.workers)
        except LoadError:
            return  # reported when the file's turn comes
        for n in range(1, pages + 1):
            self._queued[(str(path), n)] = self._start(path, kind, sha256, n)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        self._queued.clear()
