"""Find input files and decode them: text pages (UTF-8/GB18030) and JSONL records (.xz/.gz streamed)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import lzma
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

PAGE_SUFFIXES = {".txt"}
PAGE_MAX_BYTES = 5 * 1024 * 1024  # a newspaper page is ~10–50 kB of text
RECORD_MAX_CHARS = 200_000  # one article
RECORD_SUFFIXES = {".jsonl", ".jsonl.xz", ".jsonl.gz", ".xz", ".gz"}


class LoadError(Exception):
    """A file that cannot be read or decoded; the message says why."""


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


@dataclass
class InputFile:
    path: Path
    kind: str  # page | records
    sha256: str = ""
    size: int = 0
    meta: dict = field(default_factory=dict)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in sorted(PAGE_SUFFIXES | RECORD_SUFFIXES, key=len, reverse=True):
        if name.endswith(s):
            return s
    return ""


def discover(paths: list[Path]) -> tuple[list[InputFile], list[tuple[Path, str]]]:
    """Expand files and folders into input files; return (inputs, [(path, reason skipped)])."""
    found: list[InputFile] = []
    skipped: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for root in paths:
        if not root.exists():
            skipped.append((root, "no such file or folder"))
            continue
        candidates = [root] if not root.is_dir() else sorted(p for p in _walk(root))
        for path in candidates:
            if not path.is_file():  # a pipe, device, socket, broken link or link loop
                skipped.append((path, "not a regular file"))
                continue
            real = path.resolve()
            if real in seen:
                continue
            seen.add(real)
            suffix = _suffix(path)
            if path.name.endswith(".meta.json"):
                continue
            if not suffix:
                skipped.append((path, "unsupported file type (expected .txt, .jsonl, .jsonl.xz, .jsonl.gz)"))
                continue
            kind = "page" if suffix in PAGE_SUFFIXES else "records"
            found.append(InputFile(path, kind, meta=_sidecar(path, skipped)))
    return found, skipped


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in filenames:
            yield Path(dirpath) / name


def _sidecar(path: Path, skipped: list[tuple[Path, str]]) -> dict:
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
        skipped.append((side, f"sidecar ignored: {exc}"))
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
        raise LoadError("empty file")
    if b"\x00" in data[:4096]:
        raise LoadError("binary file (NUL bytes)")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            if encoding == "gb18030" or exc.start < len(data) - 3:
                continue
            text = data[: exc.start].decode(encoding)  # UTF-8 cut inside its last character
        if encoding == "gb18030" and not _looks_chinese(text):
            break
        return text.replace("\r\n", "\n").replace("\r", "\n"), encoding.replace("-sig", "")
    raise LoadError("cannot decode as UTF-8 or GB18030")


def _looks_chinese(text: str) -> bool:
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return cjk >= 0.3 * max(1, sum(1 for c in text if not c.isspace()))


def read_page(path: Path) -> tuple[str, str]:
    try:
        size = path.stat().st_size
        if size > PAGE_MAX_BYTES:
            raise LoadError(f"too large for a page ({size / 1e6:.1f} MB, the limit is "
                            f"{PAGE_MAX_BYTES / 1e6:.0f} MB): split it, or give articles as JSONL")
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}") from None
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


def read_records(path: Path, errors: list[str] | None = None) -> Iterator[Record]:
    """Stream JSONL records; a broken line is reported into ``errors`` and skipped."""
    try:
        fh, raw = _open_text(path)
        with fh, raw:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    if not isinstance(obj, dict) or not str(obj.get("text", "")).strip():
                        raise ValueError("no 'text' field")
                    if len(str(obj["text"])) > RECORD_MAX_CHARS:
                        raise ValueError(f"text longer than {RECORD_MAX_CHARS} characters")
                except ValueError as exc:
                    if errors is not None:
                        errors.append(f"line {n}: {exc}")
                    continue
                yield Record(
                    id=str(obj.get("id") or f"{path.name}#{n}"),
                    text=str(obj["text"]),
                    title=str(obj.get("title") or ""),
                    date=str(obj.get("date") or "")[:10],
                    source=str(obj.get("source") or ""),
                    line=n,
                    offset=raw.tell(),
                )
    except (OSError, EOFError, lzma.LZMAError, UnicodeDecodeError) as exc:
        raise LoadError(f"cannot read records: {exc}") from None
