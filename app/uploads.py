"""Uploaded page files: checked (type, size), stored under a name of their own in
``<index>/uploads/<content hash>/`` and ingested into the index.  Nothing is written outside
that folder; two different files never share a stored name, identical content is recognised,
and each upload's temporary copy is removed once it has been handled."""

from __future__ import annotations

import hashlib
import shutil
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.archive import INGESTED_SUFFIXES, zh_reason

# page text, records, page scans (OCR), PDFs and e-paper HTML: what `rag ingest` reads
ALLOWED = INGESTED_SUFFIXES
MAX_FILES = 50
NAME_MAX = 120  # characters of a stored upload's name
MIB = 1024 * 1024


@dataclass
class UploadResult:
    """One row of the 上传 tab's table (shown to the user as is: its texts are Chinese)."""

    name: str
    status: str  # 已添加 | 未改变 | 已拒绝 | 未能读取
    detail: str = ""

    def row(self) -> list[str]:
        return [self.name, self.status, self.detail]


def safe_name(name: str) -> str:
    """A plain file name: no folders, no dot-files, no control or shell characters
    (Chinese letters and spaces stay readable: 温县 新闻.txt → 温县_新闻.txt)."""
    base = unicodedata.normalize("NFKC", Path(str(name).replace("\\", "/")).name)
    base = "".join(c if (c.isalnum() or c in "._-") else "_" for c in base).strip("._")
    if len(base) <= NAME_MAX:
        return base or "upload.txt"
    low = base.lower()  # a long name is cut before its type, which it keeps (.jsonl.gz whole)
    suffix = max((ext for ext in ALLOWED if low.endswith(ext)), key=len, default="")
    return base[: NAME_MAX - len(suffix)] + base[len(base) - len(suffix) :]


def kind_ok(name: str) -> bool:
    low = name.lower()
    return any(low.endswith(ext) for ext in ALLOWED)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Staged:
    shown: str  # the name the user uploaded
    path: Path  # where it is stored: uploads/<first 16 hex of sha256>/<safe name>
    sha256: str


def stage_one(src: Path, folder: Path, max_bytes: int) -> Staged | UploadResult:
    """Check one upload and store it under its content hash; a result when it is refused."""
    shown = src.name
    if not kind_ok(shown):
        return UploadResult(shown, "已拒绝", "只接受 " + "、".join(ALLOWED))
    try:
        size = src.stat().st_size
        if size > max_bytes:
            return UploadResult(shown, "已拒绝", f"{size / MIB:.1f} MB，超过 {max_bytes // MIB} MB 上限")
        sha = _digest(src)
    except OSError as exc:
        return UploadResult(shown, "未能读取", zh_reason(exc))
    target = folder / sha[:16] / safe_name(shown)
    if target.resolve().parent.parent != folder.resolve():  # belt and braces
        return UploadResult(shown, "已拒绝", "文件名不安全")
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(src, tmp)
        tmp.replace(target)
    return Staged(shown, target, sha)


def ingest_uploads(
    assistant,
    files: Iterable[str | Path],
    progress=None,
    discard: Callable[[Path], None] | None = None,
    max_bytes: int | None = None,
) -> list[UploadResult]:
    """Stage and ingest; one result per uploaded file, in upload order.  ``discard(path)`` is
    called for every uploaded temporary file once it has been handled (kept or refused)."""
    folder = Path(assistant.settings.index) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    max_bytes = max_bytes or assistant.settings.max_upload_mb * MIB
    paths = [Path(f) for f in files]
    results: list[UploadResult] = []
    seen: dict[str, str] = {}  # sha256 → the name it was first uploaded under, this time
    for i, src in enumerate(paths):
        try:
            if i >= MAX_FILES:
                results.append(UploadResult(src.name, "已拒绝", f"一次最多 {MAX_FILES} 个文件"))
                continue
            if progress is not None:
                progress((i, len(paths)), desc=f"正在添加 {src.name}")
            staged = stage_one(src, folder, max_bytes)
            if isinstance(staged, UploadResult):
                results.append(staged)
                continue
            results.append(_ingest_one(assistant, staged, seen, progress))
        finally:
            if discard is not None:
                discard(src)
    return results


def _ingest_one(assistant, staged: Staged, seen: dict[str, str], progress) -> UploadResult:
    same = seen.get(staged.sha256) or _stored_name(assistant, staged)
    if same:
        if not assistant.archive.holds_file(staged.path):
            staged.path.unlink(missing_ok=True)  # the same bytes are stored under another name
            if not any(staged.path.parent.iterdir()):
                staged.path.parent.rmdir()
        return UploadResult(staged.shown, "未改变", f"与已有文件 {same} 内容相同")
    seen[staged.sha256] = staged.shown

    def waiting(message: str) -> None:
        if progress is not None:
            progress(None, desc=message.split(" / ")[0])  # "等待另一个写入进程（…）… / waiting for …"

    report = assistant.archive.ingest([staged.path], on_wait=waiting)
    note = "；".join(_zh(w) for w in report.warnings)
    if report.ingested:
        return UploadResult(
            staged.shown,
            "已添加",
            f"{report.articles} 篇文章，{report.chunks} 个段落" + (f"（{note}）" if note else ""),
        )
    if report.unchanged:
        return UploadResult(staged.shown, "未改变", "与已有文件相同")
    why = "；".join(_zh(r) for _, r in report.skipped) or "没有找到文字"
    shutil.rmtree(staged.path.parent, ignore_errors=True)
    return UploadResult(staged.shown, "未能读取", why + (f"（{note}）" if note else ""))


def _zh(text: str) -> str:
    """A skip reason or warning of an ingest report in Chinese (each is a Said text)."""
    return getattr(text, "zh", None) or zh_reason(Exception(text))


def _stored_name(assistant, staged: Staged) -> str:
    """The name of a complete source with these very bytes stored elsewhere ('' when none)."""
    source = assistant.archive.stored_copy(staged.sha256)
    if source is None or source.status != "ok" or source.path == str(staged.path.resolve()):
        return ""
    return Path(source.path).name
