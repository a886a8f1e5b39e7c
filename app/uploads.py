"""Uploaded page files: checked (type, size), renamed safely into ``<index>/uploads/`` and
ingested into the open index.  Nothing is written outside that folder."""

from __future__ import annotations

import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

ALLOWED = (".txt", ".jsonl", ".jsonl.gz", ".jsonl.xz")
MAX_BYTES = 50 * 1024 * 1024
MAX_FILES = 50


@dataclass
class UploadResult:
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
    return base[:120] or "upload.txt"


def kind_ok(name: str) -> bool:
    low = name.lower()
    return any(low.endswith(ext) for ext in ALLOWED)


def stage(files: Iterable[str | Path], folder: Path, max_bytes: int = MAX_BYTES,
          max_files: int = MAX_FILES) -> tuple[list[tuple[str, Path]], list[UploadResult]]:
    """Copy acceptable uploads into ``folder``; returns (original name, staged path) pairs and
    the rejected files with their reasons."""
    folder.mkdir(parents=True, exist_ok=True)
    staged, rejected = [], []
    for i, f in enumerate(files):
        src = Path(f)
        shown = src.name
        if i >= max_files:
            rejected.append(UploadResult(shown, "已拒绝", f"一次最多 {max_files} 个文件"))
            continue
        if not kind_ok(shown):
            rejected.append(UploadResult(shown, "已拒绝", "只接受 " + "、".join(ALLOWED)))
            continue
        try:
            size = src.stat().st_size
        except OSError as exc:
            rejected.append(UploadResult(shown, "未能读取", str(exc.strerror or exc)))
            continue
        if size > max_bytes:
            rejected.append(UploadResult(shown, "已拒绝",
                                         f"{size / 1e6:.1f} MB，超过 {max_bytes / 1e6:.0f} MB 上限"))
            continue
        target = folder / safe_name(shown)
        if target.resolve().parent != folder.resolve():  # belt and braces
            rejected.append(UploadResult(shown, "已拒绝", "文件名不安全"))
            continue
        shutil.copyfile(src, target)
        staged.append((shown, target))
    return staged, rejected


def ingest_uploads(assistant, files: Iterable[str | Path], progress=None) -> list[UploadResult]:
    """Stage and ingest; one result per uploaded file, in upload order."""
    folder = Path(assistant.settings.index) / "uploads"
    staged, results = stage(files, folder)
    for i, (shown, path) in enumerate(staged):
        if progress is not None:
            progress((i, len(staged)), desc=f"正在添加 {shown}")
        report = assistant.ingest([path])
        if report.ingested:
            results.append(UploadResult(shown, "已添加", f"{report.articles} 篇文章，{report.chunks} 个段落"))
        elif report.unchanged:
            results.append(UploadResult(shown, "未改变", "与已有文件相同"))
        else:
            why = "；".join(r for _, r in report.skipped) or "没有找到文字"
            results.append(UploadResult(shown, "未能读取", why))
            path.unlink(missing_ok=True)
    return results
