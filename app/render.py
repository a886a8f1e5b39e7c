"""HTML for the chat UI: answers with linked [n] markers, the sources panel, whole articles.

The panel keeps every answer's sources, one ``<section class="turn-sources">`` per turn (the
latest shown); ``[n]`` of turn t links to ``#src-t-n`` and app/chat.js shows that turn's
section and scrolls the card, its passage and its full text to the highlighted sentence.
Everything taken from the archive or the user is escaped; only our own tags are emitted.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

from app.page_crop import CSS as CROP_CSS
from app.page_crop import crop_html, whole_page
from rag.citation_style import cited_sentence, gbt7714
from rag.models import UNKNOWN_PAPER, Answer, Article, Hit
from rag.regions import region_of

_MARKER = re.compile(r"\[(\d+)\]")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#!|~@$])")  # links, images, emphasis, code (< > &: as HTML)
_AUTOLINK = re.compile(r"(?i)(://|\bwww\.)")  # what GFM turns into a link by itself
CLOSEST = 3  # cards shown after a refusal
COPY_LABEL = "复制答案和来源"


def as_text(text: str) -> str:
    """Text from the archive for the chat, which renders Markdown: HTML escaped, and every
    character Markdown could read as a link, an image, emphasis or code (``[`` ``(`` ``!``
    ``*`` …) or an address it would link by itself (``://``, ``www.``, ``@``) escaped with a
    backslash — shown as written, never live."""
    escaped = _MARKDOWN.sub(r"\\\1", text)
    escaped = _AUTOLINK.sub(lambda m: m.group(1).replace("/", "\\/").replace(".", "\\."), escaped)
    return html.escape(escaped, quote=False)


# How sure an answer is, from the answerability model's probability (Answer.confidence), in words.
# Measured on the untuned adversarial report halves and eval/questions (docs/ui.md): of answers
# at ≥ .5, 66 of 98 held the gold answer (the same share at ≥ .8 as at .5–.8); below .5, 2 of 12.
SURE = 0.5
SURE_WORDS, UNSURE_WORDS = "把握一般", "把握较低，请核对原文"


def confidence_words(confidence: float | None) -> str:
    """The hint shown with an answer ("" when no model decided it)."""
    if confidence is None:
        return ""
    return SURE_WORDS if confidence >= SURE else UNSURE_WORDS


def answer_html(text: str, turn: int = 0, copyable: bool = False, confidence: float | None = None) -> str:
    """Answer text as text (``as_text``), with each [n] a link to source n of this turn in the
    sources panel, and (once final, with sources) how sure it is and a link that copies the
    answer and its references: the only links an answer has."""
    pieces = _MARKER.split(text)  # text, n, text, n, …, text
    out = "".join(
        as_text(p) if i % 2 == 0 else f'<a href="#src-{turn}-{p}" class="cite">[{p}]</a>' for i, p in enumerate(pieces)
    )
    if copyable:
        hint = confidence_words(confidence)
        sure = f'<span class="confidence" title="答案可信程度的估计">{hint}</span> · ' if hint else ""
        out += f'<div class="answer-tools">{sure}<a href="#copy-{turn}" class="copy-answer">{COPY_LABEL}</a></div>'
    return out


def meta_line(article: Article) -> str:
    """Paper, date, page and section as known (``报纸未知`` when the paper is not), then the
    file it was read from in small print."""
    page = article.page if not article.page or article.page.endswith("版") else f"{article.page}版"
    parts = [article.paper or UNKNOWN_PAPER, article.date, page, article.section]
    known = " · ".join(html.escape(p) for p in parts if p)
    return f'{known} <span class="source-file">{html.escape(Path(article.source).name)}</span>'


def highlighted(text: str, start: int, end: int) -> str:
    """``text`` escaped with ``text[start:end]`` in a <mark>."""
    start, end = max(0, start), min(len(text), end)
    if end <= start:
        return html.escape(text).replace("\n", "<br>")
    out = html.escape(text[:start]) + "<mark>" + html.escape(text[start:end]) + "</mark>" + html.escape(text[end:])
    return out.replace("\n", "<br>")


def page_figure(article: Article, start: int, end: int, pages: Path | None) -> str:
    """The crop of the page scan where ``article.text[start:end]`` stands, highlighted, with a
    link to the whole page (its JPEG is written under ``pages``); "" for text sources."""
    region = region_of(article.regions, start, end)
    if region is None:
        return ""
    page = whole_page(region, pages) if pages is not None else None
    return crop_html(region, f"/gradio_api/file={page}" if page else "")


def source_card(
    n: int | None, hit: Hit, quote: str = "", pages: Path | None = None, turn: int = 0, short: str = ""
) -> str:
    """One source: headline, paper/date/page/section, the passage with the cited sentence of the
    quote marked (the one holding the short answer), the crop of the page scan where it stands
    (when read from one), and the whole article (folded) with the same sentence marked."""
    art, chunk = hit.article, hit.chunk
    label = f"[{n}] " if n is not None else ""
    anchor = f' id="src-{turn}-{n}"' if n is not None else ""
    q_start, q_end = hit.quote_span(quote)
    if quote and q_end > q_start:
        q_start, q_end = cited_sentence(art.text, q_start, q_end, short)
    in_chunk = (
        (q_start - chunk.start, q_end - chunk.start) if quote and chunk.start <= q_start < chunk.end else (0, 0)
    )  # closest passages: nothing quoted
    return (
        f'<div class="source"{anchor} data-article="{art.id}">'
        f'<div class="source-head"><b>{label}{html.escape(art.headline or "（无标题）")}</b></div>'
        f'<div class="source-meta">{meta_line(art)}</div>'
        f'<div class="passage">{highlighted(chunk.text, *in_chunk)}</div>'
        f"{page_figure(art, q_start, q_end, pages)}"
        f'<details class="article"><summary>阅读全文</summary>'
        f'<div class="article-text">{highlighted(art.text, q_start, q_end)}</div></details>'
        "</div>"
    )


def one_per_article(hits: Sequence[Hit]) -> list[Hit]:
    """The hits with one card per article: the first of each article, and of articles printed
    twice (the same headline and opening) only the first."""
    seen: set[object] = set()
    out = []
    for h in hits:
        keys = {("id", h.article.id), ("text", h.article.headline, h.article.text[:60])}
        if not keys & seen:
            out.append(h)
        seen |= keys
    return out


def copy_text(answer: Answer) -> str:
    """What the copy link puts on the clipboard: the answer, then its numbered GB/T 7714 references."""
    refs = [f"[{c.n}] {gbt7714(c.hit.article)}" for c in answer.citations]
    return answer.text.strip() + ("\n\n来源：\n" + "\n".join(refs) if refs else "")


def turn_sources(turn: int, answer: Answer | None, hits: Sequence[Hit] = (), pages: Path | None = None) -> str:
    """One turn's section of the panel: its cited passages, or the closest passages after a
    refusal (one card per article), with the text the copy link copies."""
    head, cards, copied = "来源", "", ""
    if answer is not None and answer.citations:
        cards = "".join(source_card(c.n, c.hit, c.quote, pages, turn, answer.short) for c in answer.citations)
        copied = f'<pre class="copy-text" hidden>{html.escape(copy_text(answer))}</pre>'
    else:
        shown = one_per_article(answer.hits if answer is not None else hits)[:CLOSEST]
        head = "最接近的段落"
        cards = "".join(source_card(None, h, pages=pages) for h in shown)
    final = " data-final" if answer is not None else ""  # (streaming shows the passages found first)
    body = f"<h3>{head}</h3>{cards}{copied}" if cards else '<p class="muted">没有找到相关段落。</p>'
    return f'<section class="turn-sources" data-turn="{turn}"{final}>{body}</section>'


def no_sources(turn: int) -> str:
    """The section of a turn that ended in an error (so that turn t is always section t)."""
    return f'<section class="turn-sources" data-turn="{turn}" data-final></section>'


def sources_html(sections: Sequence[str] = ()) -> str:
    """The sources panel: every turn's section, the last one shown (app/chat.js shows another)."""
    if not sections:
        return '<div class="sources"><p class="muted">还没有来源。</p></div>'
    last = sections[-1].replace('class="turn-sources"', 'class="turn-sources shown"', 1)
    body = "".join(sections[:-1]) + last
    return f'<div class="sources">{body}</div>'


def reading_md(query: str, applied: Sequence[str]) -> str:
    """How the question was read: the rewritten follow-up and the filters it stated."""
    lines = []
    if query:
        lines.append(f"**理解为：** {as_text(query)}")
    if applied:
        lines.append("**按问题限定：** " + "；".join(as_text(a) for a in applied))
    return "  \n".join(lines)


def article_html(article: Article | None) -> str:
    if article is None:
        return '<p class="muted">选择一篇文章阅读。</p>'
    return (
        f'<div class="source"><h3>{html.escape(article.headline or "（无标题）")}</h3>'
        f'<div class="source-meta">{meta_line(article)}'
        f"{' · ' + html.escape(article.byline) if article.byline else ''}</div>"
        f'<div class="article-text">{highlighted(article.text, 0, 0)}</div></div>'
    )


CSS = (
    """
.source {border:1px solid #ddd; border-radius:8px; padding:8px 10px; margin:8px 0;}
.source-meta {color:#666; font-size:0.9em; margin:2px 0 6px;}
.source-file {color:#999; font-size:0.8em; margin-left:4px;}
.turn-sources {display:none;}
.turn-sources.shown {display:block;}
.source.flash {outline:2px solid #e6a700;}
.answer-tools {margin-top:6px; font-size:.85em;}
a.copy-answer {text-decoration:none; color:#555;}
.confidence {color:#777;}
#drop-filter {width:auto; align-self:flex-start;}
.passage {line-height:1.7; max-height:260px; overflow:auto;}
.article-text {line-height:1.7; max-height:420px; overflow:auto; padding-top:6px;}
mark {background:#ffe58f; padding:0 1px;}
a.cite {text-decoration:none; font-weight:bold;}
.loading {padding:6px 10px; background:#fff7e0; border:1px solid #f0d58a; border-radius:6px;}
#filter-chips {gap:6px; flex-wrap:wrap;}
#filter-chips button.chip {flex:0 0 auto; width:auto; min-width:0; border-radius:14px;}
/* phone: the sources directly under the answer, then tools, settings and examples; the question
   box is held at the foot of the screen (Gradio's container clips, so it is fixed, not sticky) */
@media (max-width: 768px) {
  #chat-row {flex-direction:column; flex-wrap:nowrap;}
  #chat-col, #sources-col {display:contents;}
  #chat, #pending-question {order:1;} #chat {max-height:55vh;} #sources {order:2;}
  #filter-chips {order:3;} #drop-filter {order:3;}
  #reading {order:4;} #ask-row {order:5;} #chat-tools {order:6;} #settings {order:7;} #examples {order:8;}
  #ask-row {position:fixed; left:0; right:0; bottom:0; z-index:20; flex-wrap:nowrap; margin:0;
            padding:6px 10px; background:var(--background-fill-primary, #fff);
            box-shadow:0 -2px 8px rgba(0,0,0,.12);}
  #ask-row #send {min-width:64px; flex:0 0 auto;}
  .gradio-container {padding-bottom:96px !important;}
}
.muted {color:#888;}
"""
    + CROP_CSS
)
