"""A question read once: the ``Question`` value every stage below the façade takes instead of a string.

The façade (rag.assistant) builds it with :func:`read_question` — once per question, after a
follow-up is made standalone — and hands it to the retrieve step, the reranker and the
generator; the answer shapes and spans read its fields.  Nothing below the façade reads the
raw string again (``tests/test_layout.py`` checks who calls the readers).

A question has two forms: the text as asked (``text``: what an answer quotes and matches
sentences against) and the text as retrieval sees it (``query``: NFKC, simplified, no OCR
spaces — rag.text.normalize.normalize_query).  Each form is read once; when the two are the
same text the question is its own query.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rag.text.intent import Intent, read_intent, specific_words, yesno_claim
from rag.text.normalize import compact, normalize_query
from rag.text.question import Ask, asked_role, asks_for, cut_question, focus_of, places_in, predicate_of
from rag.text.terms import Terms, content_terms


@dataclass(frozen=True, eq=False)
class Question:
    """What a question asks and what it is about (see the module doc)."""

    text: str  # the standalone question, stripped: what answers quote against
    intent: Intent  # the kind of answer, its unit, parts and compared sides
    terms: Terms  # content word → (POS weight, bigrams)
    asks: tuple[Ask, ...]  # the typed things it asks for (a number with its unit, a date …)
    places: tuple[str, ...]  # place names it is about (惠济区)
    specifics: tuple[str, ...]  # names, years, ordinals an answer's passage must hold
    focus: str  # the thing counted or measured (运营车站)
    predicate: str  # the verb the question word hangs on (持续)
    role: str  # the title asked about (店长 in 店长是谁)
    claim: str  # what a yes/no question asks to confirm (通水)
    cut: tuple[tuple[str, str], ...]  # jieba (word, POS) of the compacted text
    compact: str  # the text compacted (rag.text.normalize.compact): what sentences are matched against
    parts: tuple[Question, ...] = ()  # a multipart question's sub-questions, each read once
    sides: tuple[Question | None, ...] = ()  # a comparison's sides asked alone (None: not a number)
    normalized: Question | None = None  # the retrieval form when it differs from ``text`` (no parts, sides)

    @property
    def query(self) -> Question:
        """The form retrieval matches (itself when normalising changes nothing)."""
        return self.normalized or self

    def __str__(self) -> str:
        return self.text


def _read(text: str, answered: bool = True) -> Question:
    """One form read; ``answered``: also its sub-questions (what the answer shapes ask)."""
    intent = read_intent(text)
    parts = tuple(_read(p) for p in intent.parts) if answered else ()
    sides: tuple[Question | None, ...] = ()
    if answered and intent.kind == "comparison" and len(intent.compared) == 2:
        unit = "" if intent.unit in ("个百分点", "倍") else intent.unit
        sides = tuple(
            _read(f"{side}是多少{unit}") if read_intent(f"{side}是多少").kind == "quantity" else None
            for side in intent.compared
        )
    return Question(
        text=text,
        intent=intent,
        terms=content_terms(text),
        asks=tuple(asks_for(text)),
        places=tuple(places_in(text)),
        specifics=tuple(specific_words(text)),
        focus=focus_of(text),
        predicate=predicate_of(text),
        role=asked_role(text),
        claim=yesno_claim(text) if intent.kind == "yesno" else "",
        cut=cut_question(text),
        compact=compact(text),
        parts=parts,
        sides=sides,
    )


def read_question(text: str) -> Question:
    """Read a (standalone) question once, in both its forms."""
    text = (text or "").strip()
    asked = _read(text)
    query = normalize_query(text)
    if query == text:
        return asked
    return replace(asked, normalized=_read(query, answered=False))
