"""Archive text is shown as text (issue 33 item 6): a record holding a Markdown link, an image
and a bare URL is answered in the chat with none of them live — the only links in an answer are
the product's own [n] anchors (headless Chromium, both viewports' layouts share the renderer)."""

from __future__ import annotations

import json

import pytest
from serving import served
from typer.testing import CliRunner

from rag.cli import app
from tests.browser import ask, open_page, require_chromium
from tests.conftest import FAKE_HASH

pytestmark = pytest.mark.slow
require_chromium()

TEXT = (
    "青禾县政务服务中心于3月1日启用新的办事大厅。"
    "大厅共设窗口48个，可[点击这里登录](http://login.example.invalid/steal)预约，"
    "或扫码![二维码](http://img.example.invalid/x.png)，详见www.example.invalid与https://example.invalid/a。"
)


@pytest.fixture(scope="module")
def served_links(tmp_path_factory):
    folder = tmp_path_factory.mktemp("links")
    records = folder / "links.jsonl"
    record = {
        "id": "links-1",
        "title": "政务服务中心启用新大厅",
        "text": TEXT,
        "date": "2024-03-02",
        "source": "青禾日报",
    }
    records.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    index = folder / "idx"
    got = CliRunner().invoke(
        app, ["ingest", str(records), "--index", str(index)], env={"RAG_EMBEDDING_MODEL": FAKE_HASH}
    )
    assert got.exit_code == 0, got.output
    with served(index, env={"RAG_EMBEDDING_MODEL": FAKE_HASH}) as url:
        yield url


def test_links_in_archive_text_are_not_live_in_the_chat(browser, served_links) -> None:
    pg = open_page(browser, served_links)
    try:
        shown = ask(pg, "青禾县政务服务中心新大厅共设多少个窗口？")
        assert "48" in shown
        answer = pg.locator("#chat .message").last
        hrefs = answer.locator("a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
        assert all(h.startswith("#") for h in hrefs), hrefs  # [n] anchors and the copy link only
        assert answer.locator("img").count() == 0
        shown_all = pg.locator("#chat").inner_text() + pg.locator("#sources").inner_text()
        assert "login.example.invalid" in shown_all  # shown, as text
        assert pg.locator("#sources a[href^='http'], #sources img[src^='http://img']").count() == 0
    finally:
        pg.close()
