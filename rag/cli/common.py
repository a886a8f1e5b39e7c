"""What every `rag` command shares: the consoles, the common options, the façade, and the
one way failures become a clear line and an exit status."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

# markup and emoji codes off: ids, paths and passages are user text ("[/red]", ":smile:" print as is)
out = Console(highlight=False, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)

IndexOpt = typer.Option(None, "--index", help="index folder (default: index/default)")
StoreOpt = typer.Option(None, "--store", help="embedded (default: the index folder) | milvus")
UriOpt = typer.Option(
    None, "--milvus-uri", help="with --store milvus: http://host:19530 or a local .db file (default: INDEX/milvus.db)"
)
KOpt = typer.Option(None, "-k", help="number of passages to retrieve")
JsonOpt = typer.Option(False, "--json", help="print JSON")
RetrieverOpt = typer.Option(None, "--retriever", help="dense | bm25 | hybrid")
WaitOpt = typer.Option(
    None,
    "--wait",
    min=0,
    help="seconds to wait while another process writes "
    "to the index, then exit 2 (default: the write_wait setting, 600)",
)
SinceOpt = typer.Option(None, "--since", help="only articles dated on/after (2023-01-01, 2023-01, 2023)")
UntilOpt = typer.Option(None, "--until", help="only articles dated on/before (inclusive; 2023-01 = whole month)")
PaperOpt = typer.Option(None, "--paper", help="only this paper (e.g. 焦作日报)")
SectionOpt = typer.Option(None, "--section", help="only this section (e.g. 温县新闻)")
SourceOpt = typer.Option(None, "--source", help="only this source file (name or path)")


GeneratorOpt = typer.Option(None, "--generator", help="extractive | openai | llamacpp (or a plugin)")
ModelPathOpt = typer.Option(None, "--model-path", help="GGUF file for --generator llamacpp")
ReaderOpt = typer.Option(
    None, "--reader/--no-reader", help="the trained reader as a feature of the answer models (docs/reader.md; off)"
)
RerankerOpt = typer.Option(None, "--reranker", help="none | answer-type | learned | reader | cross-encoder:<model>")


_opened: list[Path] = [Path("INDEX")]  # the index folder this command opened last (named when it turns out damaged)


def assistant(index: Path | None, **overrides):
    """The façade over ``index`` with the settings (defaults < rag.toml < RAG_* < flags)."""
    from rag.assistant import Assistant
    from rag.settings import Settings

    settings = Settings.load(index=index, **overrides)
    _opened[0] = Path(settings.index)
    bot = Assistant(settings)
    bot.on_wait = waiting  # the store handle's: told when a write waits for another writer
    return bot


def run(action: Callable[[], None]) -> None:
    """Turn expected failures into one clear line and exit code 2 (1 for other errors)."""
    from rag.archive import IndexStoreError
    from rag.evaluation.questions import QuestionSetError

    try:
        action()
    except (ValueError, IndexStoreError, QuestionSetError, FileNotFoundError) as exc:
        error(str(exc))
        raise typer.Exit(2) from None
    except sqlite3.DatabaseError as exc:  # damage found after the index was opened
        where = _opened[0]
        error(
            f"{where / 'rag.sqlite'} is damaged or unreadable ({exc}): restore it "
            f"from a backup, or rebuild with `rag ingest FILES --index {where} --rebuild`"
        )
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def error(message: str) -> None:
    err.print(Text.assemble(("error:", "red"), " ", message))


def print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def waiting(message: str) -> None:
    err.print(message, style="yellow")


def filters_of(since, until, paper, section, source):
    from rag.models import Filters

    return Filters.parse(since, until, paper, section, source)
