"""`rag` command line: ingest, search, ask, stats, delete (and eval, in cli_eval) — a thin layer over the façade."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Callable, Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.text import Text  # noqa: E402

from rag.cli_progress import ingest_progress  # noqa: E402

app = typer.Typer(add_completion=False, no_args_is_help=True, help="报刊问答: cited answers from newspaper archives.")
# markup and emoji codes off: ids, paths and passages are user text ("[/red]", ":smile:" print as is)
out = Console(highlight=False, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)

IndexOpt = typer.Option(None, "--index", help="index folder (default: index/default)")
KOpt = typer.Option(None, "-k", help="number of passages to retrieve")
JsonOpt = typer.Option(False, "--json", help="print JSON")
RetrieverOpt = typer.Option(None, "--retriever", help="dense | bm25 | hybrid")
WaitOpt = typer.Option(None, "--wait", min=0, help="seconds to wait while another process writes "
                       "to the index, then exit 2 (default: the write_wait setting, 600)")


def _assistant(index: Optional[Path], **overrides):
    from rag.assistant import Assistant
    from rag.settings import Settings

    bot = Assistant(Settings.load(index=index, **overrides))
    bot.on_wait = _waiting
    return bot


def _run(action: Callable[[], None]) -> None:
    """Turn expected failures into one clear line and exit code 2 (1 for other errors)."""
    import sqlite3

    from rag.evaluation.questions import QuestionSetError
    from rag.store.errors import IndexStoreError

    try:
        action()
    except (ValueError, IndexStoreError, QuestionSetError, FileNotFoundError) as exc:
        _error(str(exc))
        raise typer.Exit(2)
    except sqlite3.DatabaseError as exc:  # damage found after the index was opened
        _error(f"the index database (rag.sqlite) is damaged or unreadable ({exc}): restore it "
               "from a backup, or rebuild with `rag ingest FILES --index INDEX --rebuild`")
        raise typer.Exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130)


def _error(message: str) -> None:
    err.print(Text.assemble(("error:", "red"), " ", message))


def _json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="page files (.txt), JSONL (.jsonl/.xz/.gz) or folders"),
    index: Optional[Path] = IndexOpt,
    rebuild: bool = typer.Option(False, "--rebuild", help="delete the index first"),
    lexical_only: bool = typer.Option(
        False, "--lexical-only",
        help="create a BM25-only index: no embedding model, minutes instead of hours for a "
             "big archive (an existing index keeps its kind)"),
    wait: Optional[float] = WaitOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Add files to an index (unchanged files are skipped, changed ones replaced).

    Exit status: 0 all inputs ingested or unchanged; 3 the good ones ingested, some files or
    lines reported; 1 nothing could be ingested; 2 bad usage (missing path, index mismatch)."""
    from rag.ingest.loaders import printable_path

    missing = [p for p in paths if not p.exists()]
    if missing:
        _error(f"no such file or folder: {', '.join(printable_path(p) for p in missing)}")
        raise typer.Exit(2)

    def action() -> None:
        bot = _assistant(index, embedding_model="none" if lexical_only else None, write_wait=wait)
        with ingest_progress(err, quiet=as_json) as progress:
            report = bot.ingest(paths, rebuild=rebuild, progress=progress, on_wait=_waiting)
        stats = bot.stats()
        bot.close()
        if as_json:
            _json({**report.to_dict(), "index": str(bot.settings.index), "total_chunks": stats["chunks"]})
        else:
            out.print(f"index {bot.settings.index}: {len(report.ingested)} files ingested, "
                      f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped; "
                      f"{report.articles} articles, {report.chunks} chunks in {report.seconds:.1f} s")
            for path, why in report.skipped:
                out.print(f"  skipped {path}: {why}")
            for w in report.warnings:
                out.print(f"  warning {w}")
        if report.skipped and not report.ingested and not report.unchanged:
            raise typer.Exit(1)  # nothing could be ingested
        if report.skipped or report.warnings:
            raise typer.Exit(3)  # the good files are in; some inputs (or lines) were reported

    _run(action)


def _waiting(message: str) -> None:
    err.print(message, style="yellow")


