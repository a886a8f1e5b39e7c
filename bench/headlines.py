"""Headlines read from scans against those of the same pages as text (issue 34 item 4).

    python bench/headlines.py TEXT_INDEX SCAN_INDEX

``TEXT_INDEX`` holds the seed pages ingested as ``.txt`` (``index/seeds``), ``SCAN_INDEX`` the
same pages rendered and OCR'd (``make eval-scans`` builds ``index/seeds-scans`` and
``index/seeds-degraded``).  Files are paired by their stem (``000_…``).  A text headline is
*found* when an article of the scan holds a headline within 10 % CER of it (whitespace
ignored, so a headline set over two lines counts once); a scan headline is *right* when it
matches a text headline of its page.  Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
from collections import defaultdict
from pathlib import Path

from cer import cer
from common import machine

MATCH = 0.10  # CER within which two headlines are the same


def headlines(index: Path) -> dict[str, list[str]]:
    """Each ingested file's stem (up to its first dot) → its articles' headlines (blank ones too)."""
    with sqlite3.connect(index / "rag.sqlite") as db:
        rows = db.execute("SELECT s.name, a.headline FROM articles a JOIN sources s ON s.id = a.source_id").fetchall()
    out: dict[str, list[str]] = defaultdict(list)
    for name, headline in rows:
        out[name.split(".")[0]].append(re.sub(r"\s+", "", headline))
    return out


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and cer(a, b) <= MATCH


def compare(text: dict[str, list[str]], scan: dict[str, list[str]]) -> dict:
    rows, found, right, wanted, given = [], 0, 0, 0, 0
    for stem in sorted(text):
        truth = [h for h in text[stem] if h]
        read = scan.get(stem, [])
        hits = [h for h in truth if any(_same(h, r) for r in read)]
        good = [r for r in read if r and any(_same(h, r) for h in truth)]
        rows.append(
            {
                "file": stem,
                "articles": {"text": len(text[stem]), "scan": len(read)},
                "headlines": {"text": len(truth), "found": len(hits), "scan": sum(bool(r) for r in read)},
                "scan_headlines_right": len(good),
                "missed": [h for h in truth if h not in hits],
                "wrong": [r for r in read if r and r not in good],
            }
        )
        found, right, wanted, given = (
            found + len(hits),
            right + len(good),
            wanted + len(truth),
            given + sum(map(bool, read)),
        )
    return {
        "text_headlines_found": round(found / wanted, 3) if wanted else None,
        "scan_headlines_right": round(right / given, 3) if given else None,
        "counts": {"text": wanted, "found": found, "scan": given, "right": right},
        "files": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("text_index", type=Path)
    ap.add_argument("scan_index", type=Path)
    args = ap.parse_args()
    result = compare(headlines(args.text_index), headlines(args.scan_index))
    print(json.dumps({"machine": machine(), **result}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
