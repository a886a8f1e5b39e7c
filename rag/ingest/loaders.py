"""Find input files and decode them: text pages (UTF-8/GB18030) and JSONL records (.xz/.gz streamed)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.ingest.errors import LoadError, RecordError, os_error, os_reason_zh, zh_reason
from rag.models import Said

PAGE_SUFFIXES = {".txt"}
SCAN_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}  # page images, OCR'd (rag.ingest.scans)
PDF_SUFFIXES = {".pdf"}  # the text layer, or OCR of the rendered page where there is none
HTML_SUFFIXES = {".html", ".htm"}  # e-paper article pages (rag.ingest.html_page)
KIND_OF = {
    **dict.fromkeys(PAGE_SUFFIXES, "page"),
    **dict.fromkeys(SCAN_SUFFIXES, "scan"),
    **dict.fromkeys(PDF_SUFFIXES, "pdf"),
    **dict.fromkeys(HTML_SUFFIXES, "html"),
}
PAGE_MAX_BYTES = 5 * 1024 * 1024  # a newspaper page is ~10–50 kB of text
RECORD_SUFFIXES = {".jsonl", ".jsonl.xz", ".jsonl.gz", ".xz", ".gz"}


SUPPORTED = ".txt, .jsonl(.xz/.gz), .png, .jpg, .tif, .pdf, .html"
__all__ = ["LoadError", "RecordError", "os_reason_zh", "zh_reason"]  # (defined in rag.ingest.errors)


def printable_path(path: str | Path) -> str:
    """``path`` as text that can be stored and shown: a name that is not UTF-8 (GBK bytes from
    a Windows zip) is read as GB18030 when that works, else its odd bytes are escaped."""
    text = str(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = os.fsencode(text)
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            return raw.decode("utf-8", "backslashreplace")


@dataclass
class InputFile:
    path: Path
    kind: str  # page (.txt) | records (JSONL) | scan (page images) | pdf | html
    sha256: str = ""
    size: int = 0
    meta: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The source's identity in the index: its absolute path, as storable text."""
        return printable_path(self.path.resolve())

    @property
    def name(self) -> str:
        """The file name as printable text."""
        return printable_path(self.path.name)

    @property
    def shown(self) -> str:
        """The path as given, as printable text (reports, warnings)."""
        return printable_path(self.path)

    @property
    def tag(self) -> str:
        """Eight hex digits of the source's identity: ids made up for its articles end in it,
        so ``A08.txt`` or ``news.jsonl`` in two folders never share ids."""
        return hashlib.sha1(self.key.encode()).hexdigest()[:8]


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in sorted(set(KIND_OF) | RECORD_SUFFIXES, key=len, reverse=True):
        if name.endswith(s):
            return s
    return ""


def discover(paths: list[Path]) -> tuple[list[InputFile], list[tuple[Path, str]]]:
    """Expand files and folders into input files; return (inputs, [(path, reason skipped)]),
    each reason a :class:`Said` (its Chinese in ``zh``)."""
    found: list[InputFile] = []
    skipped: list[tuple[Path, str]] = []

    def skip(path: Path, reason: str, reason_zh: str) -> None:
        skipped.append((path, Said(reason, reason_zh)))

    seen: set[Path] = set()
    for root in paths:
        if not root.exists():
            skip(root, "no such file or folder", "找不到这个文件或文件夹")
            continue
        candidates = [root] if not root.is_dir() else sorted(p for p in _walk(root, skip))
        for path in candidates:
            if not path.is_file():  # a pipe, device, socket, broken link or link loop
                skip(path, "not a regular file", "不是普通文件（可能是管道、设备或失效的链接）")
                continue
            real = path.resolve()
            if real in seen:
                continue
            seen.add(real)
            suffix = _suffix(path)
            if path.name.endswith(".meta.json"):
                continue
            if not suffix:
                skip(
                    path,
                    f"unsupported file type (expected {SUPPORTED})",
                    f"不支持的文件类型（只接受 {SUPPORTED.replace(', ', '、')}）",
                )
                continue
            kind = KIND_OF.get(suffix, "records")
            found.append(InputFile(path, kind, meta=_sidecar(path, skip)))
    return found, skipped


Skip = Callable[[Path, str, str], None]  # (path, reason, the reason in Chinese)


def _walk(root: Path, skip: Skip) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            dirnames.remove(name)  # a linked folder may loop or leave the tree: say so, skip it
            skip(
                Path(dirpath) / name,
                "a link to a folder, not followed: give the folder it points to to ingest it",
                "这是指向文件夹的链接，没有跟随：要导入它，请直接给出它指向的文件夹",
            )
        dirnames.sort()
        for name in filenames:
            yield Path(dirpath) / name


