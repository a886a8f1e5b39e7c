"""`rag ingest`, `reindex`, `stats`, `repair`, `delete`, `retag`: building and looking after an index."""

from __future__ import annotations

from pathlib import Path

import typer

from rag.cli.common import (
    IndexOpt,
    JsonOpt,
    StoreOpt,
    UriOpt,
    WaitOpt,
    assistant,
    err,
    error,
    out,
    print_json,
    run,
    waiting,
)
from rag.cli.progress import ingest_progress


def ingest(
    paths: list[Path] = typer.Argument(
        ...,
        help="page text (.txt), records (.jsonl .jsonl.xz .jsonl.gz), page scans (.png .jpg .jpeg "
        ".tif .tiff), PDFs (.pdf), e-paper pages (.html .htm), or folders of them",
    ),
    index: Path | None = IndexOpt,
    store: str | None = StoreOpt,
    milvus_uri: str | None = UriOpt,
    rebuild: bool = typer.Option(False, "--rebuild", help="delete the index first"),
    lexical_only: bool = typer.Option(
        False,
        "--lexical-only",
        help="create a BM25-only index: no embedding model, minutes instead of hours for a "
        "big archive (an existing index keeps its kind)",
    ),
    wait: float | None = WaitOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Add files to an index (unchanged files are skipped, changed ones replaced).

    Exit status: 0 all inputs ingested or unchanged; 3 the good ones ingested, some files or
    lines reported; 1 nothing could be ingested; 2 bad usage (missing path, index mismatch)."""
    from rag.archive import printable_path

    missing = [p for p in paths if not p.exists()]
    if missing:
        error(f"no such file or folder: {', '.join(printable_path(p) for p in missing)}")
        raise typer.Exit(2)

    def action() -> None:
        bot = assistant(
            index, store=store, milvus_uri=milvus_uri, embedding_model="none" if lexical_only else None, write_wait=wait
        )
        with ingest_progress(err, quiet=as_json) as progress:
            report = bot.archive.ingest(paths, rebuild=rebuild, progress=progress, on_wait=waiting)
        stats = bot.archive.stats()
        bot.close()
        if as_json:
            print_json({**report.to_dict(), "index": str(bot.location), "total_chunks": stats["chunks"]})
        else:
            out.print(
                f"index {bot.location}: {len(report.ingested)} files ingested, "
                f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped; "
                f"{report.articles} articles, {report.chunks} chunks in {report.seconds:.1f} s"
            )
            for path, why in report.skipped:
                out.print(f"  skipped {path}: {why}")
            for w in report.warnings:
                out.print(f"  warning {w}")
            for kept in report.kept_out:
                out.print(f"  kept out of the articles: {kept}")
        if report.disk_full:
            error(
                f"disk full / 磁盘空间不足: {len(report.ingested)} files were committed before it and are kept; "
                "free some space and run the same command again (files already in are skipped)"
            )
            raise typer.Exit(3 if report.ingested else 1)
        if not (report.skipped or report.ingested or report.unchanged):
            shown = ", ".join(printable_path(p) for p in paths)
            error(f"nothing to ingest: no page, scan, PDF, HTML or JSONL file in {shown} / 没有可导入的文件")
            raise typer.Exit(1)
        if report.skipped and not report.ingested and not report.unchanged:
            raise typer.Exit(1)  # nothing could be ingested
        if report.skipped or report.warnings:
            raise typer.Exit(3)  # the good files are in; some inputs (or lines) were reported

    run(action)


def reindex(index: Path | None = IndexOpt, store: str | None = StoreOpt, milvus_uri: str | None = UriOpt) -> None:
    """Relearn the archive lexicon, rebuild BM25 and fit the vector index to the archive's
    size (flat or IVF); no re-embedding."""

    def action() -> None:
        bot = assistant(index, store=store, milvus_uri=milvus_uri)
        words = bot.archive.reindex()
        stats = bot.archive.stats()
        out.print(
            f"index {bot.location}: lexicon of {words} words, {stats['chunks']} chunks "
            f"re-cut, BM25 rebuilt, vector index {stats['vector_index']}",
            soft_wrap=True,
        )

    run(action)


def migrate(
    to: str = typer.Option("milvus", "--to", help="the store to copy into (milvus)"),
    index: Path | None = IndexOpt,
    milvus_uri: str | None = UriOpt,
    prefix: str | None = typer.Option(None, "--milvus-prefix", help="collection prefix (default: rag_<index name>)"),
    rebuild: bool = typer.Option(False, "--rebuild", help="drop the target's collections first"),
    as_json: bool = JsonOpt,
) -> None:
    """Copy an embedded index into Milvus with its vectors (no re-embedding); a killed copy resumes."""

    def action() -> None:
        bot = assistant(index, milvus_uri=milvus_uri, milvus_prefix=prefix)

        def show(r) -> None:
            if not as_json:
                err.print(f"  {r.articles} articles, {r.chunks} chunks copied ({r.seconds:.0f} s)")

        report = bot.archive.migrate(to, rebuild=rebuild, progress=show)
        if as_json:
            print_json({**report.to_dict(), "from": str(bot.settings.index)})
        else:
            out.print(
                f"copied {report.sources} files ({report.unchanged} already there), {report.articles} articles, "
                f"{report.chunks} chunks with their vectors into {report.target} in {report.seconds:.1f} s"
            )

    run(action)


def stats(
    index: Path | None = IndexOpt,
    store: str | None = StoreOpt,
    milvus_uri: str | None = UriOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Counts, papers and dates in an index, and what is wrong with its files (exit 2 then)."""

    def action() -> None:
        bot = assistant(index, store=store, milvus_uri=milvus_uri)
        s = bot.archive.stats(verify=True)
        if as_json:
            print_json(s)
        else:
            for key, value in s.items():
                if key != "problems":
                    out.print(f"{key}: {value}")
        for line in s["problems"]:
            error(line)
        if s["problems"]:
            raise typer.Exit(2)

    run(action)


def repair(
    index: Path | None = IndexOpt,
    store: str | None = StoreOpt,
    milvus_uri: str | None = UriOpt,
    wait: float | None = WaitOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Make the search files agree with rag.sqlite again: re-embed chunks whose vectors are
    missing (a lost or damaged vectors.faiss) from the stored text, drop stray vectors,
    rebuild BM25.  Nothing in rag.sqlite is deleted."""

    def action() -> None:
        bot = assistant(index, store=store, milvus_uri=milvus_uri, write_wait=wait)
        done = bot.archive.repair(on_wait=waiting)
        if as_json:
            print_json(done)
            return
        for line in done["found"]:
            out.print(f"found: {line}")
        out.print(f"index {bot.location}: {done['done']}" + ("" if done["found"] else " (nothing was wrong)"))
        for line in done["problems"]:
            error(f"still wrong: {line}")
        if done["problems"]:
            raise typer.Exit(2)

    run(action)


def delete(
    paths: list[str] = typer.Argument(
        ..., help="source files to remove from the index (the path as ingested, or a unique file name)"
    ),
    index: Path | None = IndexOpt,
    store: str | None = StoreOpt,
    milvus_uri: str | None = UriOpt,
    wait: float | None = WaitOpt,
) -> None:
    """Remove sources (their articles, chunks, vectors and BM25 entries)."""

    def action() -> None:
        removed = assistant(index, store=store, milvus_uri=milvus_uri, write_wait=wait).archive.delete(paths)
        out.print(f"removed {removed} chunks")

    run(action)


def retag(
    path: str = typer.Argument(..., help="the source file (the path as ingested, or a unique file name)"),
    paper: str | None = typer.Option(None, "--paper", help="the newspaper, e.g. 焦作日报"),
    date: str | None = typer.Option(None, "--date", help="the publication date, e.g. 2023-01-10"),
    index: Path | None = IndexOpt,
    store: str | None = StoreOpt,
    milvus_uri: str | None = UriOpt,
    wait: float | None = WaitOpt,
) -> None:
    """Set the paper and/or date of a source's articles (for pages without a masthead or date
    line); remembered in the index folder, so a re-ingest tags them again."""

    def action() -> None:
        changed = assistant(index, store=store, milvus_uri=milvus_uri, write_wait=wait).archive.retag(path, paper, date)
        out.print(f"re-tagged {changed} articles")

    run(action)
