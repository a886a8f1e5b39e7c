"""The chat tab's request handlers (no layout: app.ui builds the page around them): a question
streamed into an answer with its sources, the loading state, filters that left nothing, the
JSON ``ask`` API and uploads."""

from __future__ import annotations

import html
import logging
import re
import threading
from pathlib import Path
from typing import Any

import gradio as gr

from app.archive_tab import ALL, ArchiveTab, chosen
from app.conversation import Conversation, export_markdown
from app.render import answer_html, as_text, no_sources, reading_md, sources_html, turn_sources
from app.uploads import ingest_uploads
from rag.archive import IndexStoreError
from rag.assistant import Assistant
from rag.filter_check import active, describe, stated
from rag.models import Answer, Filters, InputError, Turn, user_message

log = logging.getLogger(__name__)

_TAGS = re.compile(r"<[^>]+>")
_TOOLS = re.compile(r'<div class="answer-tools">.*?</div>', re.S)
RETRIEVERS = {"混合（推荐）": "hybrid", "向量": "dense", "关键词 BM25": "bm25"}
GENERATORS = {
    "extractive": "摘录原文（不调用大模型）",
    "openai": "大模型（OpenAI 兼容接口）",
    "llamacpp": "本地大模型（llama.cpp）",
}
LOADING = '<div class="loading">正在加载模型…（首次启动约需十几秒，可以先输入问题）</div>'
EMPTY_QUESTION = "请先输入问题，再点“提问”。"
NOTHING_TO_DOWNLOAD = "还没有可以下载的对话：先提一个问题。"
READY_WAIT = 600  # seconds a question waits for the models at most
FILTER_INPUTS = {"date": ("since", "until"), "paper": ("paper",), "section": ("section",)}
STATED_CHIPS = ("date", "paper", "section")  # the chips of filters a question states, in this order


