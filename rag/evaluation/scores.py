"""Aggregate per-question scores into the numbers a report shows, and describe each metric.

Every rate is over the questions it makes sense for and is None when that
group is empty: retrieval and answer scores over answerable questions,
``all_evidence_hit@k`` over answerable questions with several evidences,
``refusal_accuracy`` over unanswerable ones, citation precision over answers
that cite something. Latencies are milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .relevance import hit_at, mrr
from .result import ANSWER_SCORES, QuestionResult

HIT_KS = (1, 3, 5, 10)
STAGES = ("retrieve", "generate", "total")


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    higher_is_better: bool = True
    latency: bool = False


def metrics_for(k: int) -> list[Metric]:
    """The metrics of a run generating from ``k`` passages, in report order."""
    hits = [Metric(f"hit@{n}", f"hit@{n}") for n in sorted({*HIT_KS, k})]
    return [
        *hits,
        Metric("mrr", "MRR"),
        Metric("ndcg@10", "nDCG@10"),
        Metric(f"all_evidence_hit@{k}", f"全部证据@{k}"),
        Metric("contains_gold", "含答案"),
        Metric("exact_match", "精确匹配"),
        Metric("f1", "字符F1"),
        Metric("rouge_l", "ROUGE-L"),
        Metric("citation_precision", "引用准确率"),
        Metric("citation_recall", "引用召回率"),
        Metric("refusal_accuracy", "拒答准确率"),
        Metric("false_refusal_rate", "误拒率", higher_is_better=False),
        *[
            Metric(f"{s}_{p}_ms", f"{s} {p} ms", higher_is_better=False, latency=True)
            for s in STAGES
            for p in ("p50", "p95")
        ],
    ]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default); None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _mean(values: Sequence[float | bool | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def aggregate(results: Sequence[QuestionResult], k: int) -> dict[str, Any]:
    """The scores of a group of results (see the module docstring for the denominators)."""
    ans = [r for r in results if r.question.answerable]
    unans = [r for r in results if not r.question.answerable]
    multi = [r for r in ans if len(r.question.evidence) > 1]
    ranks = [r.rank for r in ans]
    out: dict[str, Any] = {"n": len(results), "answerable": len(ans), "unanswerable": len(unans)}
    for n in sorted({*HIT_KS, k}):
        out[f"hit@{n}"] = hit_at(ranks, n) if ans else None
    out["mrr"] = mrr(ranks) if ans else None
    out["ndcg@10"] = _mean([r.ndcg for r in ans])
    out[f"all_evidence_hit@{k}"] = hit_at([r.all_rank for r in multi], k) if multi else None
    for key in ANSWER_SCORES:
        out[key] = _mean([getattr(r, key) for r in ans])
    out["refusal_accuracy"] = _mean([r.refused for r in unans])
    out["false_refusal_rate"] = _mean([r.refused for r in ans])
    for stage in STAGES:
        secs = [r.timings[stage] for r in results if stage in r.timings and not r.error]
        for p in (50, 95):
            v = percentile(secs, p)
            out[f"{stage}_p{p}_ms"] = None if v is None else round(v * 1000, 2)
    out["errors"] = sum(1 for r in results if r.error)
    return out


def failure_severity(r: QuestionResult, k: int) -> float:
    """How badly a question went: 0 for a clean success, larger for worse failures."""
    if r.error:
        return 10.0
    if not r.question.answerable:
        return 0.0 if r.refused else 4.0
    sev = 0.0 if r.contains_gold else 3.0
    sev += 0.0 if r.rank is not None and r.rank <= k else 1.5
    sev += 1.0 if r.refused else 0.0
    if r.citation_precision is not None:
        sev += 1.0 - r.citation_precision
    return sev + 0.5 * (1.0 - (r.f1 or 0.0)) if sev else 0.0


def worst_failures(results: Sequence[QuestionResult], k: int, n: int = 20) -> list[QuestionResult]:
    """The ``n`` worst failures, worst first (successes never appear)."""
    bad = [(failure_severity(r, k), i, r) for i, r in enumerate(results)]
    bad = [t for t in bad if t[0] > 0]
    bad.sort(key=lambda t: (-t[0], t[1]))
    return [r for _, _, r in bad[:n]]


def fmt(metric_key: str, value: Any) -> str:
    """A table cell: — for None, ms with one decimal, rates with three."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if metric_key.endswith("_ms"):
        return f"{value:.1f}"
    return f"{value:.3f}"


def refusal_curve(results: Sequence[QuestionResult], steps: int = 20) -> list[dict[str, float | None]]:
    """How refusals would move with the answerability threshold: at each threshold, the share of
    unanswerable questions refused and of answerable ones refused (false refusals).  A question
    refuses at threshold t when its answer's ``confidence`` is below t, or when it was refused
    before any model decided (no passages, not Chinese: ``confidence`` None)."""

    def refused(r: QuestionResult, t: float) -> bool:
        a = r.answer
        if a is None:
            return True
        return a.confidence < t if a.confidence is not None else bool(a.refused)

    curve = []
    for i in range(steps + 1):
        t = i / steps
        unans = [refused(r, t) for r in results if not r.question.answerable]
        ans = [refused(r, t) for r in results if r.question.answerable]
        curve.append(
            {
                "threshold": round(t, 3),
                "refused_unanswerable": sum(unans) / len(unans) if unans else None,
                "false_refusal": sum(ans) / len(ans) if ans else None,
            }
        )
    return curve