SinceOpt = typer.Option(None, "--since", help="only articles dated on/after (2023-01-01, 2023-01, 2023)")
UntilOpt = typer.Option(None, "--until", help="only articles dated on/before (inclusive; 2023-01 = whole month)")
PaperOpt = typer.Option(None, "--paper", help="only this paper (e.g. 焦作日报)")
SectionOpt = typer.Option(None, "--section", help="only this section (e.g. 温县新闻)")
SourceOpt = typer.Option(None, "--source", help="only this source file (name or path)")


def _filters(since, until, paper, section, source):
    from rag.models import Filters

    return Filters.parse(since, until, paper, section, source)


@app.command()
def search(
    query: str = typer.Argument(..., help="search text"),
    index: Optional[Path] = IndexOpt,
    k: Optional[int] = KOpt,
    retriever: Optional[str] = RetrieverOpt,
    since: Optional[str] = SinceOpt,
    until: Optional[str] = UntilOpt,
    paper: Optional[str] = PaperOpt,
    section: Optional[str] = SectionOpt,
    source: Optional[str] = SourceOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Retrieve passages for a query."""

    def action() -> None:
        filters = _filters(since, until, paper, section, source)
        bot = _assistant(index, retriever=retriever)
        found = bot.retrieve(query, k, filters=filters)
        hits = found.hits
        if as_json:
            _json({"query": query, "applied": found.applied, "hits": [h.to_dict() for h in hits]})
            return
        _print_reading("", found.applied)
        for h in hits:
            out.print(Text.assemble((f"{h.rank}.", "bold"), f" {h.article.label()}  ",
                                    (f"{h.score:.4f}", "dim")))
            out.print(f"   {h.chunk.text[:160]}")

    _run(action)


GeneratorOpt = typer.Option(None, "--generator", help="extractive | openai | llamacpp (or a plugin)")
ModelPathOpt = typer.Option(None, "--model-path", help="GGUF file for --generator llamacpp")


def _print_reading(query: str, applied: list[str]) -> None:
    """How the question was read: the standalone rewrite and filters taken from it."""
    if query:
        err.print(f"理解为：{query}", style="cyan")
    if applied:
        err.print(f"按问题限定：{'；'.join(applied)}", style="cyan")


def _print_sources(answer) -> None:
    if answer.notice:
        err.print(f"注意：{answer.notice}", style="yellow")
    if answer.citations:
        out.print("\n来源：")
        for c in answer.citations:
            out.print(f"  {c.label()}\n     「{c.quote}」")
    else:
        out.print("\n最接近的段落：")
        for h in answer.hits[:3]:
            out.print(f"  {h.article.label()}\n     {h.chunk.text[:120]}")


@app.command()
def ask(
    question: str = typer.Argument(..., help="a question in Chinese"),
    index: Optional[Path] = IndexOpt,
    k: Optional[int] = KOpt,
    retriever: Optional[str] = RetrieverOpt,
    generator: Optional[str] = GeneratorOpt,
    model_path: Optional[Path] = ModelPathOpt,
    stream: bool = typer.Option(True, "--stream/--no-stream", help="print the answer as it is produced"),
    since: Optional[str] = SinceOpt,
    until: Optional[str] = UntilOpt,
    paper: Optional[str] = PaperOpt,
    section: Optional[str] = SectionOpt,
    source: Optional[str] = SourceOpt,
    previous: Optional[list[str]] = typer.Option(
        None, "--previous", "-p", help="an earlier question of the conversation (repeatable, "
        "oldest first): follow-ups like 那温县呢？ are rewritten against the last one"),
    as_json: bool = JsonOpt,
) -> None:
    """Answer a question with cited passages."""
    from rag.assistant import Retrieval
    from rag.models import Turn

    def action() -> None:
        filters = _filters(since, until, paper, section, source)
        bot = _assistant(index, retriever=retriever, generator=generator, model_path=model_path)
        history = [Turn(q) for q in previous or []]
        if as_json or not stream:
            answer = bot.ask(question, k, history=history, filters=filters)
            if as_json:
                _json(answer.to_dict())
                return
            _print_reading(answer.query, answer.applied)
            out.print(answer.text, style="bold")
        else:
            shown = []
            for piece in bot.stream(question, k, history=history, filters=filters):
                if isinstance(piece, Retrieval):
                    _print_reading(piece.query, piece.applied)
                elif isinstance(piece, str):
                    shown.append(piece)
                    out.print(piece, end="", style="bold")
                else:
                    answer = piece
            if "".join(shown) != answer.text:  # a fallback or refusal replaced what streamed
                out.print(("\n" if shown else "") + answer.text, end="", style="bold")
            out.print()
        _print_sources(answer)

    _run(action)


@app.command()
def serve(
    index: Optional[Path] = IndexOpt,
    host: str = typer.Option("127.0.0.1", "--host", help="address to bind (loopback by default)"),
    port: int = typer.Option(7860, "--port", help="port"),
    auth: Optional[str] = typer.Option(
        None, "--auth", help="user:password to log in (default: the auth setting, RAG_AUTH); "
        "use it whenever --host is not loopback"),
) -> None:
    """Start the chat UI (Gradio) over an index."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

    def action() -> None:
        from rag.store import Index

        bot = _assistant(index, auth=auth)
        if not bot.settings.auth and host not in ("127.0.0.1", "localhost", "::1"):
            err.print(f"warning: serving on {host} without a login: anyone who can reach this "
                      "port can read and add to the archive; set --auth user:password "
                      "(or RAG_AUTH)", style="yellow")
        if not Index.exists(bot.settings.index):
            raise ValueError(f"no index at {bot.settings.index}: build one with "
                             f"`rag ingest FILES --index {bot.settings.index}`")
        bot.index  # open and check it before the server starts
        from app.ui import serve as launch

        err.print(f"报刊问答: http://{host}:{port}  (index {bot.settings.index}; Ctrl+C to stop)")
        launch(bot, host, port)

    _run(action)


@app.command()
def reindex(index: Optional[Path] = IndexOpt) -> None:
    """Relearn the archive lexicon, rebuild BM25 and fit the vector index to the archive's
    size (flat or IVF); no re-embedding."""

    def action() -> None:
        from rag.store import Index

        bot = _assistant(index)
        with Index.open(bot.settings.index) as idx:
            words = idx.relearn_lexicon()
            stats = idx.stats()
        out.print(f"index {bot.settings.index}: lexicon of {words} words, {stats['chunks']} chunks "
                  f"re-cut, BM25 rebuilt, vector index {stats['vector_index']}", soft_wrap=True)

    _run(action)


@app.command()
def stats(index: Optional[Path] = IndexOpt, as_json: bool = JsonOpt) -> None:
    """Counts, papers and dates in an index, and what is wrong with its files (exit 2 then)."""

    def action() -> None:
        bot = _assistant(index)
        s = bot.stats()
        if as_json:
            _json(s)
        else:
            for key, value in s.items():
                if key != "problems":
                    out.print(f"{key}: {value}")
        for line in s["problems"]:
            _error(line)
        if s["problems"]:
            raise typer.Exit(2)

    _run(action)


@app.command()
def repair(index: Optional[Path] = IndexOpt, wait: Optional[float] = WaitOpt,
           as_json: bool = JsonOpt) -> None:
    """Make the search files agree with rag.sqlite again: re-embed chunks whose vectors are
    missing (a lost or damaged vectors.faiss) from the stored text, drop stray vectors,
    rebuild BM25.  Nothing in rag.sqlite is deleted."""

    def action() -> None:
        bot = _assistant(index, write_wait=wait)
        done = bot.repair(on_wait=_waiting)
        if as_json:
            _json(done)
            return
        for line in done["found"]:
            out.print(f"found: {line}")
        out.print(f"index {bot.settings.index}: re-embedded {done['reembedded']} chunks, removed "
                  f"{done['stray_vectors_removed']} stray vectors, BM25 rebuilt over "
                  f"{done['bm25_docs']} chunks" + ("" if done["found"] else " (nothing was wrong)"))
        for line in done["problems"]:
            _error(f"still wrong: {line}")
        if done["problems"]:
            raise typer.Exit(2)

    _run(action)


@app.command()
def delete(paths: list[str] = typer.Argument(..., help="source files to remove from the index "
                                                      "(the path as ingested, or a unique file name)"),
           index: Optional[Path] = IndexOpt, wait: Optional[float] = WaitOpt) -> None:
    """Remove sources (their articles, chunks, vectors and BM25 entries)."""

    def action() -> None:
        removed = _assistant(index, write_wait=wait).delete(paths)
        out.print(f"removed {removed} chunks")

    _run(action)


def _register_subcommands() -> None:
    from rag.cli_eval import eval_app

    app.add_typer(eval_app, name="eval")


_register_subcommands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
