"""Write an evaluation run to a folder: report.json, report.md and PNG charts."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from .result import ANSWER_SCORES, QuestionResult
from .runner import EvalResult
from .scores import fmt, metrics_for, refusal_curve, worst_failures

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
WORST = 20
_TABLES = (
    ("检索", lambda key: key.startswith(("hit@", "mrr", "ndcg", "all_evidence"))),
    ("答案与引用", lambda key: key in {*ANSWER_SCORES, "refusal_accuracy", "false_refusal_rate"}),
    ("延迟（毫秒）", lambda key: key.endswith("_ms")),
)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def metric_tables(result: EvalResult) -> str:
    """Markdown tables (retrieval, answers, latency): overall first, then each question type."""
    groups = [("overall", result.overall), *result.by_type.items()]
    metrics = metrics_for(result.k)
    parts = []
    for title, wanted in _TABLES:
        cols = [m for m in metrics if wanted(m.key)]
        lines = [
            f"### {title}",
            "",
            "| 组别 | n | " + " | ".join(m.label for m in cols) + " |",
            "|---|---:|" + "---:|" * len(cols),
        ]
        for name, agg in groups:
            cells = [fmt(m.key, agg.get(m.key)) for m in cols]
            lines.append(f"| {_cell(name)} | {agg['n']} | " + " | ".join(cells) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _failure(i: int, r: QuestionResult, k: int) -> str:
    q, a = r.question, r.answer
    gold = q.answer or "（应拒答）"
    if q.aliases:
        gold += "；别名：" + "、".join(q.aliases)
    lines = [
        f"### {i}. `{q.id}` {q.type} — {_cell(q.question)}",
        "",
        f"- 期望：{_cell(gold)}",
        f"- 回答：{_cell(a.text) if a else '（出错）' + _cell(r.error)}",
        f"- 证据位置：{r.rank if r.rank is not None else f'前 {len(a.hits) if a else 0} 条中没有'}"
        f"；含答案：{fmt('', r.contains_gold)}；引用准确率：{fmt('', r.citation_precision)}",
    ]
    if a and a.hits:
        lines.append("- 前几条段落：")
        for h in a.hits[:3]:
            lines.append(f"  {h.rank}. {_cell(h.article.label())}：{_cell(h.chunk.text[:160])}")
    return "\n".join(lines)


def render_markdown(result: EvalResult, meta: dict[str, Any], charts: list[str]) -> str:
    git = meta.get("git") or {}
    commit = (git.get("commit") or "?")[:12] + (" (未提交的改动)" if git.get("dirty") else "")
    head = [
        f"# 评测报告：{meta.get('questions_file', '')}",
        "",
        "| 项目 | 值 |",
        "|---|---|",
        f"| 问题集 | {_cell(meta.get('questions_file', ''))} ({result.overall['n']} 题) |",
        f"| 索引 | {_cell(meta.get('index', ''))} ({meta.get('articles', '?')} 篇, {meta.get('chunks', '?')} 段) |",
        f"| 检索器 / 生成器 / k | {meta.get('retriever')} / {meta.get('generator')} / {result.k} |",
        f"| 代码版本 | {commit} |",
        f"| 开始时间 | {meta.get('started_at', '')} |",
        f"| 用时 | {meta.get('wall_seconds', 0):.1f} 秒 |",
        "",
        "## 指标",
        "",
        metric_tables(result),
        "",
    ]
    if charts:
        head += ["## 图表", "", *[f"![{c}]({c})" for c in charts], ""]
    elif meta.get("charts"):
        head += ["## 图表", "", str(meta["charts"]), ""]
    worst = worst_failures(result.results, result.k, WORST)
    head += [f"## 最差的 {len(worst)} 个问题", ""]
    head += [_failure(i, r, result.k) + "\n" for i, r in enumerate(worst, 1)] or ["没有失败的问题。"]
    return "\n".join(head).rstrip() + "\n"


def write_report(result: EvalResult, out_dir: Path, meta: dict[str, Any], charts: bool = True) -> dict[str, str]:
    """Write report.json, report.md and (``charts``, when matplotlib is installed: the
    ``charts`` extra) per_type.png, latency.png and refusal.png (refusals against the
    answerability threshold) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    chart_names: list[str] = []
    if charts and importlib.util.find_spec("matplotlib") is None:
        meta = {**meta, "charts": "skipped: matplotlib is not installed (pip install 'baokan-rag[charts]')"}
    elif charts:
        from .charts import latency_chart, per_type_chart, refusal_chart

        chart_names = [
            per_type_chart(result, out_dir / "per_type.png").name,
            latency_chart(result, out_dir / "latency.png").name,
            refusal_chart(refusal_curve(result.results), meta.get("answer_threshold"), out_dir / "refusal.png").name,
        ]
        written.update({name: str(out_dir / name) for name in chart_names})
    data = {"meta": meta, **result.to_dict(include_questions=True), "refusal_curve": refusal_curve(result.results)}
    (out_dir / REPORT_JSON).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out_dir / REPORT_MD).write_text(render_markdown(result, meta, chart_names), encoding="utf-8")
    written[REPORT_JSON] = str(out_dir / REPORT_JSON)
    written[REPORT_MD] = str(out_dir / REPORT_MD)
    return written
