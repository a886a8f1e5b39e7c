"""Relevance of retrieved and cited passages: evidence ranks, hit@k, MRR, nDCG, citation precision/recall.

A question's *targets* are what a relevant passage must hold: each evidence
string (in its source file, for evidence-based sets) or each gold article id
(for document-based sets).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import PureWindowsPath

from rag.models import Hit

from .metrics import contains_gold, evidence_in
from .questions import Question


def _basename(path: str) -> str:
    """File name of a POSIX or Windows path."""
    return PureWindowsPath(path).name if path else ""


def _targets(q: Question) -> list[tuple[set[str], str]]:
    """(accepted source basenames, evidence) per evidence; an empty set accepts any source."""
    names = [_basename(s) for s in q.sources]
    if len(names) == len(q.evidence):
        return [({names[i]}, ev) for i, ev in enumerate(q.evidence)]
    return [(set(names), ev) for ev in q.evidence]


def _covers(hit: Hit, sources: set[str], evidence: str) -> bool:
    """The hit (any of its article's passages it holds) has the evidence."""
    if sources and _basename(hit.article.source) not in sources:
        return False
    return any(evidence_in(c.text, evidence) for c in (hit.chunk, *hit.more))


def _first_rank(hits: Sequence[Hit], pred) -> int | None:
    for i, h in enumerate(hits, 1):
        if pred(h):
            return i
    return None


def hit_rank(question: Question, hits: Sequence[Hit]) -> int | None:
    """1-based position of the first hit holding the evidence (or a gold document)."""
    if question.evidence:
        targets = _targets(question)
        return _first_rank(hits, lambda h: any(_covers(h, s, ev) for s, ev in targets))
    if question.gold_doc_ids:
        gold = set(question.gold_doc_ids)
        return _first_rank(hits, lambda h: h.article.doc_id in gold)
    return None


def all_evidence_rank(question: Question, hits: Sequence[Hit]) -> int | None:
    """Rank by which every evidence is covered (multi_hop), or None.

    Equals hit_rank for one evidence; for document-based questions any one
    gold document suffices, so it also equals hit_rank.
    """
    if not question.evidence:
        return hit_rank(question, hits)
    ranks = [_first_rank(hits, lambda h, s=s, ev=ev: _covers(h, s, ev)) for s, ev in _targets(question)]
    if any(r is None for r in ranks):
        return None
    return max(r for r in ranks if r is not None)


def hit_at(ranks: Sequence[int | None], k: int) -> float:
    """Fraction of ranks that are ≤ k (None = not found); 0.0 for no ranks."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr(ranks: Sequence[int | None]) -> float:
    """Mean reciprocal rank (None counts 0); 0.0 for no ranks."""
    if not ranks:
        return 0.0
    return sum(1.0 / r for r in ranks if r) / len(ranks)


def _covered(question: Question, hit: Hit) -> set[int]:
    """Indices of the question's targets this hit holds."""
    if question.evidence:
        return {i for i, (s, ev) in enumerate(_targets(question)) if _covers(hit, s, ev)}
    return {i for i, d in enumerate(question.gold_doc_ids) if hit.article.doc_id == d}


def _target_count(question: Question) -> int:
    return len(question.evidence) if question.evidence else len(question.gold_doc_ids)


def ndcg_at(question: Question, hits: Sequence[Hit], k: int = 10) -> float:
    """Binary nDCG@k where a hit gains 1 when it holds a target no earlier hit held.

    Repeating a target (two chunks of one article) earns nothing; the ideal
    ranking puts one hit per target first.
    """
    targets = _target_count(question)
    if not targets:
        return 0.0
    seen: set[int] = set()
    dcg = 0.0
    for i, hit in enumerate(hits[:k], 1):
        new = _covered(question, hit) - seen
        if new:
            dcg += 1.0 / math.log2(i + 1)
            seen |= new
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(targets, k) + 1))
    return dcg / ideal


def citation_supported(question: Question, hit: Hit) -> bool:
    """A cited passage is right when it holds a target or states the gold answer."""
    if _covered(question, hit):
        return True
    return bool(question.answer) and contains_gold(hit.chunk.text, question.answer, question.aliases)


def citation_precision(question: Question, cited: Sequence[Hit]) -> float | None:
    """Share of cited passages that support the answer; None when nothing is cited."""
    if not cited:
        return None
    return sum(1 for h in cited if citation_supported(question, h)) / len(cited)


def citation_recall(question: Question, cited: Sequence[Hit]) -> float:
    """Share of evidence strings held by some cited passage.

    For document-based questions any one gold article suffices (as for
    hit_rank), as does a cited passage stating the answer: 1.0 or 0.0.
    """
    if question.evidence:
        held: set[int] = set()
        for h in cited:
            held |= _covered(question, h)
        return len(held) / len(question.evidence)
    return 1.0 if any(citation_supported(question, h) for h in cited) else 0.0
