"""The answering contract: a question and retrieved hits in, a cited answer out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from rag.models import Answer, Hit, Turn


class Generator(Protocol):
    name: str

    def answer(self, question: str, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Answer: ...

    def stream(self, question: str, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        """Yield text pieces as they are produced, then the final ``Answer``."""
        ...
