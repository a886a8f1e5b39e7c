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
    start, end = min(a.start, b.start), max(a.end, b.end)
    touching = a.end >= b.start - 2 and b.end >= a.start - 2
    if not touching or end - start > max_chars or kept.article.text[a.start : a.end] != a.text:
        return None
    chunk = replace(a, text=kept.article.text[start:end], start=start, end=end)
    return replace(kept, chunk=chunk)


def collapse(
    hits: Sequence[Hit], k: int, per_article: int = 1, near_dup: float = 0.8, merge_chars: int = 900
) -> list[Hit]:
    """The best ``k`` distinct hits, re-ranked 1..n.  A further chunk of an article that is
    already full is merged into its neighbouring kept chunk while the passage stays within
    ``merge_chars`` (the answer often continues in the next chunk), else dropped.
    per_article ≤ 0, near_dup ≥ 1 and merge_chars ≤ 0 disable the respective rule."""
    kept: list[Hit] = []
    seen: list[set[str]] = []
    per: dict[int, int] = {}
    for hit in hits:
        aid = hit.chunk.article_id
        if per_article > 0 and per.get(aid, 0) >= per_article:
            for i, other in enumerate(kept):
                wide = merge_chars > 0 and other.chunk.article_id == aid and merged(other, hit, merge_chars)
                if wide:
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
