"""The answering contract: a read question and retrieved hits in, a cited answer out.

``Generator`` lists every capability the façade (rag.assistant) reads from a generator;
``BaseGenerator`` gives each a default, so a plugin sets only what differs
(docs/generators.md, "Writing a generator").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Protocol

from rag.models import Answer, Hit, Turn
from rag.text.asked import Question


class Generator(Protocol):
    name: str
    # its [n] markers are checked already (exact quotes, or checked while streaming): the façade
    # does not run rag.generation.verify over its answers again
    verifies_citations: bool
    # it may answer several questions at once; False (a model inside this process) makes the
    # façade answer one question at a time with it
    thread_safe: bool

    def answer(self, question: Question, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Answer: ...

    def stream(self, question: Question, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        """Yield text pieces as they are produced, then the final ``Answer``."""
        ...

    def rewrite_question(self, question: str, history: Sequence[Turn]) -> str:
        """A follow-up (那温县呢？) made standalone against ``history``; "" leaves it to the
        rules (rag.text.followup)."""
        ...


class BaseGenerator:
    """Defaults for :class:`Generator`: citations checked by the façade, thread-safe, follow-ups
    rewritten by the rules, and ``answer``/``stream`` each made from the other (override one)."""

    name = ""
    verifies_citations = False
    thread_safe = True

    def answer(self, question: Question, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Answer:
        """The final ``Answer`` of :meth:`stream`."""
        final = None
        for piece in self.stream(question, hits, history):
            if isinstance(piece, Answer):
                final = piece
        if final is None:
            raise RuntimeError(f"generator {self.name!r}: stream() ended without an Answer")
        return final

    def stream(self, question: Question, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        """The answer text of :meth:`answer` sentence by sentence (each with its marker), then the Answer."""
        ans = self.answer(question, hits, history)
        yield from re.findall(r".+?\[\d+\]|.+", ans.text, flags=re.S)
        yield ans

    def rewrite_question(self, question: str, history: Sequence[Turn]) -> str:
        return ""
