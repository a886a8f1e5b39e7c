"""Search, fetch and catalog over the Milvus collections (the reading half of MilvusStore).

Filters reach Milvus as boolean expressions inside the search (``chunk_ids_matching`` returns
the expression, which the retrievers hand back unread).  BM25 is the engine's: the question is
folded as the documents were and cut by the collection's jieba analyzer.
"""

from __future__ import annotations

import os
import re
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.models import Article, Chunk, Filters, Source
from rag.store.contract import Scored
from rag.store.milvus.schema import filter_expression, id_list, names, quote
from rag.text.normalize import fold
from rag.text.tokenize import JiebaTokenizer

MAX_TOPK = 16_384  # Milvus's limit on one search's results
PAGE = 1_000  # ids per `in [...]` query
CHUNK_FIELDS = ["id", "article_id", "position", "text", "start", "end"]
ARTICLE_FIELDS = [
    "article_id",
    "part",
    "parts",
    "doc_id",
    "source",
    "headline",
    "paper",
    "iso_date",
    "page",
    "section",
    "byline",
    "dateline",
    "text",
    "start",
    "end",
]
REGIONS = "regions"  # articles' page regions: a field since issue 19, absent in older collections
SOURCE_FIELDS = ["id", "path", "name", "sha256", "size", "encoding", "status", "error", "added"]


