"""Compare two evaluation runs (their report.json): metric deltas, regressions, flipped questions."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .report import REPORT_JSON
from .scores import Metric, metrics_for

QUALITY_TOLERANCE = 0.005  # a rate must drop by more than this to count as a regression
LATENCY_RATIO = 1.25  # latency must grow by this factor …
LATENCY_FLOOR_MS = 5.0  # … and by at least this many milliseconds (the machine is noisy)


@dataclass
class Delta:
    group: str
    metric: str
    label: str
    a: float | None
    b: float | None
    delta: float | None
    status: str  # "regression", "improved" or "" (unchanged or within tolerance)


@dataclass
class Comparison:
    a: str
    b: str
    deltas: list[Delta]
    fixed: list[str]  # question ids answered correctly only in B
    broken: list[str]  # question ids answered correctly only in A

    @property
    def regressions(self) -> list[Delta]:
        return [d for d in self.deltas if d.status == "regression"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "deltas": [asdict(d) for d in self.deltas],
            "regressions": len(self.regressions),
            "fixed": self.fixed,
            "broken": self.broken,
        }


def load_run(path: Path) -> dict[str, Any]:
    """A run's report.json, given the file or its folder."""
    file = path / REPORT_JSON if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"{path}: no {REPORT_JSON} here (write one with `rag eval … --out DIR`)")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{file}: not a readable report ({exc})") from None
    if not isinstance(data, dict) or "overall" not in data or "k" not in data:
        raise ValueError(f"{file}: not an evaluation report (no 'overall' or 'k')")
    return data


def _status(m: Metric, a: float | None, b: float | None, tolerance: float) -> str:
    if a is None or b is None:
        return ""
    if m.latency:
        if b > a * LATENCY_RATIO and b - a >= LATENCY_FLOOR_MS:
            return "regression"
        if a > b * LATENCY_RATIO and a - b >= LATENCY_FLOOR_MS:
            return "improved"
        return ""
    gain = (b - a) if m.higher_is_better else (a - b)
    if gain < -tolerance:
        return "regression"
    return "improved" if gain > tolerance else ""


def _metrics(a: dict, b: dict) -> list[Metric]:
    seen: dict[str, Metric] = {}
    for m in [*metrics_for(int(a["k"])), *metrics_for(int(b["k"]))]:
        seen.setdefault(m.key, m)
    return list(seen.values())


def _flips(a: dict, b: dict) -> tuple[list[str], list[str]]:
    ok_a = {q["id"]: bool(q.get("contains_gold")) for q in a.get("questions", []) if q.get("answerable")}
    ok_b = {q["id"]: bool(q.get("contains_gold")) for q in b.get("questions", []) if q.get("answerable")}
    both = [i for i in ok_a if i in ok_b]
    return [i for i in both if ok_b[i] and not ok_a[i]], [i for i in both if ok_a[i] and not ok_b[i]]


def compare(
    a: dict[str, Any], b: dict[str, Any], tolerance: float = QUALITY_TOLERANCE, a_name: str = "A", b_name: str = "B"
) -> Comparison:
    """Deltas B − A for every metric, overall and for each question type present in both."""
    groups = [("overall", a["overall"], b["overall"])]
    groups += [(t, a["by_type"][t], b["by_type"][t]) for t in a.get("by_type", {}) if t in b.get("by_type", {})]
    deltas = []
    for name, ga, gb in groups:
        for m in _metrics(a, b):
            va, vb = ga.get(m.key), gb.get(m.key)
            if va is None and vb is None:
                continue
            d = None if va is None or vb is None else vb - va
            deltas.append(Delta(name, m.key, m.label, va, vb, d, _status(m, va, vb, tolerance)))
    fixed, broken = _flips(a, b)
    return Comparison(a_name, b_name, deltas, fixed, broken)
