"""The Gradio chat UI over the façade (rag.assistant.Assistant): chat, archive, upload.

``build(assistant)`` returns the Blocks; ``serve(...)`` launches it on loopback.  Answers stream
in; [n] markers link to the sources panel, which shows each cited passage highlighted inside
its article.  An ``ask`` API endpoint returns the answer as JSON (gradio_client).
"""

from __future__ import annotations

import html
import logging
import queue
import re
import threading
from pathlib import Path
from typing import Any

import gradio as gr

from app.render import CSS, answer_html, article_html, reading_md, sources_html
from app.uploads import ALLOWED, MIB, ingest_uploads
from rag.assistant import Assistant
from rag.models import Answer, Filters, Turn
from rag.retrieval.pipeline import Retrieval
from rag.store.errors import IndexStoreError

log = logging.getLogger(__name__)

ALL = "全部"
_TAGS = re.compile(r"<[^>]+>")
_DONE = object()
RETRIEVERS = {"混合（推荐）": "hybrid", "向量": "dense", "关键词 BM25": "bm25"}
EXAMPLES = ["鹭江引水工程柳溪段的输水管线有多长？", "柳溪县首届乡村年货节开幕第一天卖了多少钱？", "柳溪县的县长是谁？"]


class ChatApp:
    """UI state that outlives one request: the assistant and a lock that takes questions one
    at a time.  Uploads do not take it: they write through a writer of their own, so questions
    are answered while an upload runs (and see its articles once committed)."""

    def __init__(self, assistant: Assistant) -> None:
        self.bot = assistant
        self.lock = threading.RLock()
        self.pages = page_images(assistant)

    # ---- helpers -----------------------------------------------------------------------
    def choices(self) -> tuple[list[str], list[str]]:
        with self.lock:
            facets = self.bot.facets()
        return [ALL] + facets["papers"], [ALL] + facets["sections"]

    def generators(self) -> list[str]:
        """extractive, plus each LLM generator that is configured (and any plugin)."""
        from rag.generation import available

        s = self.bot.settings
        configured = {"openai": bool(s.llm_model), "llamacpp": bool(s.model_path)}
        names = ["extractive"] + [n for n in available() if n != "extractive" and configured.get(n, True)]
        return names if s.generator in names else [*names, s.generator]

    @staticmethod
    def filters(since: str, until: str, paper: str, section: str) -> Filters | None:
        f = Filters.parse(
            since or None,
            until or None,
            None if paper in ("", ALL, None) else paper,
            None if section in ("", ALL, None) else section,
        )
        return None if f.is_empty() else f

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
                turns[-1].answer = html.unescape(_TAGS.sub("", content))
        for turn, query in zip(turns, queries_ or []):
            turn.query = query
        return turns

    # ---- chat ---------------------------------------------------------------------------
    def chat(
        self,
        question: str,
        messages: list[dict],
        queries_: list[str],
        generator: str,
        k: float,
        retriever: str,
        since: str,
        until: str,
        paper: str,
        section: str,
    ):
        """Stream: (chat messages, cleared box, how the question was read, sources panel,
        the standalone query of each turn)."""
        messages = list(messages or [])
        queries_ = list(queries_ or [])
        question = (question or "").strip()
        if not question:
            yield messages, "", "", gr.update(), queries_
            return
        history = self.history_of(messages, queries_)
        messages = [*messages, {"role": "user", "content": question}, {"role": "assistant", "content": "……"}]
        yield messages, "", "", gr.update(), queries_
        try:
            filters = self.filters(since, until, paper, section)
            shown, reading = "", ""
            stream = self._locked(
                lambda: self.bot.stream(
                    question, int(k), history, filters, RETRIEVERS.get(retriever, retriever), generator
                )
            )
            for piece in stream:
                if isinstance(piece, Retrieval):
                    reading = reading_md(piece.query, piece.applied)
                    yield messages, "", reading, sources_html(None, piece.hits, self.pages), queries_
                elif isinstance(piece, str):
                    shown += piece
                    messages[-1] = {"role": "assistant", "content": answer_html(shown)}
                    yield messages, "", reading, gr.update(), queries_
                elif isinstance(piece, Answer):
                    text = piece.text + (f"\n\n（{piece.notice}）" if piece.notice else "")
                    messages[-1] = {"role": "assistant", "content": answer_html(text)}
                    queries_.append(piece.query)
                    yield messages, "", reading, sources_html(piece, pages=self.pages), queries_
        except ValueError as exc:  # bad filter, empty or over-long question
            messages[-1] = {"role": "assistant", "content": f"⚠️ {exc}"}
            yield messages, "", "", gr.update(), [*queries_, ""]

    def _locked(self, make_stream):
        """Items of ``make_stream()``, produced in one worker thread that holds the lock from
        start to end.  Gradio may resume a generator in a different thread each time, so the
        lock must never be held across our own ``yield`` (an RLock would fail to release, and
        a client that goes away would leave it held)."""
        items: queue.Queue = queue.Queue()

        def produce() -> None:
            try:
                with self.lock:
                    for item in make_stream():
                        items.put(item)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                items.put(exc)
            finally:
                items.put(_DONE)

        threading.Thread(target=produce, daemon=True).start()
        while (item := items.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item

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
            raise gr.Error(f"k 必须是 1–100 的整数，收到 {str(k)[:20]}") from None
        try:
            with self.lock:
                answer = self.bot.ask(question, k, filters=self.filters(since, until, paper, section))
        except (ValueError, IndexStoreError) as exc:
            raise gr.Error(str(exc)) from None
        except Exception:
            log.exception("ask failed")
            raise gr.Error("内部错误，未能回答（详情见服务器日志）") from None
        return answer.to_dict()

    # ---- archive ------------------------------------------------------------------------
    def catalog(self) -> list[list[Any]]:
        with self.lock:
            rows = self.bot.catalog()
        return [[p or "（未知）", d or "（未知）", n] for p, d, n in rows]

    def articles(self, paper: str, date: str) -> Any:
        with self.lock:
            rows = self.bot.articles_on(None if paper in ("", ALL) else paper, None if date in ("", ALL) else date)
        labels = [(f"{h or '（无标题）'} · {p} {d} {pg}", i) for i, h, p, d, pg, _ in rows]
        return gr.update(choices=labels, value=labels[0][1] if labels else None)

    def read_article(self, article_id: int | None) -> str:
        if article_id is None:
            return article_html(None)
        with self.lock:
            return article_html(self.bot.article(int(article_id)))

    # ---- upload -------------------------------------------------------------------------
    def upload(self, files: list[str] | None, progress=gr.Progress()):
        if not files:
            return [["—", "没有文件", "请选择 .txt 或 .jsonl 文件"]], *self._refreshed()
        results = ingest_uploads(self.bot, files, progress, discard=discard_upload)
        return [r.row() for r in results], *self._refreshed()

    def _refreshed(self):
        papers, sections = self.choices()
        return gr.update(choices=papers), gr.update(choices=sections), self.catalog()


def discard_upload(path: Path) -> None:
    """Remove Gradio's temporary copy of an upload once handled (only inside its upload folder)."""
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder()).resolve()
    path = Path(path).resolve()
    if folder in path.parents:
        path.unlink(missing_ok=True)
        if path.parent != folder and not any(path.parent.iterdir()):
            path.parent.rmdir()


