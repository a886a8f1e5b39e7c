"""`rag eval QUESTIONS` (score a question set, write a report) and `rag eval compare A B`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from rag.cli.common import (
    GeneratorOpt,
    IndexOpt,
    JsonOpt,
    KOpt,
    ModelPathOpt,
    ReaderOpt,
    RerankerOpt,
    RetrieverOpt,
    StoreOpt,
    UriOpt,
    assistant,
    err,
    out,
    print_json,
    run,
)


class _DefaultRun(TyperGroup):
    """Route ``rag eval QUESTIONS …`` to the ``run`` subcommand; ``compare`` stays a subcommand."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


eval_app = typer.Typer(
    cls=_DefaultRun,
    no_args_is_help=True,
    add_completion=False,
    help="Score a question set (`rag eval QUESTIONS.jsonl`) or compare two runs (`rag eval compare RUN_A RUN_B`).",
)

PER_TYPE = (
    "n",
    "hit@1",
    "hit@5",
    "mrr",
    "contains_gold",
    "citation_precision",
    "refusal_accuracy",
    "false_refusal_rate",
    "total_p50_ms",
)


def _summary_tables(result, title: str) -> list[Table]:
    """Every overall metric (one a row, so it fits a terminal), then a narrow per-type table."""
    from rag.evaluation.scores import fmt, metrics_for

    metrics = metrics_for(result.k)
    labels = {m.key: m.label for m in metrics}
    overall = Table(title=title)
    overall.add_column("指标")
    overall.add_column("overall", justify="right")
    for m in metrics:
        overall.add_row(m.label, fmt(m.key, result.overall.get(m.key)))
    per_type = Table(title="按题型")
    per_type.add_column("题型")
    for key in PER_TYPE:
        per_type.add_column(labels.get(key, key), justify="right")
    for name, agg in result.by_type.items():
        per_type.add_row(name, *[fmt(key, agg.get(key)) for key in PER_TYPE])
    return [overall, per_type]


@eval_app.command("run")
def run_questions(
    questions: Path = typer.Argument(..., help="question set (.jsonl): evidence- or document-based"),
    index: Path | None = IndexOpt,
    store: str | None = StoreOpt,
    milvus_uri: str | None = UriOpt,
    retriever: str | None = RetrieverOpt,
    generator: str | None = GeneratorOpt,
    model_path: Path | None = ModelPathOpt,
    reader: bool | None = ReaderOpt,
    reranker: str | None = RerankerOpt,
    k: int | None = KOpt,
    limit: int | None = typer.Option(None, "--limit", min=1, help="only the first N questions"),
    out_dir: Path | None = typer.Option(None, "--out", help="write report.json, report.md and charts here"),
    charts: bool = typer.Option(True, "--charts/--no-charts", help="PNG charts in --out"),
    as_json: bool = JsonOpt,
) -> None:
    """Score retrieval, answers, citations, refusals and latency against a question set."""

    def action() -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        from rag.evaluation import load_questions
        from rag.evaluation.report import write_report
        from rag.evaluation.runner import evaluate_assistant

        qs = load_questions(questions)[: limit or None]
        bot = assistant(
            index,
            store=store,
            milvus_uri=milvus_uri,
            retriever=retriever,
            generator=generator,
            model_path=model_path,
            reader=reader,
            reranker=reranker,
        )
        columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, disable=as_json or not err.is_terminal) as bar:
            task = bar.add_task(questions.name, total=len(qs))
            result, meta = evaluate_assistant(
                bot, qs, questions, k, progress=lambda i, n, r: bar.update(task, completed=i)
            )
        kk = meta["k"]
        written = write_report(result, out_dir, meta, charts) if out_dir else {}
        if as_json:
            print_json({"meta": meta, "files": written, **result.to_dict(include_questions=not out_dir)})
            return
        title = f"{questions.name} · {meta['retriever']} · {meta['generator']} · k={kk}"
        for table in _summary_tables(result, title):
            out.print(table)
        out.print(f"{len(qs)} questions in {meta['wall_seconds']:.1f} s; {result.overall['errors']} errors")
        for path in written.values():
            out.print(f"wrote {path}")

    run(action)


@eval_app.command("compare")
def compare_runs(
    run_a: Path = typer.Argument(..., help="baseline run: an --out folder or its report.json"),
    run_b: Path = typer.Argument(..., help="new run"),
    tolerance: float = typer.Option(0.005, "--tolerance", min=0.0, help="a rate drop larger than this regresses"),
    all_rows: bool = typer.Option(False, "--all", help="show every question type, not only overall"),
    fail: bool = typer.Option(False, "--fail-on-regression", help="exit 1 when anything regressed"),
    as_json: bool = JsonOpt,
) -> None:
    """Metric deltas B − A, regressions flagged, and the questions that flipped."""
    from rag.evaluation.compare import compare, load_run
    from rag.evaluation.scores import fmt

    result = {}

    def action() -> None:
        c = compare(load_run(run_a), load_run(run_b), tolerance, str(run_a), str(run_b))
        result["c"] = c
        if as_json:
            print_json(c.to_dict())
            return
        marks: dict[str, Text | str] = {
            "regression": Text("▼ 退步", style="red"),
            "improved": Text("▲ 进步", style="green"),
            "": "",
        }
        table = Table(title=f"A = {run_a}   B = {run_b}")
        for col in ("组别", "指标", "A", "B", "Δ (B−A)", ""):
            table.add_column(col, justify="left" if col in ("组别", "指标", "") else "right")
        for d in c.deltas:
            if d.group != "overall" and not all_rows and d.status != "regression":
                continue
            delta = "—" if d.delta is None else (f"{d.delta:+.1f}" if d.metric.endswith("_ms") else f"{d.delta:+.3f}")
            table.add_row(d.group, d.label, fmt(d.metric, d.a), fmt(d.metric, d.b), delta, marks[d.status])
        out.print(table)
        out.print(
            f"{len(c.regressions)} regressions; fixed {len(c.fixed)}: {', '.join(c.fixed) or '—'}; "
            f"broken {len(c.broken)}: {', '.join(c.broken) or '—'}"
        )

    run(action)
    if fail and result.get("c") is not None and result["c"].regressions:
        raise typer.Exit(1)
