"""What the browser tests share (the ``browser`` fixture is in conftest.py): Debian chromium
through Playwright (skipped without it, failing under CI=true), a page at a viewport, and asking
in the chat until the answer and its sources are shown."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
SHOWN = "#sources .turn-sources.shown"  # the sources of the answer on show
ARTIFACTS = ROOT / "test-artifacts"


def require_chromium() -> None:
    """Skip the module without /usr/bin/chromium (fail instead under CI=true)."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but /usr/bin/chromium is missing (apt-get install chromium fonts-wqy-microhei)")
    pytest.skip("no /usr/bin/chromium: apt-get install chromium fonts-wqy-microhei", allow_module_level=True)


def open_page(browser, url: str, width: int = 1366, height: int = 900):
    """The chat UI at ``url`` in a new page of ``width``×``height``, once its question box is there."""
    ARTIFACTS.mkdir(exist_ok=True)
    pg = browser.new_page(viewport={"width": width, "height": height})
    pg.goto(url, wait_until="load")
    pg.wait_for_selector("#question textarea", timeout=60000)
    return pg


def ask(pg, question: str, wait_for: str | None = None, sources: bool = True) -> str:
    """Type a question, send it, wait until the final answer (and, unless ``sources`` is False,
    its section of the sources panel) is shown."""
    before = pg.locator("#chat .message").count()
    turn = pg.locator("#sources .turn-sources[data-final]").count()  # every finished turn has one
    pg.fill("#question textarea", question)
    pg.click("#send")
    pg.wait_for_function("n => document.querySelectorAll('#chat .message').length >= n + 2", arg=before, timeout=60000)
    if wait_for:
        pg.wait_for_function("t => document.querySelector('#chat').innerText.includes(t)", arg=wait_for, timeout=60000)
    pg.wait_for_function("() => !document.querySelector('#chat').innerText.trim().endsWith('……')", timeout=60000)
    if sources:
        final = f'#sources .turn-sources[data-turn="{turn}"][data-final]'
        pg.wait_for_selector(final, state="attached", timeout=60000)
    return pg.locator("#chat .message").last.inner_text()


def dropdown_options(pg, elem_id: str) -> list[str]:
    """The choices a Gradio dropdown offers (opened by a click on its input, closed again)."""
    pg.click(f"#{elem_id} input")
    options = pg.locator(f"#{elem_id} ul[role=listbox] li[role=option]")  # this dropdown's list, not one closing
    options.first.wait_for(timeout=10000)
    texts = [t.replace("✓", "").strip() for t in options.all_inner_texts()]
    pg.locator(f"#{elem_id} input").blur()  # (a click on the still focused input would close it again)
    pg.locator(f"#{elem_id} ul[role=listbox]").wait_for(state="detached", timeout=10000)
    return texts


def choose(pg, elem_id: str, text: str) -> None:
    """Pick ``text`` in the Gradio dropdown ``#elem_id`` as a user does (click, then the option)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    exact = re.compile(rf"^\s*(?:✓\s*)?{re.escape(text)}\s*$")
    option = pg.locator(f"#{elem_id} ul[role=listbox] li[role=option]").filter(has_text=exact).first
    for attempt in range(3):  # a click before the dropdown is live opens no list: wait on the list, not on time
        pg.click(f"#{elem_id} input")
        try:
            option.wait_for(state="visible", timeout=10000)
            break
        except PlaywrightTimeout:  # close whatever opened and click again
            if attempt == 2:
                raise
            pg.keyboard.press("Escape")
    option.click()
    pg.wait_for_function(
        "([id, t]) => document.querySelector(`#${id} input`).value === t", arg=[elem_id, text], timeout=10000
    )
    pg.locator(f"#{elem_id} ul[role=listbox]").wait_for(state="detached", timeout=10000)
