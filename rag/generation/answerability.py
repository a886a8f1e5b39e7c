"""Answerability as a calibrated decision: a logistic model over what the evidence says about a
question, instead of a chain of hand rules.

The extractive answerer computes ``FEATURES`` for its best candidate (support of the chosen
sentence, coverage of the question's specific words — names, places, years, ordinals — by
its article, whether a whole span of the asked kind and unit exists, …) and answers only when
``probability`` reaches the model's threshold.  The model is fitted by
``bench/fit_answerability.py`` on question sets with answerable and unanswerable questions
(scikit-learn logistic regression, k-fold by question); the threshold is the highest whose
cross-validated false-refusal rate stays ≤ 5 %.  It is stored as plain JSON
(``answerability.json``: feature names, standardisation, coefficients, threshold, what it was
fitted on) — no pickle, no code — and read here with no dependency beyond the standard library.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

MODEL_FILE = Path(__file__).with_name("answerability.json")
MODEL_VERSION = 1

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
    "span_missing",  # the question wants a typed span (number, name, date …) and no whole one fits
    "focus",  # share of the counted thing's bigrams (运营车站) in the sentence's passage (1: none asked)
    "phrase",  # longest verbatim stretch of the question in the sentence / question length
    "rank",  # 1 / rank of the chosen sentence's passage
)


class AnswerabilityModelError(ValueError):
    """The model file is missing, malformed or for other features."""


@dataclass(frozen=True)
class AnswerabilityModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    meta: dict = field(default_factory=dict, compare=False)

    def logit(self, values: dict[str, float]) -> float:
        return self.intercept + sum(self.contributions(values).values())

    def probability(self, values: dict[str, float]) -> float:
        """P(answerable) for one candidate's feature values."""
        z = self.logit(values)
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0

    def contributions(self, values: dict[str, float]) -> dict[str, float]:
        """Each feature's share of the logit (for explanations: the weakest names the reason)."""
        return {
            f: c * (values[f] - m) / s
            for f, m, s, c in zip(self.features, self.mean, self.scale, self.coef, strict=True)
        }

    def to_json(self) -> dict:
        return {
            "version": MODEL_VERSION,
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "threshold": self.threshold,
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict, where: str = "answerability model") -> AnswerabilityModel:
        try:
            if data.get("version") != MODEL_VERSION:
                raise AnswerabilityModelError(f"{where}: version {data.get('version')!r}, expected {MODEL_VERSION}")
            features = tuple(data["features"])
            if features != FEATURES:
                raise AnswerabilityModelError(f"{where}: fitted on features {features}, this code computes {FEATURES}")
            mean, scale, coef = (tuple(float(x) for x in data[k]) for k in ("mean", "scale", "coef"))
            if any(len(a) != len(features) for a in (mean, scale, coef)) or any(s <= 0 for s in scale):
                raise AnswerabilityModelError(f"{where}: mean/scale/coef do not fit the features")
            threshold = float(data["threshold"])
            return cls(features, mean, scale, coef, float(data["intercept"]), threshold, data.get("meta") or {})
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, AnswerabilityModelError):
                raise
            raise AnswerabilityModelError(f"{where}: malformed ({exc})") from exc


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> AnswerabilityModel:
    """The packaged model (or the one at ``path``)."""
    p = Path(path) if path else MODEL_FILE
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise AnswerabilityModelError(f"{p}: cannot read the answerability model: {exc}") from exc
    return AnswerabilityModel.from_json(data, str(p))


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
}
