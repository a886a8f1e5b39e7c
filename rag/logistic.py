"""A logistic model stored as plain JSON (feature names, standardisation, coefficients, a
threshold, what it was fitted on): no pickle, no code, read with the standard library alone.
The answerer keeps two: which sentence answers (rag.generation.candidates) and whether the
passages answer at all (rag.generation.answerability); bench/fit_answer_models.py fits both.
The learned ranker (rag.retrieval.ranker) keeps one per first stage; bench/fit_ranker.py."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_VERSION = 1


class ModelFileError(ValueError):
    """A model file is missing, malformed or fitted on other features."""


@dataclass(frozen=True)
class LogisticModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float = 0.5
    meta: dict = field(default_factory=dict, compare=False)

    def logit(self, values: dict[str, float]) -> float:
        return self.intercept + sum(self.contributions(values).values())

    def probability(self, values: dict[str, float]) -> float:
        z = self.logit(values)
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0

    def contributions(self, values: dict[str, float]) -> dict[str, float]:
        """Each feature's share of the logit (for explanations: the weakest names the reason)."""
        return {
            f: c * (values[f] - m) / s
            for f, m, s, c in zip(self.features, self.mean, self.scale, self.coef, strict=True)
        }

    def logits(self, rows: np.ndarray) -> np.ndarray:
        """The logit of each row of a ``(n, len(features))`` array (columns in feature order)."""
        coef = np.asarray(self.coef) / np.asarray(self.scale)
        return (rows - np.asarray(self.mean)) @ coef + self.intercept

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
    def from_json(cls, data: dict, expected: tuple[str, ...], where: str) -> LogisticModel:
        try:
            if data.get("version") != MODEL_VERSION:
                raise ModelFileError(f"{where}: version {data.get('version')!r}, expected {MODEL_VERSION}")
            features = tuple(data["features"])
            if features != expected:
                raise ModelFileError(f"{where}: fitted on features {features}, this code computes {expected}")
            mean, scale, coef = (tuple(float(x) for x in data[k]) for k in ("mean", "scale", "coef"))
            if any(len(a) != len(features) for a in (mean, scale, coef)) or any(s <= 0 for s in scale):
                raise ModelFileError(f"{where}: mean/scale/coef do not fit the features")
            threshold = float(data["threshold"])
            return cls(features, mean, scale, coef, float(data["intercept"]), threshold, data.get("meta") or {})
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ModelFileError):
                raise
            raise ModelFileError(f"{where}: malformed ({exc})") from exc


@lru_cache(maxsize=8)
def read_model(path: str, expected: tuple[str, ...]) -> LogisticModel:
    """The model at ``path``, checked against the features this code computes."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: cannot read the model: {exc}") from exc
    return LogisticModel.from_json(data, expected, path)