def _sidecar(path: Path, skip: Skip) -> dict:
    side = path.with_name(path.name + ".meta.json")
    if not side.is_file():
        side = path.with_suffix(".meta.json")
    if not side.is_file():
        return {}
    try:
        meta = json.loads(side.read_text("utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
        return {k: str(v) for k, v in meta.items() if k in ("paper", "date", "page", "section")}
    except (OSError, ValueError) as exc:
        why = os_reason_zh(exc) if isinstance(exc, OSError) else "不是合法的 JSON 对象"
        skip(side, f"sidecar ignored: {exc}", f"附带的元数据文件（.meta.json）已忽略：{why}")
        return {}


def file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode page bytes: UTF-8 (BOM or not), else GB18030; raise LoadError when neither fits."""
    if not data.strip():
        raise LoadError("empty file", zh="文件是空的")
    if b"\x00" in data[:4096]:
        raise LoadError("binary file (NUL bytes)", zh="不是文本文件（含二进制内容）")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            if encoding == "gb18030" or exc.start < len(data) - 3:
                continue
            text = data[: exc.start].decode(encoding)  # UTF-8 cut inside its last character
        if encoding == "gb18030" and not _looks_chinese(text):
            break
        if encoding == "gb18030":
            _check_plausible_gb(data, text)
        return text.replace("\r\n", "\n").replace("\r", "\n"), encoding.replace("-sig", "")
    raise LoadError("cannot decode as UTF-8 or GB18030", zh="无法识别文字编码（既不是 UTF-8 也不是 GB18030）")


def _looks_chinese(text: str) -> bool:
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return cjk >= 0.3 * max(1, sum(1 for c in text if not c.isspace()))


RARE_SHARE = 0.3  # GB18030 pages here: 0.04 % outside GB2312; Big5 read as GB18030: 61 %, Shift-JIS: 100 %


def _check_plausible_gb(data: bytes, text: str) -> None:
    """Big5 or Shift-JIS bytes also decode as GB18030, into rare characters: refuse those."""
    wide = [c for c in text if not c.isspace() and not c.isascii()]
    if len(wide) < 20:
        return
    rare = 0
    for c in wide:
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            rare += 1
    if rare / len(wide) <= RARE_SHARE:
        return
    likely = []
    for name, codec in (("Big5", "big5"), ("Shift-JIS", "shift_jis")):
        try:
            data.decode(codec)
            likely.append(name)
        except UnicodeDecodeError:
            pass
    guess = " or ".join(likely) or "another encoding"
    share = f"{100 * rare / len(wide):.0f}%"
    iconv = f"`iconv -f {(likely or ['BIG5'])[0].upper().replace('-', '_')} -t UTF-8`"
    raise LoadError(
        f"encoding looks like {guess}, not UTF-8 or GB18030 ({share} "
        f"of its characters are rare when read as GB18030): convert it to UTF-8, e.g. {iconv}",
        zh=f"文字编码看起来是 {' 或 '.join(likely) or '其他编码'}，不是 UTF-8 或 GB18030（按 GB18030 读，"
        f"{share} 的字是生僻字）：请先转换成 UTF-8，例如 {iconv}",
    )


def read_page(path: Path) -> tuple[str, str]:
    try:
        size = path.stat().st_size
        if size > PAGE_MAX_BYTES:
            raise LoadError(
                f"too large for a page ({size / 1e6:.1f} MB, the limit is "
                f"{PAGE_MAX_BYTES / 1e6:.0f} MB): split it, or give articles as JSONL",
                zh=f"文件太大（{size / 1e6:.1f} MB，一版文字的上限是 {PAGE_MAX_BYTES / 1e6:.0f} MB）："
                "请拆分，或把文章整理成 JSONL 再上传",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise os_error(exc) from None
    return decode_bytes(data)


TEXT_FIELDS = ("text", "headline", "paper", "date", "page", "section", "byline", "dateline")


def remove_nul(articles: Iterable) -> int:
    """Remove NUL characters from the articles' text fields (SQLite's own functions and tools
    stop at one: the article would read cut short there); returns how many were removed."""
    removed = 0
    for article in articles:
        for name in TEXT_FIELDS:
            value = getattr(article, name, None)
            if isinstance(value, str) and "\x00" in value:
                removed += value.count("\x00")
                setattr(article, name, value.replace("\x00", ""))
    return removed
