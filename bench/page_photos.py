"""Photos, QR codes and their captions on the synthetic pages of ``render_pages`` (issue 34).

A photo is a seeded grey picture; its caption, one of the project's own, is printed in smaller
type under it, or beside it (``beside``: the photo takes 60 % of the column and the caption is
set in the rest, level with the photo's top or its bottom).  A QR code (``segno``, a test
dependency) is printed at the column's left with a label of the project's own beside it.
Captions and labels are lines of kind ``caption`` and ``label``, which the truth text leaves out.
"""

from __future__ import annotations

import random
from typing import Protocol

from PIL import Image, ImageDraw

PHOTO_P = 0.12  # chance of a photo after a paragraph
PHOTO_SHARE = 0.6  # of the column a photo with its caption beside it takes
QR_P = 0.06  # chance of a QR code after a paragraph
Box = tuple[int, int, int, int]
DRAWN_KINDS = ("photo", "qr", "shape")  # lines that are drawn, not written (shape: bench/page_diagrams.py)
QR_LABELS = ("扫码关注柳溪融媒", "扫码观看 活动视频", "扫一扫 参与问卷调查", "扫码阅读全文")
CAPTIONS = (  # the project's own captions, in the style papers print under a photo
    "图为活动现场。 记者 林晓 摄",
    "图为工作人员在服务大厅为群众办理业务。",
    "图为新建成的乡村道路。 通讯员 周南 摄",
    "图为志愿者向居民讲解防范电信诈骗知识。",
    "图为果农在园中采摘。 记者 韦青 摄",
)


class Flow(Protocol):
    """What a photo needs of the page layout it is set in (``render_pages._Layout``)."""

    body: int
    col: int
    col_w: int
    y: int
    height: int
    margin: int
    lines: list

    def col_x(self, col: int) -> int: ...
    def next_column(self) -> None: ...
    def emit(
        self, text: str, size: int, kind: str, block: int, indent: int = 0, at: tuple[int, int] | None = None
    ) -> None: ...


def place_photo(lay: Flow, caption: str, beside: bool, line: type, rng: random.Random) -> None:
    """A photo seven lines tall in the current column, with its caption under it (the photo the
    column's width) or beside it, level with its top or, as often, ending level with its bottom
    (``rng`` chooses); ``line`` makes a ``render_pages.Line``."""
    size, tall, gap = round(lay.body * 0.85), 7 * round(lay.body * 1.5), round(lay.body * 0.6)
    if lay.y + gap + tall + (0 if beside else 3 * size) > lay.height - lay.margin:
        lay.next_column()
    lay.y += gap if lay.y > lay.margin else 0
    x0, top = lay.col_x(lay.col), lay.y
    wide = round(lay.col_w * PHOTO_SHARE) if beside else lay.col_w
    lay.lines.append(line("", (x0, top, x0 + wide, top + tall), "photo", -1))
    if beside:
        at = (x0 + wide + gap, lay.col_w - wide - gap)
        if rng.random() < 0.5:  # ending level with the photo's bottom: set it, then move it down
            first = len(lay.lines)
            lay.emit(caption, size, "caption", -2, at=at)
            down = top + tall - lay.lines[-1].box[3]
            for ln in lay.lines[first:]:
                ln.box = (ln.box[0], ln.box[1] + down, ln.box[2], ln.box[3] + down)
        else:
            lay.emit(caption, size, "caption", -2, at=at)
        lay.y = top + tall + gap
        return
    lay.y += tall + round(size * 0.5)
    lay.emit(caption, size, "caption", -2)
    lay.y += gap


def place_qr(lay: Flow, label: str, line: type, dpi: int, share: float = 0.85) -> None:
    """A QR code at the column's left and its label beside it, level with its top, in ``share``
    of the body's type; ``line`` makes a ``render_pages.Line``."""
    size, gap = round(lay.body * share), round(lay.body * 0.6)
    side = draw_qr(0, dpi).width
    if lay.y + gap + side > lay.height - lay.margin:
        lay.next_column()
    lay.y += gap if lay.y > lay.margin else 0
    x0, top = lay.col_x(lay.col), lay.y
    lay.lines.append(line("", (x0, top, x0 + side, top + side), "qr", -3))
    lay.emit(label, size, "label", -4, at=(x0 + side + gap, lay.col_w - side - gap))
    lay.y = max(lay.y, top + side) + gap


def draw_picture(
    img: Image.Image, draw: ImageDraw.ImageDraw, kind: str, text: str, box: Box, seed: int, dpi: int
) -> None:
    """Draw one line of a kind in ``DRAWN_KINDS`` on the page ``img``."""
    if kind == "photo":
        img.paste(draw_photo(box, random.Random(seed + box[1])), box[:2])
    elif kind == "qr":
        img.paste(draw_qr(box[1], dpi), box[:2])
    else:
        from page_diagrams import draw_shape

        draw_shape(draw, text, box)


def draw_qr(key: int, dpi: int) -> Image.Image:
    """A QR code of a made-up address numbered ``key`` (modules 3 px at 150 dpi, a one-module
    quiet zone; every key gives a code the same size)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(f"https://liuxi.example.cn/{key % 10_000:04d}", error="m", version=3).save(
        buffer, kind="png", scale=max(2, round(3 * dpi / 150)), border=1
    )
    buffer.seek(0)
    return Image.open(buffer).convert("L")


def draw_photo(box: tuple[int, int, int, int], rng: random.Random) -> Image.Image:
    """A grey picture: a few random tones blown up smooth, with film grain."""
    width, height = box[2] - box[0], box[3] - box[1]
    small = Image.new("L", (6, 4))
    small.putdata([rng.randrange(30, 230) for _ in range(24)])
    smooth = small.resize((width, height), Image.Resampling.BICUBIC)
    return Image.blend(smooth, Image.effect_noise((width, height), 40).convert("L"), 0.25)
