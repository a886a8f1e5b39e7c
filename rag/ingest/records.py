"""JSONL records (one article a line, the CRUD-RAG format), streamed from .jsonl, .jsonl.xz or
.jsonl.gz: each line checked and turned into a :class:`Record`; a bad line is reported and
skipped, a line too long to be an article is skipped without being held in memory, and a date
is stored only as a real date."""

from __future__ import annotations

import gzip
import io
import json
import lzma
import math
import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rag.ingest.errors import LoadError, RecordError, os_reason_zh
from rag.models import Said, user_message

RECORD_MAX_CHARS = 200_000  # one article
MAX_EXPANDED = 2048 << 20  # bytes a .xz/.gz may unpack to (setting max_expanded_mb; CRUD-RAG's 63,603: 126 MB)


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


def read_records(
    path: Path, errors: list[str] | None = None, id_tag: str = "", max_expanded: int = MAX_EXPANDED
) -> Iterator[Record]:
    """Stream JSONL records; a bad line is reported into ``errors`` (a :class:`Said`: why, also
    in Chinese) and skipped.  A record without an id gets ``name#line@id_tag``.  A compressed
    file that unpacks to more than ``max_expanded`` bytes stops with a LoadError there (a bomb:
    the records before it are kept)."""
    try:
        fh, raw = _open_text(path)
        with fh, raw:
            unpacked = getattr(fh, "buffer", None)
            unpacked = unpacked if isinstance(unpacked, (lzma.LZMAFile, gzip.GzipFile)) else None
            for n, line in _bounded_lines(fh):
                if unpacked is not None and unpacked.tell() > max_expanded:
                    raise _too_big(path, max_expanded)
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


def _too_big(path: Path, limit: int) -> LoadError:
    return LoadError(
        f"{path.name} unpacks to more than {limit >> 20} MB (max_expanded_mb): reading stopped there",
        zh=f"解压后超过 {limit >> 20} MB，其余内容未读取",
    )


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
