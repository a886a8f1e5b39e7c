"""One browser session's conversation: the standalone query of each turn (for follow-ups), each
answer's sources (so [n] of any earlier answer re-shows them), the turns as Markdown (for the
download) and a filter that left nothing (for 去掉…再问)."""

from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.citation_style import markdown_document, turn_markdown
from rag.models import Answer

EXPORTS = Path(tempfile.gettempdir()) / "rag-chat-exports"
EXPORT_AGE = 3600  # seconds an exported file is kept (Gradio serves its own copy)


@dataclass
class Conversation:
    queries: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)  # app.render.turn_sources, one per answer
    markdown: list[str] = field(default_factory=list)  # rag.citation_style.turn_markdown, one per answer
    blocked: tuple[list[str], str] | None = None  # (filters that left nothing to answer with, the question)
    stated: list[str] = field(default_factory=list)  # filters the last question stated (报纸：焦作日报)
    unstated: tuple[str, ...] = ()  # kinds the next question's own words may not set (a chip dropped)
    last_question: str = ""

    def copy(self) -> Conversation:
        return replace(
            self,
            queries=list(self.queries),
            sections=list(self.sections),
            markdown=list(self.markdown),
            stated=list(self.stated),
        )

    def add_markdown(self, question: str, answer: Answer) -> None:
        self.markdown.append(turn_markdown(question, answer))


def export_markdown(conv: Conversation) -> str | None:
    """The conversation written to a fresh Markdown file (its path, for the download button)."""
    if not conv.markdown:
        return None
    EXPORTS.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - EXPORT_AGE
    for old in EXPORTS.glob("*/*.md"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
            old.parent.rmdir()
    folder = EXPORTS / uuid.uuid4().hex
    folder.mkdir()
    path = folder / f"报刊问答对话-{time.strftime('%Y%m%d-%H%M')}.md"
    path.write_text(markdown_document(conv.markdown), encoding="utf-8")
    return str(path)
