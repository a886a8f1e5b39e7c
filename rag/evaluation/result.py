"""One question's outcome, scored: retrieval ranks, answer scores, citation scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rag.models import Answer

from .metrics import char_f1, contains_gold, exact_match, rouge_l
from .questions import Question
from .relevance import all_evidence_rank, citation_precision, citation_recall, hit_rank, ndcg_at

RANK_DEPTH = 10
# answer and citation scores of one question (None for unanswerable ones)
ANSWER_SCORES = ("contains_gold", "exact_match", "f1", "rouge_l", "citation_precision", "citation_recall")


@dataclass
class QuestionResult:
    """One question's outcome. ``answer`` is None when ``ask`` raised (see ``error``).

    Answer scores (contains_gold … rouge_l) and citation scores are None for
    unanswerable questions; ``citation_precision`` is also None when nothing was cited.
    """

    question: Question
    answer: Answer | None
    rank: int | None = None
    all_rank: int | None = None
    ndcg: float | None = None
    contains_gold: bool | None = None
    exact_match: bool | None = None
    f1: float | None = None
    rouge_l: float | None = None
    citation_precision: float | None = None
    citation_recall: float | None = None
    refused: bool = False
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        q, a = self.question, self.answer
        scores = {k: getattr(self, k) for k in ("rank", "ndcg", *ANSWER_SCORES, "refused")}
        return {
            "id": q.id,
            "type": q.type,
            "question": q.question,
            "gold": q.answer,
            "aliases": list(q.aliases),
            "answerable": q.answerable,
            **scores,
            "all_evidence_rank": self.all_rank,
            "seconds": round(self.seconds, 4),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "answer": a.text if a else "",
            "short": a.short if a else "",
            "reason": a.reason if a else "",
            "citations": [c.to_dict() for c in a.citations] if a else [],
            "hits": [h.to_dict() for h in a.hits] if a else [],
            "error": self.error,
        }


def score(q: Question, ans: Answer, seconds: float) -> QuestionResult:
    """Score one answer against its question."""
    hits = list(ans.hits)
    timings = {"total": seconds, **ans.timings}
    res = QuestionResult(question=q, answer=ans, refused=bool(ans.refused), seconds=seconds, timings=timings)
    if not q.answerable:
        return res
    scored_text = ans.short or ans.text
    cited = [c.hit for c in ans.citations]
    res.rank = hit_rank(q, hits)
    res.all_rank = all_evidence_rank(q, hits)
    res.ndcg = ndcg_at(q, hits, RANK_DEPTH)
    res.contains_gold = contains_gold(ans.text, q.answer, q.aliases)
    res.exact_match = exact_match(scored_text, q.answer, q.aliases)
    res.f1 = char_f1(scored_text, q.answer, q.aliases)
    res.rouge_l = rouge_l(scored_text, q.answer, q.aliases)
    res.citation_precision = citation_precision(q, cited)
    res.citation_recall = citation_recall(q, cited)
    return res
