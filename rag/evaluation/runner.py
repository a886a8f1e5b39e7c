"""Run a question set through an ``ask`` function and score every answer.

``ask(question)`` returns an ``Answer`` whose ``hits`` are everything the
retriever returned (the evaluation asks for at least ten so hit@10 and nDCG@10
mean something) and whose ``timings`` hold the seconds per stage.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.models import Answer

from .questions import Question
from .result import RANK_DEPTH, QuestionResult, score
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


def evaluate_assistant(
    bot, questions: Sequence[Question], source: Path, k: int | None = None, progress: Progress | None = None
) -> tuple[EvalResult, dict[str, Any]]:
    """Score ``questions`` through a façade (``rag.assistant.Assistant``: its retrieve step and
    generator); returns the result and the run's metadata (index, settings, git, timing).

    A misconfigured generator, a missing or mismatched index fail before the first question; the
    model loads outside the timed run.  Each question retrieves ``RANK_DEPTH`` passages and the
    answer reads the top ``k``.
    """
    generator = bot.generator()
    k = k or bot.settings.k
    stats = bot.archive.stats()
    if questions:
        bot.search(questions[0].question, k)
    started = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    result = evaluate(questions, lambda q: bot.ask(q, k, depth=RANK_DEPTH), k=k, progress=progress)
    meta = {
        "questions_file": str(source),
        "questions": len(questions),
        "index": str(bot.location),
        "articles": stats.get("articles"),
        "chunks": stats.get("chunks"),
        "retriever": bot.settings.retriever,
        "generator": bot.settings.generator,
        "answer_threshold": getattr(generator, "threshold", None),
        "k": k,
        "rank_depth": RANK_DEPTH,
        "settings": bot.settings.to_dict(),
        "manifest": stats.get("manifest"),
        "git": git_state(),
        "started_at": started,
        "wall_seconds": round(time.perf_counter() - t0, 2),
    }
    return result, meta


def git_state(where: Path | None = None) -> dict[str, Any]:
    """The commit the code runs from and whether the work tree has uncommitted changes."""
    cwd = where or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(dirty)}
