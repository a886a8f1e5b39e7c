"""OCR + reading order measured on rendered newspaper pages: character error rate per layout
and pages per minute.

The five seed pages' text is rendered (``bench/render_pages.py``: 2- and 3-column pages, vertical
headings on the 3-column ones, one image-only PDF and one PDF with a text layer), read back by
the product's page reader (``rag.ingest.scans``: OCR in a worker pool, reading order) and
compared with the rendered text, whitespace removed and widths folded (NFKC: the seed text mixes
``,`` and ``，``, which OCR cannot tell apart; ``cer_raw`` is without folding)::

    python bench/ocr_quality.py [SEEDS_DIR] [--workers 2] [--dpi 150] [--pdf-dpi 150] [--out DIR]
        [--questions ../shared/eval/dev.jsonl] [--rotate 2]

Prints one JSON object: per file and per layout the CER, pages and seconds, and the machine.
``--questions`` also writes ``DIR/questions.scans.jsonl``: the questions with each ``source``
renamed to its rendered scan, for ``rag eval`` over an index of ``DIR/*.tif``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cer import cer
from common import machine
from render_pages import main as render_main

ROOT = Path(__file__).resolve().parents[1]


def layout_of(path: Path) -> str:
    return {".c2": "2 columns", ".c3": "3 columns + vertical headings", ".scan": "PDF, no text layer"}.get(
        Path(path.stem).suffix, "PDF, text layer"
    )


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def write_questions(questions: Path, folder: Path, files: list[Path]) -> None:
    """The question set with each seed page's name replaced by its rendered scan's."""
    scans = {p.name.split(".")[0]: p.name for p in files if p.suffix == ".tif"}
    rows = []
    for line in questions.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        src = row.get("source")
        if isinstance(src, list):
            row["source"] = [scans.get(Path(s).stem, s) for s in src]
        elif src:
            row["source"] = scans.get(Path(src).stem, src)
        rows.append(json.dumps(row, ensure_ascii=False))
    (folder / "questions.scans.jsonl").write_text("\n".join(rows) + "\n", "utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds", nargs="?", default=str(ROOT.parent / "shared" / "corpus" / "seeds"))
    ap.add_argument("--workers", type=int, default=0, help="OCR processes (0 = one a core)")
    ap.add_argument("--pdf-dpi", type=int, default=150, help="resolution a PDF page without text is rendered at")
    ap.add_argument("--dpi", type=int, default=150, help="resolution the pages are rendered (scanned) at")
    ap.add_argument("--out", help="render into this folder (kept) instead of a temporary one")
    ap.add_argument("--questions", help="a question set over the seed pages to rename for the scans")
    ap.add_argument("--rotate", type=float, default=0.0, help="turn each page up to ± this many degrees (seeded)")
    ap.add_argument("--degrade", action="store_true", help="blur, warp, noise and JPEG 40 as well (render_pages)")
    ap.add_argument("--gutter", type=float, default=0.0, help="space between columns in body characters (render_pages)")
    ap.add_argument("--no-rules", action="store_true", help="no line printed down the gutters (render_pages)")
    ap.add_argument("--photos", action="store_true", help="photos with captions now and then (render_pages)")
    ap.add_argument("--captions-beside", action="store_true", help="with --photos: captions beside them (render_pages)")
    ap.add_argument("--qr", action="store_true", help="QR codes with labels now and then (render_pages)")
    ap.add_argument("--qr-body-type", action="store_true", help="with --qr: the labels in the body's type")
    ap.add_argument("--charts", action="store_true", help="bar and pie charts now and then (render_pages)")
    ap.add_argument("--line-charts", action="store_true", help="line charts (with --charts: all three)")
    args = ap.parse_args()
    os.environ["RAG_PDF_DPI"] = str(args.pdf_dpi)
    from rag.ingest.scans import PageReader

    folder = Path(args.out or tempfile.mkdtemp(prefix="rendered-"))
    rendered = io.StringIO()
    with contextlib.redirect_stdout(rendered):
        render_main(
            [args.seeds, "--out", str(folder), "--dpi", str(args.dpi), "--rotate", str(args.rotate)]
            + ["--degrade"] * args.degrade
            + ["--gutter", str(args.gutter)]
            + ["--no-rules"] * args.no_rules
            + ["--photos"] * args.photos
            + ["--captions-beside"] * args.captions_beside
            + ["--qr"] * args.qr
            + ["--qr-body-type"] * args.qr_body_type
            + ["--charts"] * args.charts
            + ["--line-charts"] * args.line_charts
        )
    made = json.loads(rendered.getvalue())["files"]
    turned = {Path(f["source"]).stem: f["turned"] for f in made}
    printed = {Path(f["source"]).stem: f["captions"] for f in made}
    files = sorted(p for p in folder.iterdir() if p.suffix in (".tif", ".pdf"))
    reader = PageReader(None, args.workers)
    rows = []
    started = time.perf_counter()
    for i, path in enumerate(files):
        truth = (folder / (path.name.split(".")[0] + ".truth.txt")).read_text("utf-8")
        kind = "pdf" if path.suffix == ".pdf" else "scan"
        upcoming = [(p, "pdf" if p.suffix == ".pdf" else "scan", p.name) for p in files[i + 1 :]]
        t = time.perf_counter()
        layout = reader.layout(path, kind, path.name, upcoming)
        ref = "".join(truth.split())
        edits = round(cer(nfkc(truth), nfkc(layout.text)) * len(ref))
        raw = round(cer(truth, layout.text) * len(ref))
        rows.append(
            {
                "file": path.name,
                "layout": layout_of(path),
                "pages": len(layout.pages),
                "characters": len(ref),
                "edits": edits,
                "cer": round(edits / len(ref), 4),
                "cer_raw": round(raw / len(ref), 4),
                "seconds": round(time.perf_counter() - t, 1),
                "turned": turned.get(path.name.split(".")[0], []),
                "skew_found": [p.skew for p in layout.pages],
                "caption_lines": {"printed": printed[path.name.split(".")[0]], "kept_out": len(layout.kept_out)},
            }
        )
        print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr)
    total = time.perf_counter() - started
    reader.close()
    if args.questions:
        write_questions(Path(args.questions), folder, files)
    layouts: dict[str, dict] = {}
    for r in rows:
        agg = layouts.setdefault(r["layout"], {"pages": 0, "characters": 0, "edits": 0})
        for k in ("pages", "characters", "edits"):
            agg[k] += r[k]
    for agg in layouts.values():
        agg["cer"] = round(agg["edits"] / agg["characters"], 4)
    ocr_pages = sum(r["pages"] for r in rows if r["layout"] != "PDF, text layer")
    print(
        json.dumps(
            {
                "machine": machine(),
                "workers": reader.workers,
                "dpi": args.dpi,
                "rotate": args.rotate,
                "degraded": args.degrade,
                "gutter": args.gutter,
                "rules": not args.no_rules,
                "photos": args.photos,
                "captions_beside": args.captions_beside,
                "qr": args.qr,
                "qr_body_type": args.qr_body_type,
                "charts": args.charts,
                "line_charts": args.line_charts,
                "pdf_dpi": args.pdf_dpi,
                "layouts": layouts,
                "files": rows,
                "pages": sum(r["pages"] for r in rows),
                "ocr_pages": ocr_pages,
                "seconds": round(total, 1),
                "ocr_pages_per_minute": round(60 * ocr_pages / total, 1),
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
