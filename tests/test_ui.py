"""The chat UI in a real browser (Playwright driving Debian chromium) and through gradio_client,
against `rag serve` started on loopback over a copy of the seed-page index."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from serving import served

from tests.browser import ARTIFACTS, SHOWN, ask, open_page, require_chromium
from tests.conftest import ROOT, UPLOAD_PAGE, copy_index

pytestmark = pytest.mark.slow
require_chromium()


SERVED: dict[str, Path] = {}


@pytest.fixture(scope="module")
def server(seeds_index: Path, tmp_path_factory):
    index = tmp_path_factory.mktemp("ui") / "idx"
    copy_index(seeds_index, index)
    SERVED["index"] = index
    SERVED["gradio"] = tmp_path_factory.mktemp("gradio-temp")  # where Gradio keeps uploads
    try:
        with served(index, env={"GRADIO_TEMP_DIR": str(SERVED["gradio"])}) as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def page(browser, server):
    pg = open_page(browser, server)
    yield pg
    pg.close()


def test_ask_streams_a_cited_answer_and_shows_the_passage(page) -> None:
    answer = ask(page, "孟州市人大常委会主任是谁？", wait_for="刘继承")
    assert "刘继承" in answer and "[1]" in answer
    source = page.locator(f"{SHOWN} .source").first
    assert "焦作日报" in source.inner_text() and "2023-01-10" in source.inner_text()
    assert "刘继承" in source.locator("mark").first.inner_text()  # the quoted sentence, highlighted
    page.locator("#chat a.cite").first.click()  # the marker links to its source card
    assert page.evaluate("location.hash") == "#src-0-1"
    source.locator("summary").click()  # open the whole article
    assert source.locator(".article-text").is_visible()
    page.screenshot(path=str(ARTIFACTS / "ui-answer.png"), full_page=True)


def test_follow_up_is_rewritten_and_shown(page) -> None:
    ask(page, "孟州市首届年货节在哪里举办？", wait_for="文化广场")
    ask(page, "它持续到哪一天？")
    assert "理解为： 孟州市首届年货节持续到哪一天？" in page.locator("#reading").inner_text()
    page.screenshot(path=str(ARTIFACTS / "ui-followup.png"), full_page=True)


def test_a_date_filter_changes_the_sources(page) -> None:
    ask(page, "惠济区设置了多少个三级网格？", wait_for="672")
    unfiltered = page.locator("#sources").inner_text()
    assert "惠济" in unfiltered
    page.click("#settings")
    page.fill("#since textarea, #since input", "2023-01-01")
    page.fill("#until textarea, #until input", "2023-01-31")
    answer = ask(page, "惠济区设置了多少个三级网格？")
    filtered = page.locator("#sources").inner_text()
    assert filtered != unfiltered and "672" not in answer
    assert "在“日期 2023-01-01 至 2023-01-31”的范围内没有找到" in answer, answer  # the filter named (issue 35)
    assert "最接近的段落" in filtered  # a refusal keeps the passages
    metas = page.locator(f"{SHOWN} .source-meta").all_inner_texts()
    assert metas and all("2023-01-10" in m for m in metas)  # only the dated 焦作日报 pages
    page.screenshot(path=str(ARTIFACTS / "ui-filtered.png"), full_page=True)


BATCH_PAGE = """青禾日报  2024年7月2日  星期二  A06  乡村振兴
栖霞村建起共享农机站
本报讯（通讯员 叶知秋）6月28日，栖霞村共享农机站正式启用，
站内配有插秧机6台、无人植保机3架，村民可按小时租用。
"""


def test_a_batch_with_bad_files_adds_the_good_ones_and_leaves_no_temporary_files(page) -> None:
    """Issue 33 items 8 and 16, through Gradio's own upload route and event: a dot-file name and
    a disallowed type do not sink the batch, each is reported in Chinese, and nothing of the
    batch stays in Gradio's temporary folder."""
    good = BATCH_PAGE.encode("utf-8")
    before = {p for p in SERVED["gradio"].rglob("*") if p.is_file()}  # (other tests' downloads)
    page.get_by_role("tab", name="上传").click()
    page.locator("#upload-files input[type=file]").set_input_files(
        [
            {"name": ".txt", "mimeType": "text/plain", "buffer": good},
            {"name": "说明.docx", "mimeType": "application/octet-stream", "buffer": b"PK\x03\x04 not a page"},
        ]
    )
    page.click("#upload-add")
    page.wait_for_function(
        "() => document.querySelector('#upload-result').innerText.includes('只接受')", timeout=120000
    )
    result = page.locator("#upload-result").inner_text()
    assert "已添加" in result and "已拒绝" in result and "只接受" in result, result
    assert page.locator(".toast-body").all_inner_texts() == []  # no English toast from the browser side
    kept = [p for p in SERVED["gradio"].rglob("*") if p.is_file() and p not in before]
    assert kept == [], kept  # no empty tmpXXXX per upload, no copy of the batch


