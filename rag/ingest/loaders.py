"""Find input files and decode them: text pages (UTF-8/GB18030) and JSONL records (.xz/.gz streamed)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import lzma
import math
import os
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rag.ingest.errors import LoadError, RecordError, os_error, os_reason_zh, zh_reason
from rag.models import Said, user_message

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
RECORD_MAX_CHARS = 200_000  # one article
RECORD_SUFFIXES = {".jsonl", ".jsonl.xz", ".jsonl.gz", ".xz", ".gz"}


SUPPORTED = ".txt, .jsonl(.xz/.gz), .png, .jpg, .tif, .pdf, .html"
__all__ = ["LoadError", "RecordError", "os_reason_zh", "zh_reason"]  # (defined in rag.ingest.errors)


@dataclass
class Record:
    """One JSONL record: an already-segmented article."""

    id: str
    text: str
    title: str = ""
    date: str = ""
    source: str = ""
    line: int = 0
    offset: int = 0  # bytes of the file read so far (compressed bytes for .xz/.gz): progress
    note: Said | None = None  # kept, but something was left out (a date that is no date)


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


def _open_text(path: Path) -> tuple[io.TextIOBase, io.BufferedReader]:
    """(text stream, the raw file under it): ``raw.tell()`` is how far into the file we are."""
    name = path.name.lower()
    raw = path.open("rb")
    try:
        if name.endswith(".xz"):
            return io.TextIOWrapper(lzma.LZMAFile(raw), encoding="utf-8"), raw
        if name.endswith(".gz"):
            return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8"), raw
        return io.TextIOWrapper(raw, encoding="utf-8-sig"), raw
    except BaseException:
        raw.close()
        raise


def read_records(path: Path, errors: list[str] | None = None, id_tag: str = "") -> Iterator[Record]:
    """Stream JSONL records; a bad line is reported into ``errors`` (a :class:`Said`: why, also
    in Chinese) and skipped.  A record without an id gets ``name#line@id_tag``."""
    try:
        fh, raw = _open_text(path)
        with fh, raw:
            for n, line in _bounded_lines(fh):
                if line is None:
                    if errors is not None:
                        errors.append(Said(f"line {n}: {LINE_TOO_LONG}", f"第 {n} 行：{LINE_TOO_LONG_ZH}"))
                    continue
                if not line.strip():
                    continue
                try:
                    rec = parse_record(line, n)
                except ValueError as exc:
                    if errors is not None:
                        errors.append(Said(f"line {n}: {exc}", f"第 {n} 行：{user_message(exc)}"))
                    continue
                if rec.note is not None and errors is not None:
                    errors.append(Said(f"line {n}: {rec.note}", f"第 {n} 行：{user_message(rec.note)}"))
                rec.id = rec.id or f"{path.name}#{n}" + (f"@{id_tag}" if id_tag else "")
                rec.offset = raw.tell()
                yield rec
    except (OSError, EOFError, lzma.LZMAError, zlib.error, UnicodeDecodeError) as exc:
        raise LoadError(f"cannot read records: {exc}", zh=f"无法读取记录：{_records_problem_zh(exc)}") from None


MAX_LINE_CHARS = 16 << 20  # a JSONL line longer than this is skipped unread (a bomb: 1 GiB in 156 KB of .xz)
LINE_TOO_LONG = f"longer than {MAX_LINE_CHARS >> 20} M characters: skipped"
LINE_TOO_LONG_ZH = f"超过 {MAX_LINE_CHARS >> 20} M 个字符，已跳过"


def _bounded_lines(fh: io.TextIOBase) -> Iterator[tuple[int, str | None]]:
    """``(line number, line)``, or ``None`` for a line over ``MAX_LINE_CHARS``: the rest of it is
    read in 1 M-character pieces and dropped, so memory stays bounded whatever the file holds."""
    n = 0
    while line := fh.readline(MAX_LINE_CHARS):
        n += 1
        if len(line) < MAX_LINE_CHARS or line.endswith("\n"):
            yield n, line
            continue
        while (rest := fh.readline(1 << 20)) and not rest.endswith("\n"):
            pass
        yield n, None


