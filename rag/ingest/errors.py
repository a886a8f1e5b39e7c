"""Why an input could not be read: the errors of the loaders, each with its Chinese text
(English for the CLI, ``zh`` for the chat's upload tab)."""

from __future__ import annotations

import errno
import re

from rag.models import Explained


class LoadError(Explained):
    """A file that cannot be read or decoded; the message says why (in English, for the CLI),
    ``zh`` the same in Chinese (for the chat's upload tab)."""


class RecordError(Explained, ValueError):
    """What is wrong with one JSONL record (the line is skipped); ``zh``: the same in Chinese."""


def zh_reason(exc: BaseException) -> str:
    """Why a file could not be read, in Chinese: the error's own ``zh`` text, else a generic wrapping."""
    zh = getattr(exc, "zh", None)
    if zh:
        return zh
    if isinstance(exc, OSError):
        return f"无法读取：{os_reason_zh(exc)}"
    return f"无法读取：{exc}"


_ERRNO_ZH = {
    errno.ENOENT: "文件不存在",
    errno.EACCES: "没有读取权限",
    errno.EPERM: "没有读取权限",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOSPC: "磁盘空间不足",
    errno.EIO: "磁盘读写出错",
    errno.ELOOP: "链接循环（链接指向自己）",
    errno.ENAMETOOLONG: "文件名太长",
    errno.EMFILE: "同时打开的文件太多",
    errno.ENFILE: "同时打开的文件太多",
}


def os_reason_zh(exc: OSError) -> str:
    """An operating-system error in Chinese (the common ones; others keep the system's words)."""
    return _ERRNO_ZH.get(exc.errno or -1) or f"系统错误（{exc.strerror or exc}）"


def os_error(exc: OSError) -> LoadError:
    return LoadError(f"cannot read: {exc.strerror or exc}", zh=f"无法读取：{os_reason_zh(exc)}")


DISK_FULL = (
    "disk full: free some space and run the same command again (what was committed is kept; "
    "files already in are skipped)"
)
DISK_FULL_ZH = "磁盘空间不足：请腾出空间后重试（已添加的内容不会丢失）"


def disk_full(exc: BaseException) -> bool:
    """A write that failed for want of space: the OS's ENOSPC/EDQUOT, SQLite's SQLITE_FULL, or
    FAISS's wrapping of it."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, OSError) and re.fullmatch(r"\d+ requested and \d+ written", str(exc)):
        return True  # numpy's short write (ndarray.tofile): no errno, the disk took less
    if getattr(exc, "sqlite_errorcode", None) == 13:  # SQLITE_FULL
        return True
    text = str(exc)
    return "No space left on device" in text or "database or disk is full" in text
