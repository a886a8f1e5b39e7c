"""The data model shared by every stage: sources, articles, chunks, hits, answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

REFUSAL = "资料中没有找到可以回答这个问题的内容。"


@dataclass
class Source:
    """One input file (or one JSONL record stream) as it was ingested."""

    path: str
    sha256: str
    size: int
    encoding: str = ""
    status: str = "ok"  # ok | skipped | error
    error: str = ""
    id: int | None = None


@dataclass
class Article:
    """One newspaper article with its metadata and its span in the source text.

    ``start``/``end`` are character offsets into the decoded source text (for a
    JSONL record: into that record's ``text``).  ``text`` is the cleaned body.
    """

    doc_id: str
    source: str
    text: str
    headline: str = ""
    paper: str = ""
    date: str = ""  # ISO yyyy-mm-dd, or "" when unknown
    page: str = ""
    section: str = ""
    byline: str = ""
    dateline: str = ""
    start: int = 0
    end: int = 0
    id: int | None = None

    def label(self) -> str:
        """A one-line printable reference: 《headline》paper date page section."""
        parts = [f"《{self.headline}》" if self.headline else "《无标题》"]
        parts += [p for p in (self.paper, self.date, self.page, self.section) if p]
        return " ".join(parts)


@dataclass
class Chunk:
    """A sentence-aligned piece of one article; offsets are into ``Article.text``."""

    article_id: int
    text: str
    start: int
    end: int
    position: int
    id: int | None = None


@dataclass
class Filters:
    """Metadata restrictions applied before ranking."""

    since: str | None = None  # ISO date, inclusive
    until: str | None = None  # ISO date, inclusive
    paper: str | None = None
    section: str | None = None
    source: str | None = None

    def is_empty(self) -> bool:
        return not any(asdict(self).values())


@dataclass
class Hit:
    """A retrieved chunk with its article and the scores that placed it."""

    chunk: Chunk
    article: Article
    score: float
    rank: int = 0
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        a = self.article
        return {
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "text": self.chunk.text,
            "chunk_id": self.chunk.id,
            "doc_id": a.doc_id,
            "headline": a.headline,
            "paper": a.paper,
            "date": a.date,
            "page": a.page,
            "section": a.section,
            "source": a.source,
            "start": self.chunk.start,
            "end": self.chunk.end,
        }


@dataclass
class Citation:
    """Marker ``[n]`` in an answer, pointing at a quoted span of a hit."""

    n: int
    hit: Hit
    quote: str

    def to_dict(self) -> dict[str, Any]:
        d = self.hit.to_dict()
        d.pop("rank", None)
        d.pop("score", None)
        d["n"] = self.n
        d["quote"] = self.quote
        return d

    def label(self) -> str:
        return f"[{self.n}]{self.hit.article.label()}"


@dataclass
class Answer:
    """What the assistant says: text with [n] markers, its citations and refusal state."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    short: str = ""  # the direct answer span ("672个") when the generator found one
    notice: str = ""  # shown to the user, e.g. "the LLM failed, this is the extractive answer"
    raw: str = ""  # an LLM's reply before citation checking (for evaluation and debugging)
    refused: bool = False
    reason: str = ""
    hits: list[Hit] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "short": self.short,
            "notice": self.notice,
            "refused": self.refused,
            "reason": self.reason,
            "citations": [c.to_dict() for c in self.citations],
            "hits": [h.to_dict() for h in self.hits],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


@dataclass
class Turn:
    """One exchange of a conversation, for follow-up questions."""

    question: str
    answer: str = ""
