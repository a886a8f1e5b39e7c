"""Distinct top k: at most ``per_article`` chunks of one article, and no near-duplicate stories.

Two papers often print the same Xinhua story; overlapping or neighbouring chunks of one long
article crowd out other evidence.  With ``per_article=1`` (the default) the top k are k
articles, each hit holding its article's best passage, widened to take in a touching next
chunk of the same article when that is also a candidate.  ``collapse`` walks the hits best first and keeps one only
when its article is not yet full and its text is not a near copy (character 4-gram
containment ≥ ``near_dup``) of a passage already kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rag.models import Hit

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


def merged(kept: Hit, hit: Hit, max_chars: int) -> Hit | None:
    """``kept`` widened to take in ``hit``, a neighbouring chunk of the same article (offsets
    are into the article text); None when they do not touch or the result is too long."""
    a, b = kept.chunk, hit.chunk
    if b.id == a.id or (a.start <= b.start and b.end <= a.end):
        return kept  # already inside
    start, end = min(a.start, b.start), max(a.end, b.end)
    touching = a.end >= b.start - 2 and b.end >= a.start - 2
    if not touching or end - start > max_chars or kept.article.text[a.start : a.end] != a.text:
        return None
    chunk = replace(a, text=kept.article.text[start:end], start=start, end=end)
    return replace(kept, chunk=chunk)


def _grouped(kept: Hit, hit: Hit, merge_chars: int, passages: int) -> Hit | None:
    """``kept`` taking in ``hit``, a further passage of its article: merged into a touching
    passage (main or further) while within ``merge_chars``, else added as a further passage
    while the hit holds fewer than ``passages``; None when neither."""
    if merge_chars > 0:
        if wide := merged(kept, hit, merge_chars):
            more = []
            for c in kept.more:  # a further passage the widened one now touches joins it
                joined = merged(replace(wide, more=()), replace(wide, chunk=c), merge_chars)
                if joined is not None:
                    wide = joined
                else:
                    more.append(c)
            return replace(wide, more=tuple(more))
        for i, c in enumerate(kept.more):
            if wide := merged(replace(kept, chunk=c, more=()), hit, merge_chars):
                return replace(kept, more=(*kept.more[:i], wide.chunk, *kept.more[i + 1 :]))
    if 1 + len(kept.more) < passages:
        return replace(kept, more=(*kept.more, hit.chunk))
    return None


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
