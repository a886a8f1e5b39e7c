"""Run a question set through an ``ask`` function and score every answer.

``ask(question)`` returns an ``Answer`` whose ``hits`` are everything the
retriever returned (the evaluation asks for at least ten so hit@10 and nDCG@10
mean something) and whose ``timings`` hold the seconds per stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.models import Answer

from .questions import Question
from .result import QuestionResult, score
from .scores import aggregate

Progress = Callable[[int, int, QuestionResult], None]


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


def _run_one(q: Question, ask: Callable[[str], Answer], clock: Callable[[], float]) -> QuestionResult:
    t0 = clock()
    try:
        ans = ask(q.question)
    except Exception as exc:  # noqa: BLE001 - one failing question must not lose the whole run
        res = QuestionResult(q, None, seconds=clock() - t0, error=f"{type(exc).__name__}: {exc}")
        if q.answerable:  # counts as a miss everywhere, not as a smaller denominator
            res.contains_gold = res.exact_match = False
            res.ndcg = res.f1 = res.rouge_l = res.citation_recall = 0.0
        return res
    return score(q, ans, clock() - t0)


def evaluate(
    questions: Sequence[Question],
    ask: Callable[[str], Answer],
    k: int = 5,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> EvalResult:
    """Ask every question, score it, and aggregate overall and per type.

    ``k`` is the number of passages the answer was generated from: it names the
    ``hit@k`` and ``all_evidence_hit@k`` columns. ``progress`` is called after
    each question as ``progress(done, total, result)``.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    results: list[QuestionResult] = []
    for i, q in enumerate(questions, 1):
        res = _run_one(q, ask, clock)
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
