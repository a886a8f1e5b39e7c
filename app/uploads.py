"""Uploaded page files: checked (type, size), stored under a name of their own in
``<index>/uploads/<content hash>/`` and ingested into the index.  Nothing is written outside
that folder; two different files never share a stored name, identical content is recognised,
and each upload's temporary copy is removed once it has been handled."""

from __future__ import annotations

import hashlib
import logging
import shutil
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.archive import (
    INGESTED_SUFFIXES,
    IndexReadOnlyError,
    IndexStoreError,
    WriterBusyError,
    os_reason_zh,
    zh_reason,
)

log = logging.getLogger(__name__)

# page text, records, page scans (OCR), PDFs and e-paper HTML: what `rag ingest` reads
ALLOWED = INGESTED_SUFFIXES
MAX_FILES = 50
NAME_MAX = 120  # characters of a stored upload's name
MIB = 1024 * 1024


@dataclass
class UploadResult:
    """One row of the 上传 tab's table (shown to the user as is: its texts are Chinese)."""

    name: str
    status: str  # 已添加 | 未改变 | 已拒绝 | 未能读取 | 未能添加
    detail: str = ""

    def row(self) -> list[str]:
        return [self.name, self.status, self.detail]


def safe_name(name: str) -> str:
    """A plain file name: no folders, no dot-files, no control or shell characters
    (Chinese letters and spaces stay readable: 温县 新闻.txt → 温县_新闻.txt); its type is kept
    (``.txt`` alone → ``upload.txt``, a long name is cut before its ``.jsonl.gz``)."""
    base = unicodedata.normalize("NFKC", Path(str(name).replace("\\", "/")).name)
    base = "".join(c if (c.isalnum() or c in "._-") else "_" for c in base)
    if not base.strip("._"):
        return "upload.txt"
    low = base.lower()
    suffix = max((ext for ext in ALLOWED if low.endswith(ext)), key=len, default="")
    stem = base[: len(base) - len(suffix)].strip("._") or "upload"
    return stem[: NAME_MAX - len(suffix)] + base[len(base) - len(suffix) :]


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
class Upload:
    """One uploaded file: where Gradio put it, and the name the user gave it."""

    path: Path
    shown: str

    @classmethod
    def of(cls, item: str | Path | dict | Upload) -> Upload:
        """From a path, or from the file data Gradio hands an event that skips its own checks
        (``{"path": …, "orig_name": …}``: the whole batch is not refused for one bad name)."""
        if isinstance(item, Upload):
            return item
        if isinstance(item, dict):
            path = Path(str(item.get("path") or ""))
            return cls(path, str(item.get("orig_name") or path.name))
        return cls(Path(item), Path(item).name)


@dataclass
class Staged:
    shown: str  # the name the user uploaded
    path: Path  # where it is stored: uploads/<first 16 hex of sha256>/<safe name>
    sha256: str


def stage_one(src: Path, folder: Path, max_bytes: int, shown: str = "") -> Staged | UploadResult:
    """Check one upload and store it under its content hash; a result when it is refused."""
    shown = shown or src.name
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
        try:
            shutil.copyfile(src, tmp)
            tmp.replace(target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            _drop_empty(target.parent)
            return UploadResult(shown, "未能添加", f"无法保存：{os_reason_zh(exc)}")
    return Staged(shown, target, sha)


def _drop_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def ingest_uploads(
    assistant,
    files: Iterable[str | Path | dict | Upload],
    progress=None,
    discard: Callable[[Path], None] | None = None,
    max_bytes: int | None = None,
) -> list[UploadResult]:
    """Stage and ingest; one result per uploaded file, in upload order: a bad file is reported
    and the rest still added.  ``discard(path)`` is called for every uploaded temporary file
    once the batch has been handled (kept, refused or failed)."""
    uploads = [Upload.of(f) for f in files]
    try:
        folder = Path(assistant.settings.index) / "uploads"
        max_bytes = max_bytes or assistant.settings.max_upload_mb * MIB
        results: list[UploadResult] = []
        seen: dict[str, str] = {}  # sha256 → the name it was first uploaded under, this time
        for i, up in enumerate(uploads):
            if i >= MAX_FILES:
                results.append(UploadResult(up.shown, "已拒绝", f"一次最多 {MAX_FILES} 个文件"))
                continue
            if progress is not None:
                progress((i, len(uploads)), desc=f"正在添加 {up.shown}")
            results.append(_handle_one(assistant, up, folder, max_bytes, seen, progress))
        return results
    finally:
        for up in uploads:
            if discard is not None:
                discard(up.path)


def _handle_one(assistant, up: Upload, folder: Path, max_bytes: int, seen: dict[str, str], progress) -> UploadResult:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return UploadResult(up.shown, "未能添加", f"无法保存：{os_reason_zh(exc)}")
    staged = stage_one(up.path, folder, max_bytes, up.shown)
    if isinstance(staged, UploadResult):
        return staged
    try:
        return _ingest_one(assistant, staged, seen, progress)
    except IndexStoreError as exc:  # the archive cannot take it now: nothing of it is kept
        log.warning("upload %s not added: %s", staged.shown, exc)
        _forget(assistant, staged)
        return UploadResult(staged.shown, "未能添加", store_problem_zh(exc))


def _forget(assistant, staged: Staged) -> None:
    """Remove the stored copy of an upload the index does not hold."""
    try:
        held = assistant.archive.holds_file(staged.path)
    except (IndexStoreError, OSError, sqlite3.DatabaseError):  # the index itself is the problem
        held = False
    if not held:
        staged.path.unlink(missing_ok=True)
        _drop_empty(staged.path.parent)


def store_problem_zh(exc: IndexStoreError) -> str:
    """Why the archive could not take a file, in Chinese (the English details are logged)."""
    if isinstance(exc, WriterBusyError):
        return "资料库正忙（另一个写入还没有结束），请稍后再试"
    if isinstance(exc, IndexReadOnlyError):
        return "资料库是只读的，不能添加文件（请联系管理员）"
    return "资料库出了问题，未能添加，请联系管理员（运行 rag stats 查看）"


def _ingest_one(assistant, staged: Staged, seen: dict[str, str], progress) -> UploadResult:
    same = seen.get(staged.sha256) or _stored_name(assistant, staged)
    if same:
        _forget(assistant, staged)  # the same bytes are stored under another name
        return UploadResult(staged.shown, "未改变", f"与已有文件 {same} 内容相同")
    seen[staged.sha256] = staged.shown

    def waiting(message: str) -> None:
        if progress is not None:
            progress(None, desc=message.split(" / ")[0])  # "等待另一个写入进程（…）… / waiting for …"

    report = assistant.archive.ingest([staged.path], on_wait=waiting)
    kept_out = [f"{len(report.kept_out)} 行图片说明、二维码或图表文字未计入正文"] if report.kept_out else []
    note = "；".join([_zh(w) for w in report.warnings] + kept_out)
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
