"""Metadata a person set for a source file (paper, date), kept beside the index.

Many scanned or pasted pages carry no masthead or date line, so their articles are stored with
paper and date unknown.  ``rag retag`` (or 资料库 → 设置来源信息) fills them in: it re-tags the
stored articles and records the choice here, in ``<index>/source-metadata.json``, so that a
re-ingest or ``--rebuild`` of the same file tags its articles again.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from rag.models import InputError, iso_date

FILE = "source-metadata.json"
MAX_PAPER_CHARS = 40
_lock = threading.Lock()


def checked(paper: str | None, date: str | None) -> tuple[str | None, str | None]:
    """Cleaned paper and ISO date (None: leave as is); InputError for a bad or partial date,
    an over-long paper name or nothing to set."""
    paper = " ".join((paper or "").split()) or None
    if paper and len(paper) > MAX_PAPER_CHARS:
        raise InputError(
            f"--paper: at most {MAX_PAPER_CHARS} characters", f"报纸名称太长（最多 {MAX_PAPER_CHARS} 个字）"
        )
    iso = iso_date(date, "--date", "出版日期")
    if iso is not None and len(iso) != 10:
        raise InputError(
            f"--date: give the full date (2023-01-10), got {date!r}",
            f"出版日期请写完整，例如 2023-01-10（收到“{date}”）",
        )
    if paper is None and iso is None:
        raise InputError("give --paper and/or --date", "请填写报纸名称或出版日期")
    return paper, iso


class SourceMetadata:
    """The ``source-metadata.json`` of an index folder: {source path: {"paper", "date"}}."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FILE

    def load(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):  # a damaged file must not stop an ingest (set() keeps a copy of it)
            return {}
        return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}

    def set(self, source: str, paper: str | None, date: str | None) -> None:
        """Record (merge) the paper and/or date of ``source``; written atomically."""
        with _lock:
            data = self.load()
            if not data and self.path.is_file() and self.path.stat().st_size:  # unreadable: keep what it held
                os.replace(self.path, self.path.with_name(f"{FILE}.damaged"))
            entry = data.setdefault(source, {})
            entry.update({k: v for k, v in (("paper", paper), ("date", date)) if v is not None})
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, self.path)
