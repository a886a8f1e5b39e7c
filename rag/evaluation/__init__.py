"""Evaluation: question sets, scoring functions and the runner."""

from .metrics import (
    all_evidence_rank,
    contains_gold,
    evidence_in,
    hit_at,
    hit_rank,
    mrr,
    normalize,
)
from .questions import Question, QuestionSetError, load_questions
from .runner import EvalResult, QuestionResult, aggregate, evaluate

__all__ = [
    "EvalResult",
    "Question",
    "QuestionResult",
    "QuestionSetError",
    "aggregate",
    "all_evidence_rank",
    "contains_gold",
    "evaluate",
    "evidence_in",
    "hit_at",
    "hit_rank",
    "load_questions",
    "mrr",
    "normalize",
]
