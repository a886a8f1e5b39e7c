"""`rag search`, `ask`, `serve`: questions over an index, from the terminal or the chat UI."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from rag.citation_style import STYLES, style_of
from rag.cli.common import (
    GeneratorOpt,
    IndexOpt,
    JsonOpt,
    KOpt,
    ModelPathOpt,
    PaperOpt,
    ReaderOpt,
    RerankerOpt,
    RetrieverOpt,
    SectionOpt,
    SinceOpt,
    SourceOpt,
    StoreOpt,
    UntilOpt,
    UriOpt,
    assistant,
    err,
    filters_of,
    out,
    print_json,
    run,
)


def search(
    query: str = typer.Argument(..., help="search text"),
    index: Path | None = IndexOpt,
    store: str | None = StoreOpt,
    milvus_uri: str | None = UriOpt,
    k: int | None = KOpt,
    retriever: str | None = RetrieverOpt,
    since: str | None = SinceOpt,
    until: str | None = UntilOpt,
    paper: str | None = PaperOpt,
    section: str | None = SectionOpt,
    source: str | None = SourceOpt,
    reranker: str | None = RerankerOpt,
    explain: bool = typer.Option(
        False, "--explain", help="why each hit ranks where it does (with the learned ranker: each feature's share)"
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Retrieve passages for a query (one per article)."""

    def action() -> None:
        filters = filters_of(since, until, paper, section, source)
        bot = assistant(index, store=store, milvus_uri=milvus_uri, retriever=retriever, reranker=reranker)
        found = bot.retrieve(query, k, filters=filters)
        hits = found.hits
        why = [bot.explain(h) for h in hits] if explain else []
        if as_json:
            rows = [{**h.to_dict(), **({"explain": why[i]} if explain else {})} for i, h in enumerate(hits)]
            print_json({"query": query, "applied": found.applied, "hits": rows})
            return
        _print_reading("", found.applied)
        for i, h in enumerate(hits):
            out.print(Text.assemble((f"{h.rank}.", "bold"), f" {h.article.label()}  ", (f"{h.score:.4f}", "dim")))
            out.print(f"   {h.chunk.text[:160]}")
            for c in h.more:  # the article's next best passage, read by the answerer too
                out.print(f"   ＋ {c.text[:80]}", style="dim")
            if explain:
                out.print("   " + "  ".join(f"{name} {value:+.3f}" for name, value in why[i].items()), style="dim")

    run(action)


def _print_reading(query: str, applied: list[str]) -> None:
    """How the question was read: the standalone rewrite and filters taken from it."""
    if query:
        err.print(f"理解为：{query}", style="cyan")
    if applied:
        err.print(f"按问题限定：{'；'.join(applied)}", style="cyan")


def _print_sources(answer, cite: str | None = None) -> None:
    if answer.notice:
        err.print(f"注意：{answer.notice}", style="yellow")
    if answer.citations:
        reference = style_of(cite) if cite else None
        out.print("\n来源：")
        for c in answer.citations:
            if reference:  # one unwrapped line, to copy into a reference list
                out.print(f"  [{c.n}] {reference(c.hit.article)}", soft_wrap=True)
                out.print(f"     「{c.quote}」")
            else:
                out.print(f"  {c.label()}\n     「{c.quote}」")
    else:
        out.print("\n最接近的段落：")
        for h in answer.hits[:3]:
            out.print(f"  {h.article.label()}\n     {h.chunk.text[:120]}")


def _cite_style(value: str | None) -> str | None:
    """--cite takes one of the styles in rag.citation_style.STYLES."""
    if value is not None and value not in STYLES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(STYLES)}")
    return value


def ask(
    question: str = typer.Argument(..., help="a question in Chinese"),
    index: Path | None = IndexOpt,
    store: str | None = StoreOpt,
    milvus_uri: str | None = UriOpt,
    k: int | None = KOpt,
    retriever: str | None = RetrieverOpt,
    generator: str | None = GeneratorOpt,
    model_path: Path | None = ModelPathOpt,
    reader: bool | None = ReaderOpt,
    reranker: str | None = RerankerOpt,
    stream: bool = typer.Option(True, "--stream/--no-stream", help="print the answer as it is produced"),
    since: str | None = SinceOpt,
    until: str | None = UntilOpt,
    paper: str | None = PaperOpt,
    section: str | None = SectionOpt,
    source: str | None = SourceOpt,
    previous: list[str] | None = typer.Option(
        None,
        "--previous",
        "-p",
        help="an earlier question of the conversation (repeatable, "
        "oldest first): follow-ups like 那温县呢？ are rewritten against the last one",
    ),
    cite: str | None = typer.Option(
        None,
        "--cite",
        metavar="[" + "|".join(STYLES) + "]",
        callback=_cite_style,
        help="list the sources as references in this style (gbt7714: GB/T 7714-2015); "
        "with --json, each citation gets a reference",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Answer a question with cited passages."""
    from rag.models import Turn

    def action() -> None:
        filters = filters_of(since, until, paper, section, source)
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
        history = [Turn(q) for q in previous or []]
        if as_json or not stream:
            answer = bot.ask(question, k, history=history, filters=filters)
            if as_json:
                data = answer.to_dict()
                if cite:
                    for c, row in zip(answer.citations, data["citations"]):
                        row["reference"] = style_of(cite)(c.hit.article)
                print_json(data)
                return
            _print_reading(answer.query, answer.applied)
            out.print(answer.text, style="bold")
        else:
            shown = []
            streamed = bot.stream(question, k, history=history, filters=filters)
            _print_reading(streamed.retrieval.query, streamed.retrieval.applied)
            for piece in streamed.tokens():
                shown.append(piece)
                out.print(piece, end="", style="bold")
            answer = streamed.answer()
            if "".join(shown) != answer.text:  # a fallback or refusal replaced what streamed
                out.print(("\n" if shown else "") + answer.text, end="", style="bold")
            out.print()
        _print_sources(answer, cite)

    run(action)


def serve(
    index: Path | None = IndexOpt,
    store: str | None = StoreOpt,
    milvus_uri: str | None = UriOpt,
    host: str = typer.Option("127.0.0.1", "--host", help="address to bind (loopback by default)"),
    port: int = typer.Option(7860, "--port", help="port"),
    auth: str | None = typer.Option(
        None,
        "--auth",
        help="user:password to log in (default: the auth setting, RAG_AUTH); use it whenever --host is not loopback",
    ),
) -> None:
    """Start the chat UI (Gradio) over an index."""

    def action() -> None:
        bot = assistant(index, store=store, milvus_uri=milvus_uri, auth=auth)
        if not bot.settings.auth and host not in ("127.0.0.1", "localhost", "::1"):
            err.print(
                f"warning: serving on {host} without a login: anyone who can reach this "
                "port can read and add to the archive; set --auth user:password "
                "(or RAG_AUTH)",
                style="yellow",
            )
        bot.archive.stats()  # open and check the index before the server starts (IndexNotFoundError …)
        from app.ui import serve as launch

        err.print(f"报刊问答: http://{host}:{port}  (index {bot.location}; Ctrl+C to stop)")
        launch(bot, host, port)

    run(action)
