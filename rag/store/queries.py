"""Read-side SQL: rows to Article/Chunk, filters to chunk ids, statistics."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import numpy as np

from rag.models import Article, Chunk, Filters

ARTICLE_COLS = (
    "a.id, a.doc_id, s.name, a.text, a.headline, a.paper, a.date, a.page, a.section, "
    'a.byline, a.dateline, a.start, a."end", a.regions'
)
CHUNK_COLS = 'c.id, c.article_id, c.text, c.start, c."end", c.position'
_BATCH = 500


def article_from_row(row: tuple) -> Article:
    (id_, doc_id, source, text, headline, paper, date, page, section, byline, dateline, start, end, regions) = row
    return Article(
        doc_id=doc_id,
        source=source,
        text=text,
        headline=headline,
        paper=paper,
        date=date,
        page=page,
        section=section,
        byline=byline,
        dateline=dateline,
        start=start,
        end=end,
        id=id_,
        regions=regions,
    )


def chunk_from_row(row: tuple) -> Chunk:
    id_, article_id, text, start, end, position = row
    return Chunk(article_id=article_id, text=text, start=start, end=end, position=position, id=id_)


def article(conn: sqlite3.Connection, article_id: int) -> Article | None:
    row = conn.execute(
        f"SELECT {ARTICLE_COLS} FROM articles a JOIN sources s ON s.id = a.source_id WHERE a.id = ?",
        (int(article_id),),
    ).fetchone()
    return article_from_row(row) if row else None


def chunks_by_ids(conn: sqlite3.Connection, ids: Iterable[int]) -> list[tuple[Chunk, Article]]:
    """Chunks with their articles, in the order of ``ids``; unknown ids are skipped."""
    ids = [int(i) for i in ids]
    found: dict[int, tuple[Chunk, Article]] = {}
    articles: dict[int, Article] = {}
    for i in range(0, len(ids), _BATCH):
        part = ids[i : i + _BATCH]
        marks = ",".join("?" * len(part))
        rows = conn.execute(
            f"SELECT {CHUNK_COLS}, {ARTICLE_COLS} FROM chunks c JOIN articles a ON a.id = c.article_id "
            f"JOIN sources s ON s.id = a.source_id WHERE c.id IN ({marks})",
            part,
        ).fetchall()
        for row in rows:
            chunk = chunk_from_row(row[:6])
            art = articles.setdefault(chunk.article_id, article_from_row(row[6:]))
            found[int(row[0])] = (chunk, art)
    return [found[i] for i in ids if i in found]


def filter_sql(filters: Filters) -> tuple[str, list]:
    """WHERE clause over ``articles a`` / ``sources s`` for the filters (dates inclusive)."""
    where, args = [], []
    if filters.since:
        where.append("a.date != '' AND a.date >= ?")
        args.append(filters.since)
    if filters.until:
        # a bare "2023-01" or "2023" as upper bound covers the whole month/year
        where.append("a.date != '' AND a.date <= ?")
        args.append(filters.until if len(filters.until) >= 10 else filters.until + "\uffff")
    if filters.paper:
        where.append("a.paper = ?")
        args.append(filters.stored_paper())
    if filters.section:
        where.append("a.section = ?")
        args.append(filters.section)
    if filters.source:
        where.append("(s.name = ? OR s.path = ?)")
        args += [filters.source, filters.source]
    return " AND ".join(where) or "1", args


def chunk_ids_matching(conn: sqlite3.Connection, filters: Filters | None) -> np.ndarray | None:
    """Sorted int64 chunk ids allowed by ``filters``; None when there is no filter."""
    if filters is None or filters.is_empty():
        return None
    where, args = filter_sql(filters)
    rows = conn.execute(
        "SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id "
        f"JOIN sources s ON s.id = a.source_id WHERE {where} ORDER BY c.id",
        args,
    ).fetchall()
    return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))


def all_chunk_ids(conn: sqlite3.Connection) -> np.ndarray:
    rows = conn.execute("SELECT id FROM chunks ORDER BY id").fetchall()
    return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))


def find_source_path(conn: sqlite3.Connection, given: str, resolved: str) -> str | list[str]:
    """The stored path of a source named by its path (as given or resolved) or by its file name;
    a list of the candidates (maybe empty) when that is not exactly one."""
    for path in (resolved, given):
        if conn.execute("SELECT 1 FROM sources WHERE path = ? LIMIT 1", (path,)).fetchone():
            return path
    paths = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT path FROM sources WHERE name = ?", (given.replace("\\", "/").rsplit("/", 1)[-1],)
        )
    ]
    return paths[0] if len(paths) == 1 else paths


def chunk_texts(conn: sqlite3.Connection, chunk_ids: np.ndarray) -> list[tuple[str, str]]:
    """(headline, chunk text) of each id, in the order given (every id must exist)."""
    ids = [int(i) for i in chunk_ids]
    found: dict[int, tuple[str, str]] = {}
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        found.update(
            (r[0], (r[1], r[2]))
            for r in conn.execute(
                "SELECT c.id, a.headline, c.text FROM chunks c JOIN articles a ON a.id = c.article_id "
                f"WHERE c.id IN ({','.join('?' * len(part))})",
                part,
            )
        )
    return [found[i] for i in ids]


def counts(conn: sqlite3.Connection) -> dict:
    def one(sql: str):
        return conn.execute(sql).fetchone()[0]

    papers = conn.execute(
        "SELECT paper, COUNT(*) FROM articles GROUP BY paper ORDER BY COUNT(*) DESC, paper"
    ).fetchall()
    first, last = conn.execute("SELECT MIN(date), MAX(date) FROM articles WHERE date != ''").fetchone()
    return {
        "sources": one("SELECT COUNT(*) FROM sources"),
        "sources_failed": one("SELECT COUNT(*) FROM sources WHERE status = 'error'"),
        "articles": one("SELECT COUNT(*) FROM articles"),
        "chunks": one("SELECT COUNT(*) FROM chunks"),
        "papers": dict(papers),
        "date_range": (first, last) if first else None,
    }


def generation(conn: sqlite3.Connection) -> str | None:
    """The manifest's commit counter (what a reader compares to see whether to reload)."""
    row = conn.execute("SELECT value FROM manifest WHERE key = 'generation'").fetchone()
    return row[0] if row else None