def _records_problem_zh(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "不是 UTF-8 编码"
    if isinstance(exc, EOFError):
        return "压缩文件不完整（在结尾之前就断了）"
    if isinstance(exc, (lzma.LZMAError, zlib.error, gzip.BadGzipFile)):
        return "压缩数据已损坏"
    assert isinstance(exc, OSError)
    return os_reason_zh(exc)


def parse_record(line: str, n: int = 0) -> Record:
    """One JSONL line as a Record; ValueError says what is wrong with it."""
    try:
        obj = json.loads(line)
    except RecursionError:
        raise RecordError("JSON nested too deeply", zh="JSON 嵌套太深") from None
    except json.JSONDecodeError as exc:
        raise RecordError(str(exc), zh=f"不是合法的 JSON（第 {exc.colno} 个字符处出错）") from None
    if not isinstance(obj, dict):
        raise RecordError(f"not a JSON object ({type(obj).__name__})", zh=f"不是 JSON 对象（而是{_json_type_zh(obj)}）")
    text = obj.get("text")
    if text is None or text == "":
        raise RecordError("no 'text' field", zh="缺少正文字段 “text”")
    if not isinstance(text, str):
        raise RecordError(
            f"'text' is not a string ({_json_type(text)})",
            zh=f"正文字段 “text” 不是字符串（而是{_json_type_zh(text)}）",
        )
    if not visible(text):
        raise RecordError("'text' has no visible characters", zh="正文字段 “text” 没有可见的字")
    if len(text) > RECORD_MAX_CHARS:
        raise RecordError(f"text longer than {RECORD_MAX_CHARS} characters", zh=f"正文超过 {RECORD_MAX_CHARS} 个字")
    fields = {name: _field(obj, name) for name in ("id", "title", "date", "source")}
    for name, value in {"text": text, **fields}.items():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RecordError(
                f"'{name}' holds invalid Unicode (a lone surrogate such as \\ud800)",
                zh=f"字段 “{name}” 含无效的 Unicode 字符（例如单独的代理码 \\ud800）",
            ) from None
    day, note = record_date(fields["date"])
    return Record(
        id=fields["id"], text=text, title=fields["title"], date=day, source=fields["source"], line=n, note=note
    )


_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE = re.compile(r"^(\d{4})(?:[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?)?年?(?:[T ]\d{1,2}:\d{2}\S*)?$")


def record_date(value: str) -> tuple[str, Said | None]:
    """A record's date as stored: ``2023-01-10`` (from 2023/1/10, 2023年1月10日, full-width
    digits, 20230110 or a timestamp), ``2023-01`` or ``2023``; a value that is no real date is
    not stored — ``""`` and a note saying so."""
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return "", None
    m = _COMPACT_DATE.match(text) or _DATE.match(text)
    if m and int(m.group(1)) >= 1000:
        y, mo, d = m.group(1), m.group(2), m.group(3)
        try:
            date(int(y), int(mo or 1), int(d or 1))
            return "-".join([y] + [f"{int(x):02d}" for x in (mo, d) if x]), None
        except ValueError:
            pass
    shown = value.strip()[:30]
    return "", Said(
        f"date {shown!r} is not a real date: the record is kept without one",
        f"日期“{shown}”不是真实存在的日期：记录已保存，但不带日期",
    )


def _field(obj: dict, name: str) -> str:
    """A metadata field as text: strings and finite numbers (an id 12345) pass; others fail."""
    value = obj.get(name)
    if value is None or value is False:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return str(value)
    raise RecordError(
        f"'{name}' is not a string ({_json_type(value)})", zh=f"字段 “{name}” 不是字符串（而是{_json_type_zh(value)}）"
    )


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN/Infinity"
    return {list: "a list", dict: "an object", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _json_type_zh(value) -> str:
    if isinstance(value, bool):
        return "布尔值 true/false"
    if isinstance(value, float) and not math.isfinite(value):
        return " NaN/Infinity"
    return {list: "列表", dict: "对象", int: "数字", float: "数字", str: "字符串"}.get(type(value), "空值 null")


_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp", "Cn", "Co", "Cs"}


def visible(text: str) -> bool:
    """True when ``text`` has a character one can see (not only controls, spaces, zero-width)."""
    return any(unicodedata.category(c) not in _INVISIBLE for c in text)


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