def date_like(value: str, pattern: str) -> bool:
    """SQL's ``LIKE`` for dates: ``%`` any run of characters (as rag.store.queries.articles_on)."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("%"))), value) is not None


def source_from_row(row: dict) -> Source:
    return Source(
        row["path"], row["sha256"], int(row["size"]), row["encoding"], row["status"], row["error"], int(row["id"])
    )


def article_from_parts(parts: list[dict]) -> Article:
    parts.sort(key=lambda r: r["part"])
    head = parts[0]
    return Article(
        doc_id=head["doc_id"],
        source=os.path.basename(head["source"]),  # the file name, as the embedded store names it
        text="".join(p["text"] for p in parts),
        regions="".join(p.get(REGIONS, "") for p in parts),
        headline=head["headline"],
        paper=head["paper"],
        date=head["iso_date"],
        page=head["page"],
        section=head["section"],
        byline=head["byline"],
        dateline=head["dateline"],
        start=int(head["start"]),
        end=int(head["end"]),
        id=int(head["article_id"]),
    )


class MilvusReading:
    """Needs ``client``, ``prefix``, ``dim``, ``manifest``, ``path`` (set by MilvusStore)."""

    client: Any
    prefix: str
    dim: int
    manifest: dict[str, str]
    path: Path
    local: bool  # a milvus-lite file (FLAT only), not a server
    _lock: threading.RLock
    _cache: dict[str, Any]  # the article list, per generation
    _known: set[int]  # chunk ids searches returned this generation (they exist)

    @property
    def _article_fields(self) -> list[str]:
        """The article fields to read: with ``regions`` where the collection has it."""
        fields = self._cache.get("article_fields")  # (read once: another thread may clear the cache)
        if fields is None:
            info = self.client.describe_collection(self.names["articles"])
            present = {f["name"] for f in info.get("fields", [])}
            fields = self._cache["article_fields"] = ARTICLE_FIELDS + ([REGIONS] if REGIONS in present else [])
        return fields

    def _forget(self) -> None:
        """Drop what was read of an earlier generation."""
        self._cache.clear()
        self._known.clear()

    @property
    def names(self) -> dict[str, str]:
        return names(self.prefix)

    @property
    def lexical_only(self) -> bool:
        return self.dim == 0

    # ---- low level -------------------------------------------------------------------------
    def _query(self, kind: str, expr: str, fields: list[str], limit: int | None = None) -> list[dict]:
        args: dict[str, Any] = {"filter": expr, "output_fields": fields}
        if limit is not None:
            args["limit"] = limit
        return list(self.client.query(self.names[kind], **args))

    def _scan(self, kind: str, expr: str, fields: list[str]) -> Iterator[dict]:
        """Every row matching ``expr`` (an iterator: no result-size limit)."""
        it = self.client.query_iterator(self.names[kind], batch_size=PAGE * 4, filter=expr, output_fields=fields)
        try:
            while page := it.next():
                yield from page
        finally:
            it.close()

    def _count(self, kind: str, expr: str = "") -> int:
        rows = self.client.query(self.names[kind], filter=expr, output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def _search(self, field: str, data: list, depth: int, allowed: str | None, params: dict) -> Scored:
        if depth <= 0:
            return []
        found = self.client.search(
            self.names["chunks"],
            data=data,
            anns_field=field,
            limit=min(depth, MAX_TOPK),
            filter=allowed or "",
            search_params=params,
            output_fields=[],
        )
        hits = [(int(h["id"]), float(h["distance"])) for h in found[0]]
        if len(self._known) > 200_000:
            self._known.clear()
        self._known.update(cid for cid, _ in hits)
        return hits

    # ---- search ----------------------------------------------------------------------------
    def chunk_ids_matching(self, filters: Filters | None) -> str | None:
        """The filters as the chunks' boolean expression (None: every chunk)."""
        return filter_expression(filters)

    def vector_search(self, query: np.ndarray, depth: int, allowed: str | None = None) -> Scored:
        self.require_vectors()
        vector = np.asarray(query, dtype=np.float32).reshape(-1).tolist()
        params = {"metric_type": "IP", "params": {"ef": max(64, min(depth, MAX_TOPK))}}
        return self._search("vector", [vector], depth, allowed, params)

    def vector_scores(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        if self.lexical_only or not len(ids):
            return {}
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        out: dict[int, float] = {}
        for i in range(0, len(ids), PAGE):
            for row in self._query("chunks", f"id in {id_list(ids[i : i + PAGE])}", ["id", "vector"]):
                out[int(row["id"])] = float(np.dot(np.asarray(row["vector"], dtype=np.float32), q))
        return out

    def lexical_search(self, query: str, depth: int, allowed: str | None = None) -> Scored:
        text = fold(query).strip()
        if not text:
            return []
        found = self._search("sparse", [text], depth, allowed, {"metric_type": "BM25"})
        return [(cid, s) for cid, s in found if s > 0]

    def lexical_scores(self, query: str, ids: Sequence[int]) -> dict[int, float]:
        """BM25 of ``ids``: a search restricted to them (0.0 for a stored id no term matches;
        ids a search just returned are known to be stored, the others are looked up)."""
        out: dict[int, float] = {}
        for i in range(0, len(ids), PAGE):
            part = [int(c) for c in ids[i : i + PAGE]]
            known = [c for c in part if c in self._known]
            unsure = [c for c in part if c not in self._known]
            if unsure:
                known += [int(r["id"]) for r in self._query("chunks", f"id in {id_list(unsure)}", ["id"])]
            out.update(dict.fromkeys(known, 0.0))
            if known:
                out.update(self.lexical_search(query, len(known), f"id in {id_list(known)}"))
        return out

    def query_tokens(self, query: str) -> list[str]:
        """The question's jieba words that some passage holds (one BM25 probe a word: for
        diagnostics; milvus-lite 2.5 has no analyzer endpoint)."""
        words = dict.fromkeys(JiebaTokenizer("cut")(query))
        return [w for w in words if self.lexical_search(w, 1)]

    def require_vectors(self) -> None:
        if self.lexical_only:
            from rag.store.errors import IndexStoreError

            raise IndexStoreError(f"{self.path} is lexical-only: it holds no vectors")

    # ---- fetch -----------------------------------------------------------------------------
    def chunks_by_ids(self, ids: Sequence[int] | np.ndarray) -> list[tuple[Chunk, Article]]:
        wanted = [int(i) for i in ids]
        chunks: dict[int, Chunk] = {}
        for i in range(0, len(wanted), PAGE):
            for r in self._query("chunks", f"id in {id_list(wanted[i : i + PAGE])}", CHUNK_FIELDS):
                chunks[int(r["id"])] = Chunk(
                    int(r["article_id"]), r["text"], int(r["start"]), int(r["end"]), int(r["position"]), int(r["id"])
                )
        articles = self._articles({c.article_id for c in chunks.values()})
        return [
            (chunks[i], articles[chunks[i].article_id])
            for i in wanted
            if i in chunks and chunks[i].article_id in articles
        ]

    def _articles(self, article_ids: set[int]) -> dict[int, Article]:
        rows: dict[int, list[dict]] = {}
        ordered = sorted(article_ids)
        for i in range(0, len(ordered), PAGE):
            expr = f"article_id in {id_list(ordered[i : i + PAGE])}"
            for r in self._query("articles", expr, self._article_fields, limit=MAX_TOPK):
                rows.setdefault(int(r["article_id"]), []).append(r)
        return {aid: article_from_parts(parts) for aid, parts in rows.items() if len(parts) == parts[0]["parts"]}

    def article(self, article_id: int) -> Article | None:
        return self._articles({int(article_id)}).get(int(article_id))

    # ---- catalog ---------------------------------------------------------------------------
    def _article_heads(self) -> list[dict]:
        """(id, headline, paper, date, page, section) of every article, cached per generation."""
        key = "heads:" + self.manifest.get("generation", "")
        heads = self._cache.get(key)  # (read once: another thread may clear the cache)
        if heads is None:
            heads = list(
                self._scan("articles", "part == 0", ["article_id", "headline", "paper", "iso_date", "page", "section"])
            )
            self._cache.clear()
            self._cache[key] = heads
        return heads

    def facets(self) -> dict[str, list[str]]:
        heads = self._article_heads()
        return {
            name: sorted({r[col] for r in heads if r[col]})
            for name, col in (("papers", "paper"), ("sections", "section"))
        }

    def catalog(self) -> list[tuple[str, str, int]]:
        counts = Counter((r["paper"], r["iso_date"]) for r in self._article_heads())
        rows = sorted((p, d, n) for (p, d), n in counts.items())  # by paper …
        return sorted(rows, key=lambda t: t[1], reverse=True)  # … within the newest date first, as SQL orders

    def articles_on(
        self, paper: str | None, date: str | None, limit: int = 500
    ) -> list[tuple[int, str, str, str, str, str]]:
        rows = [
            (int(r["article_id"]), r["headline"], r["paper"], r["iso_date"], r["page"], r["section"])
            for r in self._article_heads()
            if (paper is None or r["paper"] == paper) and (date is None or date_like(r["iso_date"], date))
        ]
        rows.sort(key=lambda t: (t[4], t[0]))
        rows.sort(key=lambda t: t[3], reverse=True)
        return rows[:limit]

    def _sources(self, expr: str) -> list[Source]:
        rows = sorted(self._query("sources", expr, SOURCE_FIELDS), key=lambda r: r["added"], reverse=True)
        return [source_from_row(r) for r in rows]

    def source_by_path(self, path: str) -> Source | None:
        """The newest source row of ``path`` (an older one is a replaced version a crash left)."""
        found = self._sources(f"path == {quote(str(path))}")
        return found[0] if found else None

    def source_by_sha(self, sha256: str) -> Source | None:
        found = self._sources(f"sha256 == {quote(sha256)}")
        return found[0] if found else None

    def find_source(self, given: str, resolved: str) -> str | list[str]:
        for path in (resolved, given):
            if self._sources(f"path == {quote(path)}"):
                return path
        name = given.replace("\\", "/").rsplit("/", 1)[-1]
        paths = sorted({s.path for s in self._sources(f"name == {quote(name)}")})
        return paths[0] if len(paths) == 1 else paths

    def doc_ids_of_source(self, source_id: int) -> set[str]:
        return {r["doc_id"] for r in self._scan("articles", f"source_id == {int(source_id)} and part == 0", ["doc_id"])}

    def existing_doc_ids(self, doc_ids: list[str]) -> set[str]:
        out: set[str] = set()
        for i in range(0, len(doc_ids), PAGE):
            expr = f"doc_id in [{','.join(quote(d) for d in doc_ids[i : i + PAGE])}] and part == 0"
            out.update(r["doc_id"] for r in self._query("articles", expr, ["doc_id"]))
        return out

    def stats(self) -> dict[str, Any]:
        heads = self._article_heads()
        papers = Counter(r["paper"] for r in heads)
        dates = sorted(r["iso_date"] for r in heads if r["iso_date"])
        chunks = self._count("chunks")
        return {
            "sources": self._count("sources"),
            "sources_failed": self._count("sources", 'status == "error"'),
            "articles": len(heads),
            "chunks": chunks,
            "papers": dict(sorted(papers.items(), key=lambda kv: (-kv[1], kv[0]))),
            "date_range": (dates[0], dates[-1]) if dates else None,
            "vectors": 0 if self.lexical_only else chunks,
            "vector_index": "milvus",
            "bm25_docs": chunks,
            "manifest": dict(self.manifest),
            "path": str(self.path),
        }
