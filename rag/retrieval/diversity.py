"""Distinct top k: at most ``per_article`` chunks of one article, and no near-duplicate stories.

Two papers often print the same Xinhua story; overlapping or neighbouring chunks of one long
article crowd out other evidence.  ``collapse`` walks the hits best first and keeps one only
when its article is not yet full and its text is not a near copy (character 4-gram
containment ≥ ``near_dup``) of a passage already kept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

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


def collapse(hits: Sequence[Hit], k: int, per_article: int = 1,
             near_dup: float = 0.8) -> list[Hit]:
    """The best ``k`` distinct hits, re-ranked 1..n; per_article ≤ 0 or near_dup ≥ 1 disable
    the respective rule."""
    kept: list[Hit] = []
    seen: list[set[str]] = []
    per: dict[int, int] = {}
    for hit in hits:
        if len(kept) >= k:
            break
        aid = hit.chunk.article_id
        if per_article > 0 and per.get(aid, 0) >= per_article:
            continue
        grams = shingles(hit.chunk.text) if near_dup < 1 else set()
        if near_dup < 1 and any(
                containment(grams, g) >= near_dup for h, g in zip(kept, seen)
                if h.chunk.article_id != aid):
            continue
        per[aid] = per.get(aid, 0) + 1
        kept.append(replace(hit, rank=len(kept) + 1))
        seen.append(grams)
    return kept
