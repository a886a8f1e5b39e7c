"""Answerability as a calibrated decision: a logistic model over what the evidence says about a
question, instead of a chain of hand rules.

The extractive answerer computes ``FEATURES`` for its best candidate (support of the chosen
sentence, coverage of the question's specific words — names, places, years, ordinals — by
its article, whether a whole span of the asked kind and unit exists, …) and answers only when
``probability`` reaches the model's threshold.  The model is fitted by
``bench/fit_answer_models.py`` on question sets with answerable and unanswerable questions
(scikit-learn logistic regression, k-fold by question); the threshold is the highest whose
cross-validated false-refusal rate stays ≤ 5 %.  It is stored as plain JSON
(``answerability.json``, rag.logistic).
"""

from __future__ import annotations

from pathlib import Path

from rag.logistic import LogisticModel, read_model

MODEL_FILE = Path(__file__).with_name("answerability.json")
READER_MODEL_FILE = Path(__file__).with_name("answerability_reader.json")  # the same with the reader's say

FEATURES = (
    "support",  # weighted share of the question's content words the chosen sentence covers (context credit)
    "own_support",  # the same, by the sentence alone
    "span_support",  # the same, by the clause holding the answer span and the clause before it
    "evidence",  # the same, over all retrieved passages
    "article_cover",  # the same, over the chosen sentence's whole article (headline and metadata too)
    "article_absent",  # weighted share of the question's content words absent (as words) from that article
    "specific_missing",  # share of the question's names, places, numbers, years, ordinals not in the passage
    "sentence_missing",  # the same, not in the chosen sentence itself
    "conflict",  # the sentence names another year, date or ordinal than the question does
    "places_ok",  # every place the question names is in that article
    "span_missing",  # the question wants a typed span (number, name, date, 是/否 …) and no whole one fits
    "focus",  # share of the counted thing's bigrams (运营车站) in the sentence's passage (1: none asked)
    "phrase",  # longest verbatim stretch of the question in the sentence / question length
    "rank",  # 1 / rank of the chosen sentence's passage
)


READER_FEATURES = (*FEATURES, "reader")  # + the reader's probability that the chosen sentence answers


def load_model(path: str | None = None, reader: bool = False) -> LogisticModel:
    """The packaged answerability model — with the reader's feature or without — or the one at ``path``."""
    if reader:
        return read_model(str(path or READER_MODEL_FILE), READER_FEATURES)
    return read_model(str(path or MODEL_FILE), FEATURES)


REASONS = {
    "support": "最相关的句子没有说到问题的要点",
    "own_support": "最相关的句子没有说到问题的要点",
    "span_support": "找到的答案所在的分句说的不是问题问的事",
    "evidence": "检索到的段落没有说到问题的要点",
    "article_cover": "相关的文章没有说到问题的要点",
    "article_absent": "相关的文章里没有问题说的{absent}",
    "specific_missing": "相关的段落里没有问题提到的{specific}",
    "sentence_missing": "相关的句子里没有问题提到的{specific}",
    "conflict": "相关的句子说的是另一个{other}",
    "places_ok": "相关的段落说的不是{places}",
    "span_missing": "相关的句子里没有问题所问的{asked}",
    "focus": "相关的段落没有提到问题问的“{focus}”",
    "phrase": "最相关的句子与问题的说法相去较远",
    "rank": "相关的句子排得太靠后",
    "reader": "最相关的句子读来没有回答这个问题",
}
