"""HTML for the chat UI: answers with linked [n] markers, the sources panel, whole articles.

Everything taken from the archive or the user is escaped; only our own tags are emitted.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

from app.page_crop import CSS as CROP_CSS
from app.page_crop import crop_html, whole_page
from rag.models import Answer, Article, Citation, Hit
from rag.regions import region_of

_MARKER = re.compile(r"\[(\d+)\]")


def answer_html(text: str) -> str:
    """Answer text, escaped, with each [n] a link to source n in the sources panel."""
    safe = html.escape(text)
    return _MARKER.sub(lambda m: f'<a href="#src-{m.group(1)}" class="cite">[{m.group(1)}]</a>', safe)


def meta_line(article: Article) -> str:
    parts = [article.paper, article.date, f"{article.page}版" if article.page else "", article.section]
    return " · ".join(html.escape(p) for p in parts if p) or html.escape(article.source)


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


def source_card(n: int | None, hit: Hit, quote: str = "", pages: Path | None = None) -> str:
    """One source: headline, paper/date/page/section, the passage with the quote marked, the
    crop of the page scan where it stands (when read from one), and the whole article (folded)
    with the passage marked inside it."""
    art, chunk = hit.article, hit.chunk
    label = f"[{n}] " if n is not None else ""
    anchor = f' id="src-{n}"' if n is not None else ""
    q_start, q_end = hit.quote_span(quote)
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


def sources_html(answer: Answer | None, hits: Sequence[Hit] = (), pages: Path | None = None) -> str:
    """The sources panel: the cited passages, or the closest passages after a refusal."""
    if answer is not None and answer.citations:
        cards = [source_card(c.n, c.hit, c.quote, pages) for c in answer.citations]
        return '<div class="sources"><h3>来源</h3>' + "".join(cards) + "</div>"
    shown = list(answer.hits if answer is not None else hits)[:3]
    if not shown:
        return '<div class="sources"><p class="muted">还没有来源。</p></div>'
    cards = [source_card(None, h, pages=pages) for h in shown]
    return '<div class="sources"><h3>最接近的段落</h3>' + "".join(cards) + "</div>"


def reading_md(query: str, applied: Sequence[str]) -> str:
    """How the question was read: the rewritten follow-up and the filters it stated."""
    lines = []
    if query:
        lines.append(f"**理解为：** {query}")
    if applied:
        lines.append("**按问题限定：** " + "；".join(applied))
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


def citation_dicts(citations: Sequence[Citation]) -> list[dict]:
    return [c.to_dict() for c in citations]


CSS = (
    """
.source {border:1px solid #ddd; border-radius:8px; padding:8px 10px; margin:8px 0;}
.source-meta {color:#666; font-size:0.9em; margin:2px 0 6px;}
.passage {line-height:1.7; max-height:260px; overflow:auto;}
.article-text {line-height:1.7; max-height:420px; overflow:auto; padding-top:6px;}
mark {background:#ffe58f; padding:0 1px;}
a.cite {text-decoration:none; font-weight:bold;}
.muted {color:#888;}
"""
    + CROP_CSS
)