class ChatApp:
    """UI state that outlives one request: the assistant and whether the models are loaded.
    Requests run at once, each in a worker thread of Gradio's (``settings.concurrency`` of
    them for questions): the assistant reads the index from any number of threads, and
    uploads and re-tagging write through a writer of their own, one at a time, while
    questions go on (rag.assistant)."""

    def __init__(self, assistant: Assistant) -> None:
        self.bot = assistant
        self.pages = page_images(assistant)
        self.archive = ArchiveTab(assistant)
        self.ready = threading.Event()
        self.ready.set()  # serve() clears it while warming up

    # ---- start-up -------------------------------------------------------------------------
    def start_warming(self) -> None:
        """Load the models in the background; questions wait for it (``ready``)."""
        self.ready.clear()

        def warm() -> None:
            try:
                self.bot.warm()
            except Exception:  # a question will then report the problem itself
                log.exception("warming up failed")
            finally:
                self.ready.set()

        threading.Thread(target=warm, name="warm-up", daemon=True).start()

    def status(self):
        """(loading notice, the timer polling for it): both go away once ready."""
        if self.ready.is_set():
            return gr.update(value="", visible=False), gr.Timer(active=False)
        return gr.update(value=LOADING, visible=True), gr.Timer(active=True)

    def loaded(self):
        """The timer's tick: the loading notice and the timer, and once the models are in the
        examples checked against their articles (the page was built with unchecked ones)."""
        if not self.ready.is_set():
            return *self.status(), gr.update()
        return *self.status(), gr.update(samples=[[q] for q in self.bot.examples()])

    def on_load(self):
        """Per page load: the loading notice, and the archive as it is now (examples, paper and
        section choices, the 资料库 catalog); while the models load, those as built (a page
        load must not wait for the warm-up)."""
        if not self.ready.is_set():
            return *self.status(), *[gr.update()] * 5
        papers, sections, catalog = self.archive.papers(), self.sections(), self.archive.catalog()
        examples = self.bot.examples()
        return (
            *self.status(),
            gr.update(samples=[[q] for q in examples]),
            gr.update(choices=papers),
            gr.update(choices=papers),
            gr.update(choices=sections),
            catalog,
        )

    def sections(self) -> list[str]:
        return [ALL] + self.bot.archive.facets()["sections"]

    # ---- helpers -----------------------------------------------------------------------
    def generators(self) -> list[tuple[str, str]]:
        """(Chinese label, name): extractive, each LLM generator that is configured, plugins."""
        from rag.assistant import generators_available as available

        s = self.bot.settings
        configured = {"openai": bool(s.llm_model), "llamacpp": bool(s.model_path)}
        names = ["extractive"] + [n for n in available() if n != "extractive" and configured.get(n, True)]
        names = names if s.generator in names else [*names, s.generator]
        return [(GENERATORS.get(n, n), n) for n in names]

    @staticmethod
    def filters(since: str, until: str, paper: str, section: str, unstated: tuple[str, ...] = ()) -> Filters | None:
        f = Filters.parse(
            since or None,
            until or None,
            chosen(paper) or None,
            chosen(section) or None,
        )
        f.unstated = tuple(unstated)
        return None if f.is_empty() and not f.unstated else f

    @staticmethod
    def history_of(messages: list[dict], queries_: list[str]) -> list[Turn]:
        """Turns from the chat messages (Gradio 6 sends content as a list of text parts) and
        the standalone queries kept in session state, one per user turn."""
        turns: list[Turn] = []
        for m in messages:
            if not isinstance(m, dict):
                continue
            content = m.get("content")
            if isinstance(content, list):
                content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
            if not isinstance(content, str):
                continue
            if m.get("role") == "user":
                turns.append(Turn(content))
            elif turns and m.get("role") == "assistant":
                turns[-1].answer = html.unescape(_TAGS.sub("", _TOOLS.sub("", content)))
        for turn, query in zip(turns, queries_ or []):
            turn.query = query
        return turns

    # ---- chat ---------------------------------------------------------------------------
    def chat(
        self,
        question: str,
        messages: list[dict],
        conv: Conversation | None,
        generator: str,
        k: float,
        retriever: str,
        since: str,
        until: str,
        paper: str,
        section: str,
    ):
        """Stream (chat messages, cleared box, how the question was read, sources panel, the
        conversation state, the drop-a-filter button, the Markdown download)."""
        messages = list(messages or [])
        conv = conv.copy() if isinstance(conv, Conversation) else Conversation()
        question = (question or "").strip()
        keep = gr.update()
        if not question:  # said under the chat, the conversation left as it is
            yield messages, "", EMPTY_QUESTION, keep, conv, keep, keep
            return
        turn = len(conv.sections)
        history = self.history_of(messages, conv.queries)
        unstated, conv.unstated, conv.last_question = conv.unstated, (), question
        messages = [*messages, {"role": "user", "content": question}, {"role": "assistant", "content": "……"}]
        conv.blocked = None
        hide = gr.update(visible=False)
        if not self.ready.is_set():
            messages[-1] = {"role": "assistant", "content": LOADING}
            yield messages, "", "", keep, conv, hide, keep
            self.ready.wait(READY_WAIT)
            messages[-1] = {"role": "assistant", "content": "……"}
        yield messages, "", "", keep, conv, hide, keep
        try:
            filters = self.filters(since, until, paper, section, unstated)
            shown = ""
            how = RETRIEVERS.get(retriever, retriever)
            answer = self.bot.stream(question, int(k), history, filters, how, generator)
            found = answer.retrieval
            reading = reading_md(found.query, found.applied)
            live = turn_sources(turn, None, found.hits, self.pages)
            yield messages, "", reading, sources_html([*conv.sections, live]), conv, hide, keep
            for piece in answer.tokens():
                shown += piece
                messages[-1] = {"role": "assistant", "content": answer_html(shown, turn)}
                yield messages, "", reading, keep, conv, hide, keep
            yield self._final(answer.answer(), question, turn, messages, conv, reading, filters)
        except (InputError, ValueError, IndexStoreError) as exc:  # bad filter, empty or over-long question
            messages[-1] = {"role": "assistant", "content": f"⚠️ {as_text(chat_error(exc))}"}
            conv.queries.append("")
            conv.sections.append(no_sources(turn))
            yield messages, "", "", sources_html(conv.sections), conv, hide, keep

    def _final(self, answer: Answer, question: str, turn: int, messages, conv: Conversation, reading, filters):
        """The outputs for a finished answer; a filter that matches nothing is named and offered to drop."""
        text = answer.text + (f"\n\n（{answer.notice}）" if answer.notice else "")
        drop = gr.update(visible=False)
        conv.stated = list(stated(answer.applied).values())
        check = self.bot.check_filters(filters) if answer.refused and not answer.hits and filters else None
        if check:  # a filter matches no article at all
            text = check.message
            conv.blocked = (check.blocking, question)
            what = "、".join(describe(n, filters) for n in check.blocking)
            drop = gr.update(value=f"去掉“{what}”再问", visible=True)
        elif kinds := self._in_the_way(answer, filters, conv.stated):  # a filter left nothing that answers
            what = filter_words(kinds[0], filters, conv.stated)
            text = f"在“{what}”的范围内没有找到可以回答这个问题的内容；去掉这个限定，资料库里有可以回答的内容。"
            conv.blocked = (kinds, question)
            drop = gr.update(value=f"去掉“{what}”再问", visible=True)
        content = answer_html(text, turn, copyable=bool(answer.citations), confidence=answer.confidence)
        messages[-1] = {"role": "assistant", "content": content}
        conv.queries.append(answer.query)
        conv.sections.append(turn_sources(turn, answer, pages=self.pages))
        conv.add_markdown(question, answer)
        return messages, "", reading, sources_html(conv.sections), conv, drop, export_markdown(conv)

    def _in_the_way(self, answer: Answer, filters: Filters | None, lines: list[str]) -> list[str]:
        """For a refusal under filters: the first filter kind that, dropped, lets it be answered."""
        if not answer.refused or not (lines or active(filters)):
            return []
        return self.bot.filters_in_the_way(answer, filters)[:1]

    @staticmethod
    def download_note(conv: Conversation | None):
        """下载对话 before any answer downloads nothing: say why under the chat."""
        return NOTHING_TO_DOWNLOAD if not (isinstance(conv, Conversation) and conv.markdown) else gr.update()

    @staticmethod
    def drop_blocked(conv: Conversation | None):
        """Clear the filters that left nothing (chosen ones in their boxes, ones the question
        stated for its next asking) and put the question back in the box."""
        conv = conv.copy() if isinstance(conv, Conversation) else Conversation()
        blocking, question = conv.blocked or ([], "")
        conv.unstated = tuple(blocking)
        cleared = {name for b in blocking for name in FILTER_INPUTS[b]}
        since, until = ("" if "since" in cleared else gr.update()), ("" if "until" in cleared else gr.update())
        paper = ALL if "paper" in cleared else gr.update()
        section = ALL if "section" in cleared else gr.update()
        return since, until, paper, section, gr.update(visible=False), question, conv

    @staticmethod
    def drop_stated(kind: str, conv: Conversation | None):
        """A chip of a filter the question stated, removed: the question asked again without it."""
        conv = conv.copy() if isinstance(conv, Conversation) else Conversation()
        conv.unstated = (kind,)
        return conv, conv.last_question

    def ask_api(
        self, question: str, k: int = 5, since: str = "", until: str = "", paper: str = "", section: str = ""
    ) -> dict[str, Any]:
        """JSON answer for API clients: text, citations with passages, how it was read."""
        if not isinstance(question, str):
            raise gr.Error("question 必须是一段文字（字符串）")
        for name, value in (("since", since), ("until", until), ("paper", paper), ("section", section)):
            if value is not None and not isinstance(value, str):
                raise gr.Error(f"{name} 必须是字符串")
        try:
            k = int(k)
        except (TypeError, ValueError, OverflowError):
            raise gr.Error(f"k 必须是 1–{self.bot.settings.max_k} 的整数，收到 {str(k)[:20]}") from None
        if not self.ready.wait(READY_WAIT):
            raise gr.Error("模型还在加载，请稍后再试")
        try:
            answer = self.bot.ask(question, k, filters=self.filters(since, until, paper, section))
        except (ValueError, IndexStoreError) as exc:
            raise gr.Error(chat_error(exc)) from None
        except Exception:
            log.exception("ask failed")
            raise gr.Error("内部错误，未能回答（详情见服务器日志）") from None
        return answer.to_dict()

    # ---- upload -------------------------------------------------------------------------
    def upload(self, files: list[str | dict] | None, progress=gr.Progress()):
        """Add the uploaded files: Gradio's file data (the event skips its preprocessing, which
        refuses a whole batch for one name and leaves an empty temporary file per upload)."""
        if not files:
            return [["—", "没有文件", "请先选择要添加的文件"]], *self.refreshed()
        results = ingest_uploads(self.bot, files, progress, discard=discard_upload)
        return [r.row() for r in results], *self.refreshed()

    def refreshed(self):
        """The paper and section choices and the 资料库 catalog as the archive is now."""
        papers = gr.update(choices=self.archive.papers())
        return papers, gr.update(choices=self.sections()), self.archive.catalog(), papers


