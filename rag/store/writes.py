"""Write-side SQL: sources, articles and chunks in, rows out by source."""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from rag.models import Article, Chunk, Source
from rag.store.errors import IndexStoreError
from rag.store.schema import now

SOURCE_COLS = "id, path, sha256, size, encoding, status, error"


def _rowid(cur: sqlite3.Cursor) -> int:
    """The id SQLite gave the row an INSERT just added."""
    if cur.lastrowid is None:
        raise IndexStoreError("an INSERT returned no row id")
    return cur.lastrowid


def source_from_row(row: tuple) -> Source:
    id_, path, sha, size, enc, status, error = row
    return Source(path=path, sha256=sha, size=size, encoding=enc, status=status, error=error, id=id_)


def insert_source(conn: sqlite3.Connection, source: Source) -> int:
    cur = conn.execute(
        "INSERT INTO sources(path, name, sha256, size, encoding, status, error, ingested_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            str(source.path),
            os.path.basename(str(source.path)),
            source.sha256,
            source.size,
            source.encoding,
            source.status,
            source.error,
            now(),
        ),
    )
    return _rowid(cur)


def check_doc_ids(conn: sqlite3.Connection, doc_ids: Sequence[str]) -> None:
    """Raise IndexStoreError if a doc_id repeats in the batch or is already stored."""
    dupes = sorted(d for d, n in Counter(doc_ids).items() if n > 1)
    for i in range(0, len(doc_ids), 500):
        part = list(doc_ids[i : i + 500])
        dupes += [
            r[0]
            for r in conn.execute(f"SELECT doc_id FROM articles WHERE doc_id IN ({','.join('?' * len(part))})", part)
        ]
    if dupes:
        raise IndexStoreError(f"doc_id already in the index or repeated: {', '.join(dupes[:5])}")


def insert_articles(
    conn: sqlite3.Connection,
    source_id: int,
    articles: Sequence[Article],
    chunks_per_article: Sequence[Sequence[Chunk]],
    tokens: Sequence[str],
) -> tuple[list[int], list[int]]:
    """Insert rows (``tokens``: one space-joined string per chunk, flattened); return the
    article ids and the chunk ids (flattened).  The objects are not modified."""
    article_ids: list[int] = []
    chunk_ids: list[int] = []
    flat = iter(tokens)
    for art, chunks in zip(articles, chunks_per_article):
        cur = conn.execute(
            "INSERT INTO articles(source_id, doc_id, headline, paper, date, page, section, "
            'byline, dateline, text, start, "end", regions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            (
                source_id,
                art.doc_id,
                art.headline,
                art.paper,
                art.date,
                art.page,
                art.section,
                art.byline,
                art.dateline,
                art.text,
                art.start,
                art.end,
                art.regions,
            ),
        )
        aid = _rowid(cur)
        article_ids.append(aid)
        for c in chunks:
            cur = conn.execute(
                'INSERT INTO chunks(article_id, position, text, start, "end", tokens) VALUES (?, ?, ?, ?, ?, ?)',
                (aid, c.position, c.text, c.start, c.end, next(flat)),
            )
            chunk_ids.append(_rowid(cur))
    return article_ids, chunk_ids


def chunk_ids_of_sources(conn: sqlite3.Connection, where: str, args: Sequence) -> np.ndarray:
    """Chunk ids of the sources matching ``where`` (a condition on ``s``)."""
    rows = conn.execute(
        "SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id "
        f"JOIN sources s ON s.id = a.source_id WHERE {where}",
        list(args),
    ).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64)


def sources_of_chunks(conn: sqlite3.Connection, chunk_ids: np.ndarray) -> list[int]:
    found: set[int] = set()
    ids = [int(i) for i in chunk_ids]
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        found.update(
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT a.source_id FROM chunks c JOIN articles a ON a.id = c.article_id "
                f"WHERE c.id IN ({','.join('?' * len(part))})",
                part,
            )
        )
    return sorted(found)


def add_term_counts(conn: sqlite3.Connection, counts: Mapping[str, int]) -> dict[str, int]:
    """Add candidate-word counts to the lexicon table; returns the new totals of those words."""
    conn.executemany(
        "INSERT INTO lexicon(word, count) VALUES (?, ?) ON CONFLICT(word) DO UPDATE SET count = count + excluded.count",
        list(counts.items()),
    )
    out: dict[str, int] = {}
    words = list(counts)
    for i in range(0, len(words), 500):
        part = words[i : i + 500]
        marks = ",".join("?" * len(part))
        out.update(conn.execute(f"SELECT word, count FROM lexicon WHERE word IN ({marks})", part))
    return out


def retokenize(conn: sqlite3.Connection, tokenizer, words: Sequence[str] | None = None, page: int = 2000) -> int:
    """Recompute the stored BM25 tokens with ``tokenizer`` of every chunk, or (``words``) only of
    the chunks whose headline or text holds one of those words: a dictionary word changes how
    the texts containing it are cut, not the others.  Returns the number of chunks re-cut."""
    where, params = "", []
    if words is not None:
        if not words:
            return 0
        where = " AND (" + " OR ".join(["instr(c.text, ?) OR instr(a.headline, ?)"] * len(words)) + ")"
        params = [w for word in words for w in (word, word)]
    done, last = 0, -1
    while True:
        rows = conn.execute(
            "SELECT c.id, a.headline, c.text FROM chunks c JOIN articles a ON a.id = c.article_id "
            f"WHERE c.id > ?{where} ORDER BY c.id LIMIT ?",
            (last, *params, page),
        ).fetchall()
        if not rows:
            return done
        conn.executemany(
            "UPDATE chunks SET tokens = ? WHERE id = ?", [(" ".join(tokenizer(f"{h}\n{t}")), cid) for cid, h, t in rows]
        )
        done, last = done + len(rows), rows[-1][0]


def set_source_status(conn: sqlite3.Connection, source_id: int, status: str) -> None:
    conn.execute("UPDATE sources SET status = ? WHERE id = ?", (status, source_id))


def retag_source(conn: sqlite3.Connection, path: str, paper: str | None, date: str | None) -> int:
    """Set paper and/or date (None: keep) on the articles of the source at ``path``."""
    sets = [(col, v) for col, v in (("paper", paper), ("date", date)) if v is not None]
    if not sets:
        return 0
    cur = conn.execute(
        f"UPDATE articles SET {', '.join(f'{c} = ?' for c, _ in sets)} "
        "WHERE source_id IN (SELECT id FROM sources WHERE path = ?)",
        [v for _, v in sets] + [path],
    )
    return cur.rowcount
