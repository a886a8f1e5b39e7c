"""Distinct top k: at most ``per_article`` hits of one article, and no near-duplicate stories.

Two papers often print the same Xinhua story; overlapping or neighbouring chunks of one long
article crowd out other evidence.  With ``per_article=1`` (the default) the top k are k
articles, each hit holding its article's best ``passages`` (touching ones joined).
``collapse`` walks the hits best first and keeps one only when its article is not yet full
and its text is not a near copy (character 4-gram containment ≥ ``near_dup``) of a passage
already kept; a later chunk of a full article joins its hit or is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import combinations

from rag.models import Chunk, Hit

NGRAM = 4


def shingles(text: str, n: int = NGRAM) -> set[str]:
    text = "".join(text.split())
    return {text[i : i + n] for i in range(max(1, len(text) - n + 1))}


def containment(a: set[str], b: set[str]) -> float:
    """Share of the smaller set found in the other (1.0 when one passage quotes the other)."""
    if not a or not b:
        return 0.0
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    return len(small & big) / len(small)


def joined(article_text: str, a: Chunk, b: Chunk, max_chars: int) -> Chunk | None:
    """One passage spanning two touching (or overlapping) passages of an article, in ``a``'s
    place; None when they do not touch or the span would pass ``max_chars``."""
    start, end = min(a.start, b.start), max(a.end, b.end)
    touching = a.end >= b.start - 2 and b.end >= a.start - 2
    if not touching or end - start > max_chars or article_text[a.start : a.end] != a.text:
        return None
    return replace(a, text=article_text[start:end], start=start, end=end)


def _grouped(kept: Hit, hit: Hit, merge_chars: int, passages: int) -> Hit | None:
    """``kept`` taking in ``hit``, a further passage of its article.  The passages, best first,
    are coalesced (two that touch become one in the better one's place while the span stays
    within ``merge_chars``); the hit keeps the first as its passage and the rest as ``more``.
    None when more than ``passages`` would be left (``hit`` is then dropped)."""
    spans = [kept.chunk, *kept.more, hit.chunk]
    while merge_chars > 0:
        pair = next(
            (
                (i, j, w)
                for i, j in combinations(range(len(spans)), 2)
                if (w := joined(kept.article.text, spans[i], spans[j], merge_chars))
            ),
            None,
        )
        if pair is None:
            break
        i, j, wide = pair
        spans[i] = wide
        del spans[j]
    if len(spans) > passages:
        return None
    return replace(kept, chunk=spans[0], more=tuple(spans[1:]))


def collapse(
    hits: Sequence[Hit],
    k: int,
    per_article: int = 1,
    near_dup: float = 0.8,
    merge_chars: int = 900,
    passages: int = 1,
) -> list[Hit]:
    """The best ``k`` distinct hits, re-ranked 1..n.  A further passage of an article that is
    already full is merged into a touching kept passage while the span stays within
    ``merge_chars`` (the answer often continues in the next chunk), else kept under that hit
    (``Hit.more``) while the hit holds fewer than ``passages``, else dropped.
    per_article ≤ 0, near_dup ≥ 1 and merge_chars ≤ 0 disable the respective rule."""
    kept: list[Hit] = []
    seen: list[set[str]] = []
    per: dict[int, int] = {}
    for hit in hits:
        aid = hit.chunk.article_id
        if per_article > 0 and per.get(aid, 0) >= per_article:
            for i, other in enumerate(kept):
                if other.chunk.article_id == aid and (wide := _grouped(other, hit, merge_chars, passages)):
                    kept[i] = wide
                    break
            continue
        if len(kept) >= k:
            continue  # later chunks may still widen a kept passage
        grams = shingles(hit.chunk.text) if near_dup < 1 else set()
        if near_dup < 1 and any(
            containment(grams, g) >= near_dup for h, g in zip(kept, seen) if h.chunk.article_id != aid
        ):
            continue
        per[aid] = per.get(aid, 0) + 1
        kept.append(replace(hit, rank=len(kept) + 1))
        seen.append(grams)
    return kept
