"""The data model shared by every stage: sources, articles, chunks, hits, answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

REFUSAL = "资料中没有找到可以回答这个问题的内容。"
UNKNOWN_PAPER = "报纸未知"  # Filters.paper for the articles whose paper is not known (shown so, too)


class Explained(Exception):
    """An error said twice: ``str()`` in English for the CLI, ``zh`` in plain Chinese for the
    chat (kept through pickling, e.g. from an OCR worker process: it is in ``__dict__``)."""

    def __init__(self, message: str, zh: str | None = None) -> None:
        super().__init__(message)
        self.zh = zh


class InputError(Explained, ValueError):
    """A bad question or filter from the user."""


class Said(str):
    """A reason or warning passed on as plain text (English, for the CLI and JSON) that also
    carries its Chinese (``zh``), for the chat."""

    zh: str

    def __new__(cls, text: str, zh: str = "") -> Said:
        said = super().__new__(cls, text)
        said.zh = zh
        return said


def user_message(said: object) -> str:
    """The Chinese of an error or a :class:`Said` text for the chat (``zh`` when it has one)."""
    return getattr(said, "zh", None) or str(said)


@dataclass
class Source:
    """One input file (or one JSONL record stream) as it was ingested."""

    path: str
    sha256: str
    size: int
    encoding: str = ""
    status: str = "ok"  # ok: every record is in; partial: an ingest is adding it (or stopped; resumed next run)
    error: str = ""  # unused by the ingest today (skipped files are reported, not stored); a schema column
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
    regions: str = ""  # where its lines stand on the page images (JSON: rag.regions), "" for text sources

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
    # kinds ("date", "paper", "section") the question's own words may not set: dropped by the user
    unstated: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        """Nothing restricts the search (``unstated`` restricts nothing)."""
        return not any(v for name, v in asdict(self).items() if name != "unstated")

    def without(self, kind: str) -> Filters:
        """These filters with one kind dropped: its value, and the question's own (``unstated``)."""
        cleared = {"date": {"since": None, "until": None}}.get(kind, {kind: None})
        return replace(self, **cleared, unstated=tuple(dict.fromkeys([*self.unstated, kind])))

    def stored_paper(self) -> str:
        """The paper to match as the stores hold it: "" for UNKNOWN_PAPER (no paper known)."""
        return "" if self.paper == UNKNOWN_PAPER else (self.paper or "")

    @classmethod
    def parse(
        cls,
        since: str | None = None,
        until: str | None = None,
        paper: str | None = None,
        section: str | None = None,
        source: str | None = None,
    ) -> Filters:
        """Filters from user input: dates as 2023, 2023-01, 2023-01-31 (also 2023/1/31 or
        2023年1月31日); a bad date or ``since`` after ``until`` raises InputError naming the flag.
        ``paper`` may be UNKNOWN_PAPER: the articles whose paper is not known."""
        lo, hi = iso_date(since, "--since", "起始日期"), iso_date(until, "--until", "截止日期")
        if lo and hi and lo > hi + "\uffff"[: 10 - len(hi)]:
            raise InputError(f"--since {lo} is after --until {hi}", f"起始日期 {lo} 晚于截止日期 {hi}，请调换或改正")

        def clean(v: str | None) -> str | None:
            return (v or "").strip() or None

        return cls(lo, hi, clean(paper), clean(section), clean(source))


_DATE_INPUT = re.compile(r"^(\d{4})(?:[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?)?年?$")


def iso_date(value: str | None, flag: str, label: str) -> str | None:
    """``2023/1/31`` → ``2023-01-31``; ``2023年1月`` → ``2023-01``; None/blank → None."""
    if value is None or not value.strip():
        return None
    m = _DATE_INPUT.match(value.strip())
    if not m:
        raise InputError(
            f"{flag}: expected a date like 2023-01-31, 2023-01 or 2023, got {value!r}",
            f"{label}“{value.strip()[:30]}”看不懂：请写成 2023-01-31、2023-01 或 2023 这样的日期",
        )
    y, mo, d = m.group(1), m.group(2), m.group(3)
    try:
        date(int(y), int(mo or 1), int(d or 1))
    except ValueError:
        raise InputError(
            f"{flag}: no such date {value!r}", f"{label}“{value.strip()}”不是真实存在的日期，请检查月份和日子"
        ) from None
    return "-".join([y] + [f"{int(x):02d}" for x in (mo, d) if x])


