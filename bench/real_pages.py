"""Real newspaper pages (tests/data/real, each with its source, licence and a hand transcription
of a stretch): read back with the product's page reader, the stretch's CER against the text,
the page notes, and the paper/date/page the segmenter finds.

    python bench/real_pages.py [FOLDER]

Prints one JSON object.  The CER is the stretch's edit distance to the best-matching part of
the page text (``render_pages.stretch_cer``), whitespace ignored, nothing folded: a traditional
character read as its simplified form counts as an error.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from cer import stretch_cer
from common import machine

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=ROOT / "tests" / "data" / "real")
    args = ap.parse_args()
    from rag.ingest.loaders import file_digest
    from rag.ingest.scans import PageReader
    from rag.ingest.segment import segment_page

    reader = PageReader(None, workers=1)
    rows = []
    for truth in sorted(args.folder.glob("*.truth.txt")):
        stem = truth.name[: -len(".truth.txt")]
        page = next(p for p in truth.parent.iterdir() if p.name.startswith(stem + ".") and p != truth)
        started = time.perf_counter()
        layout = reader.layout(page, "scan", file_digest(page)[0])
        articles = segment_page(layout.text, page.name)
        reference = truth.read_text("utf-8")
        rows.append(
            {
                "file": page.name,
                "stretch_characters": len("".join(reference.split())),
                "cer": round(stretch_cer(reference, layout.text), 4),
                "turned": [p.skew for p in layout.pages],
                "notes": [str(n) for n in layout.notes],
                "articles": len(articles),
                "headlines": [a.headline for a in articles],
                "paper_date_page": sorted({(a.paper, a.date, a.page) for a in articles}),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    reader.close()
    print(json.dumps({"machine": machine(), "pages": rows}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
