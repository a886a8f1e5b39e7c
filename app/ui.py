"""The Gradio chat UI over the façade (rag.assistant.Assistant): chat, archive, upload.

``build(assistant)`` returns the Blocks; ``serve(...)`` loads the models (the page says
正在加载模型… until then) and launches it on loopback.  Answers stream in; [n] markers link to
that answer's sources, which stay in the panel (app/chat.js shows and scrolls them).  An ``ask``
API endpoint returns the answer as JSON (gradio_client).  Questions (chat and ``ask``) share
one queue answering ``settings.concurrency`` at once; uploads and re-tagging take turns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from app.archive_tab import ALL
from app.chat_app import (
    LOADING,
    RETRIEVERS,
    STATED_CHIPS,
    ChatApp,
    chip_updates,
    page_images,
    stated_chip_updates,
)
from app.conversation import Conversation
from app.login import LoginGuard
from app.render import CSS, article_html, sources_html
from app.uploads import ALLOWED, MIB
from rag.assistant import Assistant

__all__ = ["ChatApp", "build", "page_images", "parse_auth", "serve"]

# Gradio's own words its zh-CN table lacks (it would show the key): the page is zh-CN (app/chat.js)
ZH_WORDS = gr.I18n(**{"zh-CN": {"common.upload": "上传"}})
CACHE_SWEEP = (600, 3600)  # every 10 min, delete cached uploads older than an hour (never handled)


def build(assistant: Assistant, ui: ChatApp | None = None) -> gr.Blocks:
    ui = ui or ChatApp(assistant)
    papers = ui.archive.papers()
    sections = ui.sections()
    examples = assistant.examples(checked=ui.ready.is_set())  # (checked once the models are in: on_load)
    many = assistant.settings.concurrency  # questions (chat and /ask) answered at once, one queue
    with gr.Blocks(title="报刊问答", delete_cache=CACHE_SWEEP) as demo:
        gr.Markdown("## 报刊问答 · 地方报纸资料库\n提问后答案逐步显示；点答案里的 [1] [2] 查看对应来源。")
        status = gr.HTML(LOADING, visible=not ui.ready.is_set(), elem_id="model-status")
        timer = gr.Timer(0.5, active=not ui.ready.is_set())
        with gr.Tab("问答"):
            with gr.Row(elem_id="chat-row"):
                with gr.Column(scale=3, elem_id="chat-col"):
                    # buttons=[]: Gradio's copy buttons say "Copy message" in any language; answers carry
                    # their own 复制答案和来源 (app/chat.js)
                    chatbot = gr.Chatbot(label="对话", height=460, elem_id="chat", sanitize_html=True, buttons=[])
                    with gr.Row(elem_id="filter-chips"):
                        chips = [
                            gr.Button(visible=False, size="sm", elem_classes=["chip"], elem_id=f"chip-{name}")
                            for name in ("since", "until", "paper", "section")
                        ]
                        stated_chips = [  # filters the question stated (问题中的报纸：焦作日报 ✕)
                            gr.Button(visible=False, size="sm", elem_classes=["chip"], elem_id=f"chip-stated-{kind}")
                            for kind in STATED_CHIPS
                        ]
                    drop = gr.Button(visible=False, size="sm", variant="secondary", elem_id="drop-filter")
                    reading = gr.Markdown(elem_id="reading")
                    with gr.Row(elem_id="ask-row"):
                        box = gr.Textbox(
                            placeholder="输入问题，例如：" + (examples[0] if examples else "资料库里有什么？"),
                            label="问题",
                            show_label=False,
                            scale=5,
                            elem_id="question",
                        )
                        send = gr.Button("提问", variant="primary", scale=1, elem_id="send")
                    with gr.Row(elem_id="chat-tools"):
                        clear = gr.Button("新对话", size="sm", elem_id="clear")
                        download = gr.DownloadButton("下载对话（Markdown）", size="sm", elem_id="download")
                    # settings before the examples: reachable on a phone without scrolling past them
                    with gr.Accordion("检索设置", open=False, elem_id="settings"):
                        with gr.Row():
                            generator = gr.Dropdown(
                                ui.generators(),
                                value=assistant.settings.generator,
                                label="回答方式",
                                elem_id="generator",
                            )
                            k = gr.Slider(
                                1,
                                assistant.settings.chat_max_k,
                                value=assistant.settings.k,
                                step=1,
                                label="段落数 k",
                                elem_id="k",
                            )
                            retriever = gr.Radio(
                                list(RETRIEVERS), value="混合（推荐）", label="检索方式", elem_id="retriever"
                            )
                        with gr.Row():
                            since = gr.Textbox(label="起始日期", placeholder="2023-01-01", elem_id="since")
                            until = gr.Textbox(label="截止日期", placeholder="2023-01-31", elem_id="until")
                            paper = gr.Dropdown(papers, value=ALL, label="报纸", elem_id="paper")
                            section = gr.Dropdown(sections, value=ALL, label="版面", elem_id="section")
                    example_set = gr.Dataset(
                        components=[box],
                        samples=[[q] for q in examples],
                        label="示例（取自资料库的新文章）",
                        elem_id="examples",
                    )
                with gr.Column(scale=2, elem_id="sources-col"):
                    sources = gr.HTML(sources_html(), elem_id="sources")
            conv = gr.State(Conversation())
            filter_boxes: list[Any] = [since, until, paper, section]
            inputs = [box, chatbot, conv, generator, k, retriever, *filter_boxes]
            outputs = [chatbot, box, reading, sources, conv, drop, download]

            def asked(event) -> None:
                """``event`` (a trigger's listener, or a ``.then``) answers the question in the box,
                then shows the chips of the filters it stated."""
                event(
                    ui.chat,
                    inputs,
                    outputs,
                    api_visibility="private",
                    concurrency_limit=many,
                    concurrency_id="questions",
                ).then(stated_chip_updates, conv, stated_chips, api_visibility="private", queue=False)

            asked(send.click)
            asked(box.submit)

            def fresh():
                hidden = gr.update(visible=False)
                return [], "", sources_html(), Conversation(), hidden, None, *[hidden] * len(STATED_CHIPS)

            fresh_outputs = [chatbot, reading, sources, conv, drop, download, *stated_chips]
            clear.click(fresh, None, fresh_outputs, api_visibility="private")
            chatbot.clear(fresh, None, fresh_outputs, api_visibility="private")  # the chat's own 🗑 button
            example_set.click(lambda sample: sample[0], example_set, box, api_visibility="private")
            download.click(ui.download_note, conv, reading, api_visibility="private", queue=False)
            asked(drop.click(ui.drop_blocked, conv, [*filter_boxes, drop, box, conv], api_visibility="private").then)
            for chip, kind in zip(stated_chips, STATED_CHIPS):
                dropped = chip.click(
                    lambda c, k=kind: ui.drop_stated(k, c), conv, [conv, box], api_visibility="private"
                )
                asked(dropped.then)
            for component in filter_boxes:
                component.change(chip_updates, filter_boxes, chips, api_visibility="private", queue=False)
            for chip, component, empty in zip(chips, filter_boxes, ("", "", ALL, ALL)):
                chip.click(lambda e=empty: e, None, component, api_visibility="private", queue=False)
        with gr.Tab("资料库"):
            table = gr.Dataframe(
                ui.archive.catalog(),
                headers=["报纸", "日期", "文章数"],
                interactive=False,
                buttons=[],
                elem_id="catalog",
            )
            with gr.Row():
                pick_paper = gr.Dropdown(papers, value=ALL, label="报纸", elem_id="pick-paper")
                pick_date = gr.Textbox(label="日期（2023-01-10、2023-01 或 1月10日，可空）", elem_id="pick-date")
                browse = gr.Button("列出文章", elem_id="browse")
            browse_note = gr.Markdown(elem_id="browse-note")
            pick = gr.Dropdown([], label="文章", elem_id="article-pick")
            article = gr.HTML(article_html(None), elem_id="article")
            with gr.Accordion("设置来源信息（报纸、日期）", open=False, elem_id="retag"):
                gr.Markdown(
                    "版面没有印报头或日期时，可以为选中文章所在的文件填上报纸和日期：该文件的全部文章都会更新。"
                )
                with gr.Row():
                    retag_file = gr.Textbox(label="文件", interactive=False, elem_id="retag-file")
                    retag_paper = gr.Textbox(label="报纸", placeholder="如：青禾日报", elem_id="retag-paper")
                    retag_date = gr.Textbox(label="出版日期", placeholder="2024-01-09", elem_id="retag-date")
                    retag_go = gr.Button("应用到该文件的全部文章", elem_id="retag-apply")
                retag_note = gr.Markdown(elem_id="retag-note")
            browse.click(ui.archive.articles, [pick_paper, pick_date], [pick, browse_note], api_visibility="private")
            pick_date.submit(
                ui.archive.articles, [pick_paper, pick_date], [pick, browse_note], api_visibility="private"
            )
            pick.change(ui.archive.read, pick, [article, retag_file], api_visibility="private")
            retag_go.click(
                ui.archive.retag,
                [retag_file, retag_paper, retag_date],
                retag_note,
                api_visibility="private",
                concurrency_limit=1,
                concurrency_id="writes",
            ).then(ui.refreshed, None, [paper, section, table, pick_paper], api_visibility="private").then(
                ui.archive.read, pick, [article, retag_file], api_visibility="private"
            )
        with gr.Tab("上传"):
            gr.Markdown(
                f"上传版面：文字、扫描图（自动识别文字）、PDF 或电子报网页（{'、'.join(ALLOWED)}，每个不超过 "
                f"{assistant.settings.max_upload_mb} MB），添加到当前资料库；"
                "添加后即可提问，无需重启。"
            )
            # no file_types: the browser would drop a file of another type with an English toast;
            # app.uploads reports it in the table, in Chinese, and adds the rest (issue 33 item 16)
            files = gr.File(file_count="multiple", label="文件", elem_id="upload-files")
            add = gr.Button("添加到资料库", variant="primary", elem_id="upload-add")
            result = gr.Dataframe(
                headers=["文件", "结果", "说明"], interactive=False, buttons=[], elem_id="upload-result"
            )
            add.click(  # preprocess=False: each file checked by app.uploads, not the batch refused by Gradio
                ui.upload,
                files,
                [result, paper, section, table, pick_paper],
                preprocess=False,
                api_visibility="private",
                concurrency_limit=1,
                concurrency_id="writes",
            )
        timer.tick(ui.loaded, None, [status, timer, example_set], api_visibility="private")
        on_load = [status, timer, example_set, paper, pick_paper, section, table]
        demo.load(ui.on_load, None, on_load, api_visibility="private")
        gr.api(ui.ask_api, api_name="ask", concurrency_limit=many, concurrency_id="questions")
    return demo


SCRIPT = (Path(__file__).with_name("chat.js")).read_text(encoding="utf-8")


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 7860, prevent_thread_lock: bool = False):
    """Start loading the models, then launch on ``host`` and return the Blocks; uploads are capped
    at ``max_upload_mb`` by Gradio itself (HTTP 413 before anything is kept) and
    ``settings.auth`` ("user:password") asks for a login."""
    ui = ChatApp(assistant)
    ui.ready.clear()  # the page is built saying 正在加载模型…
    demo = build(assistant, ui)  # (it reads the archive's examples and papers)
    ui.start_warming()
    assistant.for_serving()  # questions run in threads of their own: one FAISS thread each
    s = assistant.settings
    demo.queue(default_concurrency_limit=s.concurrency)  # questions and reads run at once (docs/ui.md)
    demo.launch(
        server_name=host,
        server_port=port,
        css=CSS,
        head=f"<script>{SCRIPT}</script>",
        footer_links=["api"],
        prevent_thread_lock=prevent_thread_lock,
        show_error=True,
        quiet=True,
        max_file_size=s.max_upload_mb * MIB,
        allowed_paths=[str(page_images(assistant))],  # whole pages of the cited scans (app.page_crop)
        auth=parse_auth(s.auth),
        auth_message="报刊问答：请登录",
        i18n=ZH_WORDS,
    )
    return demo  # (reached with prevent_thread_lock: the caller closes it)


def parse_auth(value: str) -> LoginGuard | None:
    """``user:password`` → the login check Gradio calls (app.login: wrong passwords lock the
    name out for a while); "" → no login.  ValueError for anything else."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("auth must look like user:password (RAG_AUTH or --auth)")
    return LoginGuard(user, password)