CACHE_SWEEP = (600, 3600)  # every 10 min, delete cached uploads older than an hour (never handled)


def build(assistant: Assistant) -> gr.Blocks:
    ui = ChatApp(assistant)
    papers, sections = ui.choices()
    with gr.Blocks(title="报刊问答", delete_cache=CACHE_SWEEP) as demo:
        gr.Markdown("## 报刊问答 · 地方报纸资料库\n提问后答案逐步显示，[1] [2] 对应右侧来源。")
        with gr.Tab("问答"):
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="对话", height=460, elem_id="chat", sanitize_html=True, buttons=["copy"])
                    reading = gr.Markdown(elem_id="reading")
                    with gr.Row():
                        box = gr.Textbox(
                            placeholder="输入问题，例如：" + EXAMPLES[0], show_label=False, scale=5, elem_id="question"
                        )
                        send = gr.Button("提问", variant="primary", scale=1, elem_id="send")
                    clear = gr.Button("新对话", size="sm", elem_id="clear")
                    gr.Examples(EXAMPLES, inputs=box, label="示例")
                with gr.Column(scale=2):
                    sources = gr.HTML(sources_html(None), elem_id="sources")
            with gr.Accordion("检索设置", open=False, elem_id="settings"):
                with gr.Row():
                    generator = gr.Dropdown(
                        ui.generators(), value=assistant.settings.generator, label="回答方式", elem_id="generator"
                    )
                    k = gr.Slider(1, 10, value=assistant.settings.k, step=1, label="段落数 k", elem_id="k")
                    retriever = gr.Radio(list(RETRIEVERS), value="混合（推荐）", label="检索方式", elem_id="retriever")
                with gr.Row():
                    since = gr.Textbox(label="起始日期", placeholder="2023-01-01", elem_id="since")
                    until = gr.Textbox(label="截止日期", placeholder="2023-01-31", elem_id="until")
                    paper = gr.Dropdown(papers, value=ALL, label="报纸", elem_id="paper")
                    section = gr.Dropdown(sections, value=ALL, label="版面", elem_id="section")
            turn_queries = gr.State([])
            inputs = [box, chatbot, turn_queries, generator, k, retriever, since, until, paper, section]
            outputs = [chatbot, box, reading, sources, turn_queries]
            send.click(ui.chat, inputs, outputs, api_visibility="private")
            box.submit(ui.chat, inputs, outputs, api_visibility="private")
            clear.click(
                lambda: ([], "", sources_html(None), []),
                None,
                [chatbot, reading, sources, turn_queries],
                api_visibility="private",
            )
        with gr.Tab("资料库"):
            table = gr.Dataframe(ui.catalog(), headers=["报纸", "日期", "文章数"], interactive=False, elem_id="catalog")
            with gr.Row():
                pick_paper = gr.Dropdown(papers, value=ALL, label="报纸")
                pick_date = gr.Textbox(label="日期（YYYY-MM-DD，可空）")
                browse = gr.Button("列出文章")
            pick = gr.Dropdown([], label="文章", elem_id="article-pick")
            article = gr.HTML(article_html(None), elem_id="article")
            browse.click(ui.articles, [pick_paper, pick_date], pick, api_visibility="private")
            pick.change(ui.read_article, pick, article, api_visibility="private")
        with gr.Tab("上传"):
            gr.Markdown(
                f"上传版面：文字、扫描图（自动识别文字）、PDF 或电子报网页（{'、'.join(ALLOWED)}，每个不超过 "
                f"{assistant.settings.max_upload_mb} MB），添加到当前资料库；"
                "添加后即可提问，无需重启。"
            )
            files = gr.File(file_count="multiple", file_types=list(ALLOWED), label="文件", elem_id="upload-files")
            add = gr.Button("添加到资料库", variant="primary", elem_id="upload-add")
            result = gr.Dataframe(headers=["文件", "结果", "说明"], interactive=False, elem_id="upload-result")
            add.click(ui.upload, files, [result, paper, section, table], api_visibility="private")
        gr.api(ui.ask_api, api_name="ask")
    return demo


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 7860, prevent_thread_lock: bool = False):
    """Launch on ``host`` and return the Blocks; uploads are capped at ``max_upload_mb`` by Gradio itself (HTTP 413
    before anything is kept) and ``settings.auth`` ("user:password") asks for a login."""
    demo = build(assistant)
    demo.queue(default_concurrency_limit=4)
    s = assistant.settings
    demo.launch(
        server_name=host,
        server_port=port,
        css=CSS,
        footer_links=["api"],
        prevent_thread_lock=prevent_thread_lock,
        show_error=True,
        quiet=True,
        max_file_size=s.max_upload_mb * MIB,
        allowed_paths=[str(page_images(assistant))],  # whole pages of the cited scans (app.page_crop)
        auth=parse_auth(s.auth),
        auth_message="报刊问答：请登录",
    )
    return demo  # (reached with prevent_thread_lock: the caller closes it)


def page_images(assistant: Assistant) -> Path:
    """Where whole-page JPEGs of cited scans are written (and served from)."""
    return assistant.location.folder / "page-images"


def parse_auth(value: str) -> tuple[str, str] | None:
    """``user:password`` → Gradio's auth pair; "" → no login.  ValueError for anything else."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("auth must look like user:password (RAG_AUTH or --auth)")
    return user, password
