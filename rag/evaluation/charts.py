"""PNG charts for an evaluation report (matplotlib, headless)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runner import EvalResult

CJK_FONTS = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "SimHei",
    "Microsoft YaHei",
)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    cjk = [name for name in CJK_FONTS if name in have]
    plt.rcParams["font.sans-serif"] = [*cjk, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def per_type_chart(result: EvalResult, path: Path) -> Path:
    """Grouped bars per question type: evidence hit@k, contains-gold, citation precision, refusal."""
    plt = _pyplot()
    k = result.k
    series = [
        (f"hit@{k}", f"evidence hit@{k}"),
        ("contains_gold", "contains gold"),
        ("citation_precision", "citation precision"),
        ("refusal_accuracy", "refusal accuracy"),
    ]
    groups = ["overall", *result.by_type]
    rows = [result.overall, *result.by_type.values()]
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(groups) + 2), 4.2), dpi=110)
    for i, (key, label) in enumerate(series):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, [row.get(key) or 0.0 for row in rows], width, label=label)
    ax.set_xticks(range(len(groups)), [f"{g}\n(n={row['n']})" for g, row in zip(groups, rows)], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title("Scores per question type")
    ax.legend(fontsize=8, ncols=len(series), loc="lower center", bbox_to_anchor=(0.5, 1.08))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def latency_chart(result: EvalResult, path: Path) -> Path:
    """Histogram of per-question latency by stage, with p50 and p95 of the total."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 4.0), dpi=110)
    stages = {
        stage: [max(r.timings[stage] * 1000, 0.01) for r in result.results if stage in r.timings and not r.error]
        for stage in ("retrieve", "generate", "total")
    }
    values = [v for ms in stages.values() for v in ms]
    if values:
        lo, hi = math.log10(min(values)), math.log10(max(values))
        bins = [10 ** (lo + (hi - lo + 1e-9) * i / 30) for i in range(31)]
        for stage, ms in stages.items():
            if ms:
                ax.hist(ms, bins=bins, histtype="step", linewidth=1.5, label=f"{stage} (n={len(ms)})")
        ax.set_xscale("log")
    for p, style in (("p50", "--"), ("p95", ":")):
        v = result.overall.get(f"total_{p}_ms")
        if v is not None:
            ax.axvline(max(v, 0.01), linestyle=style, linewidth=1, color="black", label=f"total {p} {v:.0f} ms")
    ax.set_xlabel("milliseconds per question")
    ax.set_ylabel("questions")
    ax.set_title("Latency per stage")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def refusal_chart(curve: list[dict], threshold: float | None, path: Path) -> Path:
    """Refusal of unanswerable questions and false refusals against the answerability threshold,
    the threshold in use marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    xs = [p["threshold"] for p in curve]
    for key, label in (("refused_unanswerable", "unanswerable refused"), ("false_refusal", "answerable refused")):
        ys = [p[key] for p in curve]
        if any(y is not None for y in ys):
            ax.plot(xs, [y if y is not None else float("nan") for y in ys], marker=".", label=label)
    if threshold is not None:
        ax.axvline(threshold, linestyle="--", color="black", linewidth=1, label=f"threshold in use {threshold:.2f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("answerability threshold (probability)")
    ax.set_ylabel("share of questions")
    ax.set_title("Refusals against the threshold")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
