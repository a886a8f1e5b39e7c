"""The UI's request handlers without a browser: a streamed answer resumed from a different
thread at every step (as Gradio's worker pool does) must not leave the index lock held."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.ui import ChatApp
from rag.assistant import Assistant
from rag.settings import Settings

pytestmark = pytest.mark.slow


def test_chat_stream_resumed_across_threads_releases_the_lock(sample_index_e5: Path) -> None:
    ui = ChatApp(Assistant(Settings.load(index=sample_index_e5)))
    steps = ui.chat(
        "鹭江引水工程柳溪段的输水管线有多长？", [], None, "extractive", 5, "混合（推荐）", "", "", "全部", "全部"
    )
    outputs, errors = [], []

    def step() -> None:
        try:
            outputs.append(next(steps))
        except StopIteration:
            outputs.append(None)
        except BaseException as exc:  # noqa: BLE001 - the test asserts on whatever the handler raised
            errors.append(exc)

    while not outputs or outputs[-1] is not None:
        t = threading.Thread(target=step)  # a new thread for every resumption
        t.start()
        t.join(60)
        assert not errors, errors
    messages, _, _, sources, conv, _, download = outputs[-2]
    assert "46.5公里" in messages[-1]["content"] and "来源" in sources and conv.queries == [""]
    assert download and "46.5公里" in Path(download).read_text(encoding="utf-8")  # the conversation, as Markdown
    got = []
    reader = threading.Thread(target=lambda: got.append(ui.archive.catalog()))
    reader.start()
    reader.join(10)
    assert got and got[0], "the index lock is still held after the answer"
    bad = list(ui.chat("问题", [], None, "extractive", 5, "混合（推荐）", "2023-13-01", "", "全部", "全部"))
    assert "起始日期“2023-13-01”不是真实存在的日期" in bad[-1][0][-1]["content"]  # a bad filter, in Chinese
