"""Run a question set through an ``ask`` function and aggregate the scores."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.models import Answer

from .metrics import all_evidence_rank, contains_gold, hit_at, hit_rank, mrr
from .questions import Question

Progress = Callable[[int, int, "QuestionResult"], None]


@dataclass
class QuestionResult:
    """One question's outcome. ``answer`` is None when ``ask`` raised (see ``error``)."""

    question: Question
    answer: Answer | None
    rank: int | None
    all_rank: int | None
    contains_gold: bool
    refused: bool
    seconds: float
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        q, a = self.question, self.answer
        return {
            "id": q.id,
            "type": q.type,
            "question": q.question,
            "gold": q.answer,
            "aliases": list(q.aliases),
            "answerable": q.answerable,
            "rank": self.rank,
            "all_evidence_rank": self.all_rank,
            "contains_gold": self.contains_gold,
            "refused": self.refused,
            "seconds": round(self.seconds, 4),
            "answer": a.text if a else "",
            "reason": a.reason if a else "",
            "citations": [c.to_dict() for c in a.citations] if a else [],
            "hits": [h.to_dict() for h in a.hits] if a else [],
            "error": self.error,
        }


def _rate(flags: Sequence[bool]) -> float | None:
    return sum(1 for f in flags if f) / len(flags) if flags else None


def aggregate(results: Sequence[QuestionResult], k: int) -> dict[str, Any]:
    """Scores of a group of results; a rate is None where its group is empty.

    Retrieval scores (hit@k, MRR) and contains-gold are over answerable
    questions; ``all_evidence_hit@k`` over answerable questions with several
    evidences; ``refusal_rate`` over unanswerable ones; ``false_refusal_rate``
    over answerable ones; ``median_seconds`` over all.
    """
    ans = [r for r in results if r.question.answerable]
    unans = [r for r in results if not r.question.answerable]
    multi = [r for r in ans if len(r.question.evidence) > 1]
    ranks = [r.rank for r in ans]
    out: dict[str, Any] = {
        "n": len(results),
        "answerable": len(ans),
        "unanswerable": len(unans),
        "hit@1": hit_at(ranks, 1) if ans else None,
        "hit@5": hit_at(ranks, 5) if ans else None,
    }
    out[f"hit@{k}"] = hit_at(ranks, k) if ans else None
    out["mrr"] = mrr(ranks) if ans else None
    out[f"all_evidence_hit@{k}"] = hit_at([r.all_rank for r in multi], k) if multi else None
    out["contains_gold"] = _rate([r.contains_gold for r in ans])
    out["refusal_rate"] = _rate([r.refused for r in unans])
    out["false_refusal_rate"] = _rate([r.refused for r in ans])
    out["median_seconds"] = statistics.median(r.seconds for r in results) if results else None
    out["errors"] = sum(1 for r in results if r.error)
    return out


# (key in aggregate(), column header) for summary tables
SUMMARY_COLUMNS: list[tuple[str, str]] = [
    ("n", "n"),
    ("hit@1", "hit@1"),
    ("hit@5", "hit@5"),
    ("mrr", "MRR"),
    ("contains_gold", "含答案"),
    ("refusal_rate", "拒答率(无答案)"),
    ("false_refusal_rate", "误拒率(有答案)"),
    ("median_seconds", "中位秒数"),
]


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if key == "median_seconds":
        return f"{value:.2f}"
    return f"{value:.3f}"


@dataclass
class EvalResult:
    k: int
    results: list[QuestionResult]
    overall: dict[str, Any]
    by_type: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self, include_questions: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {"k": self.k, "overall": self.overall, "by_type": self.by_type}
        if include_questions:
            d["questions"] = [r.to_dict() for r in self.results]
        return d

    @staticmethod
    def summary_headers() -> list[str]:
        return ["组别"] + [h for _, h in SUMMARY_COLUMNS]

    def summary_rows(self) -> list[list[str]]:
        """Formatted rows matching summary_headers(): "overall" first, then each type."""
        groups = [("overall", self.overall), *self.by_type.items()]
        return [[name] + [_fmt(key, agg.get(key)) for key, _ in SUMMARY_COLUMNS] for name, agg in groups]


def _run_one(
    q: Question, ask: Callable[[str], Answer], k: int, clock: Callable[[], float]
) -> QuestionResult:
    t0 = clock()
    try:
        ans = ask(q.question)
    except Exception as exc:  # one failing question must not lose the whole run
        secs = clock() - t0
        return QuestionResult(q, None, None, None, False, False, secs, f"{type(exc).__name__}: {exc}")
    secs = clock() - t0
    hits = list(ans.hits)[:k]
    return QuestionResult(
        question=q,
        answer=ans,
        rank=hit_rank(q, hits) if q.answerable else None,
        all_rank=all_evidence_rank(q, hits) if q.answerable else None,
        contains_gold=contains_gold(ans.text, q.answer, q.aliases) if q.answerable else False,
        refused=bool(ans.refused),
        seconds=secs,
    )


def evaluate(
    questions: Sequence[Question],
    ask: Callable[[str], Answer],
    k: int = 5,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> EvalResult:
    """Ask every question, score it, and aggregate overall and per type.

    Only the first ``k`` hits of each answer count for ranks. ``progress`` is
    called after each question as ``progress(done, total, result)``.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    results: list[QuestionResult] = []
    for i, q in enumerate(questions, 1):
        res = _run_one(q, ask, k, clock)
        results.append(res)
        if progress is not None:
            progress(i, len(questions), res)
    types: dict[str, list[QuestionResult]] = {}
    for r in results:
        types.setdefault(r.question.type, []).append(r)
    return EvalResult(
        k=k,
        results=results,
        overall=aggregate(results, k),
        by_type={t: aggregate(rs, k) for t, rs in types.items()},
    )
