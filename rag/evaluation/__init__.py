"""Evaluation: question sets, scoring functions, the runner, reports and run comparison."""

from .metrics import char_f1, contains_gold, evidence_in, exact_match, normalize, rouge_l
from .questions import Question, QuestionSetError, load_questions
from .relevance import all_evidence_rank, citation_precision, citation_recall, hit_at, hit_rank, mrr, ndcg_at
from .result import QuestionResult
from .runner import EvalResult, evaluate
from .scores import aggregate

__all__ = [
    "EvalResult",
    "Question",
    "QuestionResult",
    "QuestionSetError",
    "aggregate",
    "all_evidence_rank",
    "char_f1",
    "citation_precision",
    "citation_recall",
    "contains_gold",
    "evaluate",
    "evidence_in",
    "exact_match",
    "hit_at",
    "hit_rank",
    "load_questions",
    "mrr",
    "ndcg_at",
    "normalize",
    "rouge_l",
]
