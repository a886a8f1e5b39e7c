"""A cited passage read from a page scan, in a real browser (Playwright driving Debian chromium)
and through gradio_client: the top of the sample page is rendered as one 2-column PNG, ingested
through OCR with the hash embedder, and served by `rag serve`; the source card shows the crop of
the scan with the quoted lines highlighted and links the whole page as a JPEG."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from serving import served

from rag.embeddings.fake import FAKE_HASH
from tests.browser import ARTIFACTS, ask, open_page, require_chromium
from tests.conftest import ROOT, SAMPLE

SHOT = ARTIFACTS / "page-crop-source-card.png"
HEAD_CHARS = 900  # the first blocks of page_01.txt, up to about this many characters
QUESTION = "柳溪县2023年地区生产总值是多少？"
ANSWER = "236.8"
pytestmark = pytest.mark.slow
require_chromium()


def head_blocks(text: str, limit: int = HEAD_CHARS) -> str:
    """The whole blocks (runs of lines between blank lines) at the start of ``text`` that fit in
    ``limit`` characters (at least one)."""
    kept: list[str] = []
    size = 0
    for block in re.split(r"\n\s*\n", text.strip()):
        if kept and size + len(block) > limit:
            break
        kept.append(block)
        size += len(block) + 2
    return "\n\n".join(kept)


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> dict:
    """scan_01.png (the top of sample page 01 as one 2-column page) ingested into a new index."""
    import importlib.util

    from rag.ingest import ocr

    if importlib.util.find_spec("rapidocr_onnxruntime") is None:
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI=true but rapidocr-onnxruntime is missing (pip install '.[ocr]')")
        pytest.skip(ocr.INSTALL_HINT)
    from render_pages import render_text, save_png

    folder = tmp_path_factory.mktemp("scan")
    pages = render_text(head_blocks((SAMPLE / "page_01.txt").read_text(encoding="utf-8")), columns=2)
    page = pages[0]  # one page: the rest (if any) is left out, and so is its text
    assert ANSWER in page.truth_text, "the question's answer is not on the rendered page"
    png = folder / "scan_01.png"
    save_png(page, png)
    index = folder / "idx"
    env = {**os.environ, "RAG_EMBEDDING_MODEL": FAKE_HASH}
    done = subprocess.run(
        [sys.executable, "-c", "from rag.cli import main; main()", "ingest", str(png), "--index", str(index), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["files_ingested"] == 1 and report["articles"] >= 1, report
    return {"png": png, "index": index, "size": page.image.size}


@pytest.fixture(scope="module")
def server(scan: dict):
    try:
        with served(scan["index"], env={"RAG_EMBEDDING_MODEL": FAKE_HASH}) as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def page(browser, server):
    pg = open_page(browser, server, 1366, 768)
    yield pg
    pg.close()


def inside(inner: dict, outer: dict, slack: float = 1.0) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


def test_source_card_shows_the_highlighted_crop_and_links_the_whole_page(page) -> None:
    answer = ask(page, QUESTION, wait_for=ANSWER)
    assert ANSWER in answer and "[1]" in answer
    card = page.locator("#sources .source").first
    image = card.locator(".page-crop .crop-image")
    image.wait_for(state="visible", timeout=30000)
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('#sources .source .crop-image');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=30000,
    )
    assert image.evaluate("i => i.naturalWidth") > 0 and image.evaluate("i => i.naturalHeight") > 0
    frame = image.bounding_box()
    assert frame and frame["width"] > 0 and frame["height"] > 0
    marks = card.locator(".page-crop .crop-mark")
    assert marks.count() >= 1
    for k in range(marks.count()):
        box = marks.nth(k).bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, f"crop-mark {k} is not laid out"
        assert inside(box, frame), f"crop-mark {k} {box} lies outside the crop image {frame}"
    link = card.locator("a.page-link")
    assert "第1页" in link.inner_text()
    href = link.evaluate("a => a.href")  # absolute, resolved by the browser
    got = page.request.get(href)
    assert got.status == 200, f"{href} -> {got.status}: {got.text()[:300]}"
    assert got.headers.get("content-type", "").startswith("image/jpeg"), got.headers
    assert got.body()[:3] == b"\xff\xd8\xff"  # a JPEG indeed
    card.screenshot(path=str(SHOT))
    print(f"source card screenshot: {SHOT}")


def test_api_citations_carry_the_page_image_and_boxes(server, scan) -> None:
    from gradio_client import Client

    got = Client(server, verbose=False).predict(QUESTION, 5, "", "", "", "", api_name="/ask")
    assert ANSWER in got["answer"] and got["citations"]
    width, height = scan["size"]
    for cite in got["citations"]:
        image = cite.get("page_image")
        assert isinstance(image, dict), cite
        assert image["file"].endswith("scan_01.png") and image["page"] == 1
        assert image["width"] > 0 and image["height"] > 0
        assert (image["width"], image["height"]) == (width, height)  # the PNG's own pixels
        boxes = cite.get("boxes")
        assert boxes, cite
        for x0, y0, x1, y1 in boxes:
            assert 0 <= x0 < x1 <= image["width"] and 0 <= y0 < y1 <= image["height"], (x0, y0, x1, y1)