def chat_error(exc: BaseException) -> str:
    """A failed question in plain Chinese: the input's problem, or that the archive has one
    (its English details are for whoever looks after the index)."""
    if isinstance(exc, IndexStoreError):
        return f"资料库出了问题，暂时无法回答，请联系管理员（运行 rag stats 查看；详情：{exc}）"
    return user_message(exc)


def stated_chip_updates(conv: Conversation | None):
    """The removable chips of the filters the last question stated (one per kind, in
    STATED_CHIPS order; hidden when it stated none of that kind)."""
    lines = stated(conv.stated if isinstance(conv, Conversation) else [])
    return [
        gr.update(value=f"问题中的{lines[kind]} ✕", visible=True) if kind in lines else gr.update(visible=False)
        for kind in STATED_CHIPS
    ]


def filter_words(kind: str, filters: Filters | None, lines: list[str]) -> str:
    """A filter kind as the user set it (日期 2023-01-01 至 2023-01-31) or the question stated it."""
    if filters is not None and kind in active(filters):
        return describe(kind, filters)
    return stated(lines).get(kind, kind)


def chip_updates(since: str, until: str, paper: str, section: str):
    """The removable chips of the active filters (hidden when a filter is not set)."""
    shown = (
        ("起始日期", since),
        ("截止日期", until),
        ("报纸", chosen(paper)),
        ("版面", chosen(section)),
    )
    return [gr.update(value=f"{label}：{(v or '').strip()} ✕", visible=bool((v or "").strip())) for label, v in shown]


def page_images(assistant: Assistant) -> Path:
    """Where whole-page JPEGs of cited scans are written (and served from)."""
    return assistant.location.folder / "page-images"


def discard_upload(path: Path) -> None:
    """Remove Gradio's temporary copy of an upload once handled (only inside its upload folder)."""
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder()).resolve()
    path = Path(path).resolve()
    if folder in path.parents:
        path.unlink(missing_ok=True)
        if path.parent != folder and not any(path.parent.iterdir()):
            path.parent.rmdir()
