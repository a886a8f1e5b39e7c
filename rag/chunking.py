"""Sentence-aware chunking inside one article, offsets kept."""

from __future__ import annotations

from dataclasses import dataclass

from rag.text.sentences import sentence_spans

CHUNKER_VERSION = "sent-v1"
# What may follow a sentence's end mark inside it, as sent-v1 cut chunks (no ASCII quotes): the
# chunker version pins its boundaries, so built indexes stay valid.
SENT_V1_CLOSERS = "”’」』）)"


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def sentences(text: str) -> list[Span]:
    """Sentence spans of ``text`` as the chunker cuts them; whitespace-only pieces are skipped."""
    return [Span(a, b) for a, b in sentence_spans(text, closers=SENT_V1_CLOSERS)]


def chunk_spans(text: str, min_chars: int = 200, max_chars: int = 400) -> list[Span]:
    """Group sentences into spans of about ``min_chars``–``max_chars`` with one sentence of overlap.

    A sentence longer than ``max_chars`` is cut at ``max_chars``.  The last sentence of a chunk
    opens the next one, so a fact at a boundary is whole in at least one chunk.
    """
    sents: list[Span] = []
    for s in sentences(text):
        for cut in range(s.start, s.end, max_chars):
            sents.append(Span(cut, min(cut + max_chars, s.end)))
    if not sents:
        return []
    chunks: list[Span] = []
    i = 0
    while i < len(sents):
        j = i
        while j + 1 < len(sents) and sents[j + 1].end - sents[i].start <= max_chars:
            j += 1
            if sents[j].end - sents[i].start >= min_chars:
                break
        chunks.append(Span(sents[i].start, sents[j].end))
        if j + 1 >= len(sents):
            break
        i = j if j > i else j + 1  # overlap one sentence, but always advance
    # A short tail is merged into the chunk before when it fits.
    if len(chunks) >= 2 and chunks[-1].end - chunks[-1].start < min_chars // 2:
        merged = Span(chunks[-2].start, chunks[-1].end)
        if merged.end - merged.start <= max_chars + min_chars // 2:
            chunks[-2:] = [merged]
    return chunks


def embedding_text(headline: str, chunk_text: str) -> str:
    """The text that is embedded and indexed: the headline carries the article's topic."""
    return f"{headline}\n{chunk_text}" if headline else chunk_text