@dataclass
class Hit:
    """A retrieved chunk with its article and the scores that placed it; ``more`` holds the
    article's next best passages (a search result is an article: rag.retrieval.diversity)."""

    chunk: Chunk
    article: Article
    score: float
    rank: int = 0
    scores: dict[str, float] = field(default_factory=dict)
    more: tuple[Chunk, ...] = ()

    def passages(self) -> list[Hit]:
        """One hit per passage: this one (without ``more``), then one for each further passage."""
        if not self.more:
            return [self]
        return [replace(self, more=())] + [replace(self, chunk=c, more=()) for c in self.more]

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
            "more": [{"text": c.text, "chunk_id": c.id, "start": c.start, "end": c.end} for c in self.more],
            **self.page_region(),
        }

    def quote_span(self, quote: str = "") -> tuple[int, int]:
        """The quoted sentence's span in the article (from the passage on, else anywhere),
        falling back to the whole passage."""
        art, chunk = self.article, self.chunk
        at = art.text.find(quote, chunk.start) if quote else -1
        if at < 0 and quote:
            at = art.text.find(quote)
        return (at, at + len(quote)) if at >= 0 else (chunk.start, chunk.end)

    def page_region(self, quote: str = "") -> dict[str, Any]:
        """``page_image`` and ``boxes`` of the passage (or of ``quote`` in it) on its page
        scan, when the article was read from one; {} otherwise."""
        if not self.article.regions:
            return {}
        from rag.regions import region_of

        region = region_of(self.article.regions, *self.quote_span(quote))
        return region.to_dict() if region else {}


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
        d.update(self.hit.page_region(self.quote))
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
    confidence: float | None = None  # the answerability model's probability, when one decided
    query: str = ""  # the standalone question searched for, when a follow-up was rewritten
    applied: list[str] = field(default_factory=list)  # filters read from the question, shown
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
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "query": self.query,
            "applied": self.applied,
            "citations": [c.to_dict() for c in self.citations],
            "hits": [h.to_dict() for h in self.hits],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


@dataclass
class Retrieval:
    """What a search found, and how the question was read."""

    hits: list[Hit]
    query: str = ""  # the standalone question when a follow-up was rewritten, else ""
    applied: list[str] = field(default_factory=list)  # filters read from the question


class AnswerStream:
    """One question's answer as it is produced (``Assistant.stream``): ``retrieval`` at once,
    then the answer text piece by piece from :meth:`tokens`, then the final :meth:`answer`
    (its text may differ from the pieces: a refusal or a fallback replaces what streamed;
    ``finish`` completes it: the façade adds timings and hits).

    ``pieces`` is a generator's own stream (rag.generation.base.Generator.stream: text pieces,
    then the ``Answer``): this is the one place that tells the two apart."""

    def __init__(
        self,
        retrieval: Retrieval,
        pieces: Iterable[str | Answer] = (),
        finish: Callable[[Answer], Answer] = lambda answer: answer,
    ) -> None:
        self.retrieval = retrieval
        self._pieces, self._finish = iter(pieces), finish
        self._answer: Answer | None = None

    @classmethod
    def of(cls, retrieval: Retrieval, answer: Answer) -> AnswerStream:
        """A stream whose answer is known before any text (nothing to generate)."""
        return cls(retrieval, iter((answer,)))

    def tokens(self) -> Iterator[str]:
        """The answer text as it comes; the final answer is kept for :meth:`answer`."""
        for piece in self._pieces:
            if isinstance(piece, Answer):
                self._answer = self._finish(piece)
            else:
                yield piece

    def answer(self) -> Answer:
        """The final answer (the rest of the stream is read first)."""
        for _ in self.tokens():
            pass
        if self._answer is None:
            raise RuntimeError("the generator's stream ended without an Answer")
        return self._answer


@dataclass
class Turn:
    """One exchange of a conversation, for follow-up questions."""

    question: str
    answer: str = ""
    query: str = ""  # the standalone question retrieval used, when it was rewritten
