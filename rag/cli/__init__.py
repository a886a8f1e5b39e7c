"""`rag` command line — a thin layer over the façade (rag.assistant).

One module per group of commands (archive: ingest, reindex, stats, repair, delete, retag; query:
search, ask, serve; evaluate: eval; models: fit-static), the shared options and error handling in
``common``.
"""

from __future__ import annotations

import typer

from rag.cli import archive, models, query
from rag.cli.evaluate import eval_app

app = typer.Typer(add_completion=False, no_args_is_help=True, help="报刊问答: cited answers from newspaper archives.")
for command in (
    archive.ingest,
    query.search,
    query.ask,
    query.serve,
    archive.reindex,
    archive.migrate,
    archive.stats,
    archive.repair,
    archive.delete,
    archive.retag,
    models.fit_static,
):
    app.command()(command)
app.add_typer(eval_app, name="eval")


def main() -> None:
    app()
