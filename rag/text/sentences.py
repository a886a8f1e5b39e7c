"""The one sentence splitter: a sentence ends at 。！？； (or ! ? ;), with any closing quotes or
brackets after it, or at a line break.  Offsets are kept, so a sentence is always an exact
substring of the text it came from (quotes and citations rely on that)."""

from __future__ import annotations

import re
from functools import lru_cache

TERMINALS = "。！？；!?;"
CLOSERS = "”’」』\"')）"


# the end mark(s) and closers at the very end of a text (a complete sentence, not a headline)
END_MARK = re.compile(rf"[{TERMINALS}]+[{re.escape(CLOSERS)}]*$")


@lru_cache(maxsize=4)
def sentence_end(closers: str = CLOSERS) -> re.Pattern:
    return re.compile(rf"[{TERMINALS}]+[{re.escape(closers)}]*|\n+")


def sentence_spans(text: str, min_chars: int = 1, closers: str = CLOSERS) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, surrounding whitespace trimmed; pieces
    shorter than ``min_chars`` after trimming are left out.  ``closers``: the characters that
    still belong to a sentence after its end mark (the chunker pins its own set, see
    rag.chunking)."""
    spans, pos = [], 0
    for m in [*sentence_end(closers).finditer(text), None]:
        end = m.end() if m else len(text)
        seg = text[pos:end]
        a, b = pos + len(seg) - len(seg.lstrip()), end - len(seg) + len(seg.rstrip())
        if b - a >= min_chars:
            spans.append((a, b))
        pos = end
    return spans


def sentences(text: str, min_chars: int = 1) -> list[str]:
    """The sentences themselves."""
    return [text[a:b] for a, b in sentence_spans(text, min_chars)]
