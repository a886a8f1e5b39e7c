"""Reference styles for cited articles, and Markdown records of answers and conversations.

``gbt7714`` writes the newspaper entry of GB/T 7714-2015 (顺序编码制)::

    李明, 王芳. 柳溪县首届乡村年货节开幕[N]. 柳溪日报, 2023-01-10(A08).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.models import Answer, Article
from rag.text.sentences import sentence_spans

UNTITLED = "无标题"  # as Article.label shows an untitled article
MAX_AUTHORS = 3  # GB/T 7714-2015 8.1.2: the first three, then ", 等"

# Words of a byline that are roles, not names: removed wherever they stand (longest first).
_ROLES = re.compile(
    r"本报讯|本报|新华社|中新社|特约|实习生|实习|见习|首席|摄影|记者|通讯员|评论员|撰稿人|撰稿|撰文|报道|整理|编译|文图"
)
_ROLE_TOKENS = {"文", "图", "摄", "等", "讯", "供图"}  # role words only when they stand alone
_SEPARATORS = re.compile(r"(?<![A-Za-z.])\s+|\s++(?![A-Za-z])|[、，,;；/／|｜:：（）()\[\]【】「」□■●◎★☆]+")


def authors(byline: str) -> list[str]:
    """The person (or body) names in a byline: ``记者 李明 通讯员 王芳`` → ``["李明", "王芳"]``."""
    names: list[str] = []
    for token in _SEPARATORS.split(_ROLES.sub(" ", byline)):
        token = token.strip()
        if len(token) >= 3 and token.endswith("摄"):  # 张三摄: a photo credit
            token = token[:-1]
        if token and token not in _ROLE_TOKENS and token not in names:
            names.append(token)
    return names


UNKNOWN_PUBLISHER = "[出版者不详]"  # GB/T 7714-2015 8.4.2's practice for what the source does not say
UNKNOWN_DATE = "[出版日期不详]"


def gbt7714(article: Article) -> str:
    """``作者. 题名[N]. 报纸名, 出版日期(版次).``; an unknown author is left out (the entry starts
    with the title), an unknown page is left out, an unknown paper or date is said so in brackets
    (``[出版者不详]``, ``[出版日期不详]``)."""
    names = authors(article.byline)
    if not names and "评论员" in article.byline:  # 本报评论员: the paper's editorial voice
        names = [(article.paper.strip() or "本报") + "评论员"]
    if len(names) > MAX_AUTHORS:
        names = [*names[:MAX_AUTHORS], "等"]
    head = ", ".join(names) + ". " if names else ""
    title = " ".join(article.headline.split()).rstrip("。.，,；;：: ") or UNTITLED
    where = " ".join(article.paper.split()) or UNKNOWN_PUBLISHER
    where += ", " + (article.date.strip() or UNKNOWN_DATE)
    if page := _page(article.page):
        where += f"({page})"
    return f"{head}{title}[N]. {where}."


def cited_sentence(text: str, start: int, end: int, short: str = "") -> tuple[int, int]:
    """The sentence of ``text[start:end]`` (a quote) to mark, split by rag.text.sentences: the
    one holding the short answer, else the first; a quote of one sentence is marked whole."""
    spans = [(start + a, start + b) for a, b in sentence_spans(text[start:end])]
    if len(spans) <= 1:
        return start, end
    holding = [sp for sp in spans if short and short in text[sp[0] : sp[1]]]
    return (holding or spans)[0]


def _page(page: str) -> str:
    """The edition as printed, without ``第…版``: ``第3版`` → ``3``, ``A08版`` → ``A08``."""
    page = "".join(page.split())
    return re.sub(r"^第|版(?:面)?$", "", page)


Style = Callable[[Article], str]
STYLES: dict[str, Style] = {"gbt7714": gbt7714}


def style_of(name: str) -> Style:
    """The reference style called ``name``; ValueError naming the known ones otherwise."""
    try:
        return STYLES[name]
    except KeyError:
        raise ValueError(f"unknown citation style {name!r} (known: {', '.join(STYLES)})") from None


def answer_markdown(answer: Answer, style: str = "gbt7714") -> str:
    """The answer's text, then one ``[n] reference`` paragraph per citation, in citation order."""
    cite = style_of(style)
    parts = [_text(answer.text)] + [f"[{c.n}] {_text(cite(c.hit.article))}" for c in answer.citations]
    return "\n\n".join(p for p in parts if p) + "\n"


def conversation_markdown(
    turns: Sequence[tuple[str, Answer | str]], title: str = "报刊问答 对话记录", style: str = "gbt7714"
) -> str:
    """A Markdown record of a conversation: per turn ``## 问：…``, the answer, and (for an
    Answer with citations) ``**来源**``: each reference with its quoted passage as a blockquote."""
    return markdown_document([turn_markdown(q, a, style) for q, a in turns], title)


def turn_markdown(question: str, answer: Answer | str, style: str = "gbt7714") -> str:
    """One turn of :func:`conversation_markdown` (the chat keeps these as it goes)."""
    cite = style_of(style)
    parts = [f"## 问：{_line(question)}"]
    text = answer if isinstance(answer, str) else answer.text
    parts.append(_text(text) or "（没有回答）")
    if not isinstance(answer, str) and answer.citations:
        parts.append("**来源**")
        for c in answer.citations:
            parts.append(f"[{c.n}] {_text(cite(c.hit.article))}")
            if quote := (c.quote or c.hit.chunk.text).strip():
                parts.append(_blockquote(quote))
    return "\n\n".join(parts)


def markdown_document(turns: Sequence[str], title: str = "报刊问答 对话记录") -> str:
    """Turns made by :func:`turn_markdown` under a title."""
    return "\n\n".join([f"# {_line(title)}", *turns]) + "\n"


_INLINE = re.compile(r"([\\`*_<])")  # emphasis, code spans, HTML (a "<!--" would hide the rest)
_MARK_START = re.compile(r"^([#>=~|]|[-+](?=[\s-]|$))")  # headings, quotes, lists, rules, fences
_NUMBER_START = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")  # ordered lists ("46.5公里" is none)


def _text(text: str) -> str:
    """Archive or answer text as Markdown that renders as the same text: inline marks escaped,
    and no line may open a heading, quote, list, rule, fence or indented code block."""
    lines = []
    for line in text.strip().splitlines():
        line = _INLINE.sub(r"\\\1", line.strip())
        lines.append(_NUMBER_START.sub(r"\1\\\2", _MARK_START.sub(r"\\\1", line)))
    return "\n".join(lines)


def _line(text: str) -> str:
    """One line of text (a question, a title) for a heading."""
    return _text(" ".join(text.split()))


def _blockquote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in _text(text).splitlines())
