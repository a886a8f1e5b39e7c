"""Folders built once into the model cache: atomically, under a cross-process lock, rebuilt
when what they were built from changes (a JSON marker records it)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

MARKER = "provision.json"


def is_current(folder: Path, marker: dict) -> bool:
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8")) == marker
    except (OSError, ValueError):
        return False


@contextmanager
def builder_lock(cache_dir: Path, name: str) -> Iterator[None]:
    """Serialise builders of `name` across processes (no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with open(cache_dir / f".{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_once(cache_dir: Path, name: str, marker: dict, build: Callable[[Path], None]) -> Path:
    """Return `cache_dir/name`, first running ``build(tmp_folder)`` if it is missing or its
    marker differs.  The build goes to a temporary folder beside the target and is renamed into
    place, so a killed build leaves no half folder."""
    cache_dir = Path(cache_dir).expanduser()
    folder = cache_dir / name
    if is_current(folder, marker):
        return folder
    cache_dir.mkdir(parents=True, exist_ok=True)
    with builder_lock(cache_dir, name):
        if is_current(folder, marker):  # another process built it while we waited
            return folder
        for stale in cache_dir.glob(f".{name}.*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed build
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=cache_dir))
        try:
            build(tmp)
            (tmp / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
            for path in (tmp, *tmp.rglob("*")):  # mkdtemp/safetensors create owner-only modes
                path.chmod(0o755 if path.is_dir() else 0o644)
            if folder.exists():
                old = cache_dir / f".{name}.old.tmp"
                os.replace(folder, old)
                shutil.rmtree(old, ignore_errors=True)
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return folder