def test_upload_a_page_then_ask_about_it(page, tmp_path: Path) -> None:
    upload = tmp_path / "砚山 新闻 0604.txt"
    upload.write_text(UPLOAD_PAGE, encoding="utf-8")
    page.get_by_role("tab", name="上传").click()
    page.locator("#upload-files input[type=file]").set_input_files([str(upload)])
    page.click("#upload-add")
    page.wait_for_function(
        "() => document.querySelector('#upload-result').innerText.includes('已添加')", timeout=120000
    )
    result = page.locator("#upload-result").inner_text()
    assert "砚山 新闻 0604.txt" in result and "1 篇文章" in result
    page.screenshot(path=str(ARTIFACTS / "ui-upload.png"), full_page=True)
    page.get_by_role("tab", name="问答").click()
    answer = ask(page, "白石村渔光互补项目的装机容量是多少？", wait_for="2.4")
    assert "2.4兆瓦" in answer
    card = page.locator(f"{SHOWN} .source").first
    assert "砚山镇首座光伏" in card.locator(".source-head").inner_text()
    assert "青禾日报" not in card.locator(".source-head").inner_text()  # the masthead is the paper, not the headline
    assert card.locator(".source-meta").inner_text().startswith("青禾日报 · 2024-06-04 · A05版")


def test_archive_tab_lists_papers_and_reads_an_article(page) -> None:
    page.get_by_role("tab", name="资料库").click()
    catalog = page.locator("#catalog").inner_text()
    assert "焦作日报" in catalog and "2023-01-10" in catalog
    page.get_by_role("button", name="列出文章").click()
    page.wait_for_function("() => document.querySelector('#article .source') !== null", timeout=30000)
    assert len(page.locator("#article .article-text").inner_text()) > 50
    page.screenshot(path=str(ARTIFACTS / "ui-archive.png"), full_page=True)


def test_api_endpoint_with_gradio_client(server) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    got = client.predict("孟州市人大常委会主任是谁？", 5, "", "", "", "", api_name="/ask")
    assert "刘继承" in got["answer"] and got["citations"]
    assert got["citations"][0]["paper"] == "焦作日报" and got["citations"][0]["quote"]
    with pytest.raises(Exception, match="起始日期“2023-13-01”不是真实存在的日期"):  # a clear error, in Chinese
        client.predict("孟州市人大常委会主任是谁？", 5, "2023-13-01", "", "", "", api_name="/ask")


def test_serve_refuses_a_missing_index(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    result = CliRunner().invoke(app, ["serve", "--index", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "no index at" in result.output


def test_twenty_concurrent_questions_while_another_process_ingests(server, tmp_path: Path) -> None:
    """20 simultaneous API questions, all answered right, while `rag ingest` adds a page to the
    served index from another process; afterwards the server answers from the new page."""
    import statistics
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    cases = [
        ("孟州市人大常委会主任是谁？", "刘继承"),
        ("惠济区设置了多少个三级网格？", "672"),
        ("二七塔商圈一共被划成了多少个专属网格？", "24"),
        ("孟州市首届年货节在哪里举办？", "文化广场"),
    ]
    new_page = tmp_path / "石桥新闻.txt"
    new_page.write_text(
        UPLOAD_PAGE.replace("砚山镇", "石桥镇").replace("白石村", "青石村").replace("2.4兆瓦", "3.6兆瓦"),
        encoding="utf-8",
    )
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from rag.cli import main; main()",
            "ingest",
            str(new_page),
            "--index",
            str(SERVED["index"]),
        ],
        cwd=ROOT,
        env=dict(os.environ),  # the child imports rag, which makes it offline
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def one(i: int):
        question, expected = cases[i % len(cases)]
        t0 = time.perf_counter()
        got = Client(server, verbose=False).predict(question, 5, "", "", "", "", api_name="/ask")
        return expected in got["answer"] and bool(got["citations"]), time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    assert writer.wait(300) == 0, writer.stderr.read()[-2000:]
    seconds = sorted(s for _, s in results)
    p95 = seconds[min(len(seconds) - 1, round(0.95 * len(seconds)) - 1)]
    print(
        f"20 concurrent /ask: all correct={all(ok for ok, _ in results)}, "
        f"median {statistics.median(seconds):.2f} s, p95 {p95:.2f} s"
    )
    assert all(ok for ok, _ in results)
    got = Client(server, verbose=False).predict(
        "青石村渔光互补项目的装机容量是多少？", 5, "", "", "", "", api_name="/ask"
    )
    assert "3.6兆瓦" in got["answer"]  # the served index picked up the other process's commit