def lexicon_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Candidate words and their counts (see rag.text.lexicon)."""
    try:
        return dict(conn.execute("SELECT word, count FROM lexicon"))
    except sqlite3.OperationalError:  # an index from before the lexicon table
        return {}


def facets(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The distinct non-empty papers and sections of the archive."""
    return {
        name: [r[0] for r in conn.execute(f"SELECT DISTINCT {col} FROM articles WHERE {col} != '' ORDER BY {col}")]
        for name, col in (("papers", "paper"), ("sections", "section"))
    }


def catalog(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """(paper, date, article count) for every paper and date, newest first."""
    return conn.execute(
        "SELECT paper, date, COUNT(*) FROM articles GROUP BY paper, date ORDER BY date DESC, paper"
    ).fetchall()


def articles_on(
    conn: sqlite3.Connection, paper: str | None, date: str | None, limit: int = 500
) -> list[tuple[int, str, str, str, str, str]]:
    """(id, headline, paper, date, page, section) of the articles of a paper and/or date (a
    date with ``%`` is a LIKE pattern: ``2023-01%`` a month, ``%-01-10`` a day of any year)."""
    where, args = [], []
    for column, value in (("paper", paper), ("date", date)):
        if value is not None:
            where.append(f"{column} LIKE ?" if column == "date" and "%" in value else f"{column} = ?")
            args.append(value)
    sql = (
        "SELECT id, headline, paper, date, page, section FROM articles "
        f"WHERE {' AND '.join(where) or '1'} ORDER BY date DESC, page, id LIMIT ?"
    )
    return conn.execute(sql, [*args, limit]).fetchall()


def doc_ids_of_source(conn: sqlite3.Connection, source_id: int) -> set[str]:
    return {r[0] for r in conn.execute("SELECT doc_id FROM articles WHERE source_id = ?", (source_id,))}


def existing_doc_ids(conn: sqlite3.Connection, doc_ids: list[str]) -> set[str]:
    out: set[str] = set()
    for i in range(0, len(doc_ids), 500):
        part = doc_ids[i : i + 500]
        out.update(
            r[0]
            for r in conn.execute(f"SELECT doc_id FROM articles WHERE doc_id IN ({','.join('?' * len(part))})", part)
        )
    return out


def all_sources(conn: sqlite3.Connection) -> list[tuple]:
    """(id, path, sha256, size, encoding, status, error) of every source, oldest first."""
    return conn.execute("SELECT id, path, sha256, size, encoding, status, error FROM sources ORDER BY id").fetchall()


def articles_of_source(conn: sqlite3.Connection, source_id: int) -> list[Article]:
    rows = conn.execute(
        f"SELECT {ARTICLE_COLS} FROM articles a JOIN sources s ON s.id = a.source_id WHERE a.source_id = ? "
        "ORDER BY a.id",
        (source_id,),
    ).fetchall()
    return [article_from_row(r) for r in rows]


def chunks_of_articles(conn: sqlite3.Connection, article_ids: list[int]) -> list[Chunk]:
    """The chunks of these articles, by article then position."""
    out: list[Chunk] = []
    for i in range(0, len(article_ids), _BATCH):
        part = article_ids[i : i + _BATCH]
        out += [
            chunk_from_row(r)
            for r in conn.execute(
                f"SELECT {CHUNK_COLS} FROM chunks c WHERE c.article_id IN ({','.join('?' * len(part))}) "
                "ORDER BY c.article_id, c.position",
                part,
            )
        ]
    return out
