"""Bytes per chunk of an archive in Milvus, measured on a real index, and what a cluster for
N articles needs (docs/milvus.md's sizing sketch).  Prints JSON.

    python bench/milvus_sizing.py INDEX [--articles 10000000]

Measured from INDEX (an embedded index; its Milvus copy, ``rag migrate``, when there):
chunks per article, the bytes of a chunk's text and of its analysed text, the distinct BM25
terms a chunk holds (the sparse vector's entries, jieba as the engine cuts), the article text,
the dense dimension; and the milvus-lite file's size per chunk.  Projected: raw bytes of each
field, the HNSW graph (M links each way per layer, 4-byte ids), and the RAM a query node needs
to hold the loaded collections (vectors + sparse index + scalar fields; text stays in object
storage with mmap on).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

from common import machine

from rag.store.milvus.schema import HNSW
from rag.text.normalize import fold
from rag.text.tokenize import JiebaTokenizer

SAMPLE_CHUNKS = 3000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("index", type=Path)
    p.add_argument("--articles", type=int, default=10_000_000)
    a = p.parse_args(argv)
    with sqlite3.connect(a.index / "rag.sqlite") as conn:
        articles, chunks = (conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("articles", "chunks"))
        dim = int(dict(conn.execute("SELECT key, value FROM manifest"))["dim"])
        article_bytes = conn.execute("SELECT AVG(LENGTH(CAST(text AS BLOB))) FROM articles").fetchone()[0]
        sample = conn.execute(
            "SELECT a.headline, c.text FROM chunks c JOIN articles a ON a.id = c.article_id "
            f"ORDER BY c.id LIMIT {SAMPLE_CHUNKS}"
        ).fetchall()
    cut = JiebaTokenizer("cut")
    text_bytes = sum(len(t.encode()) for _, t in sample) / len(sample)
    lexical_bytes = sum(len(fold(f"{h}\n{t}").encode()) for h, t in sample) / len(sample)
    terms = sum(len(set(cut(f"{h}\n{t}"))) for h, t in sample) / len(sample)
    per_article = chunks / articles
    per_chunk = {
        "dense_vector": dim * 4,
        "hnsw_graph": HNSW["M"] * 2 * 4 + 16,  # layer 0 holds 2M links; upper layers add ~1/M
        "bm25_sparse": round(terms * 8, 1),  # (uint32 term, float32 weight) per distinct term
        "text": round(text_bytes, 1),
        "lexical": round(lexical_bytes, 1),
        "scalars": 8 * 7 + 60,  # ids, offsets, date + paper/section/source strings
        "article_text_share": round(article_bytes / per_article, 1),
    }
    db = a.index / "milvus.db"
    n_chunks = a.articles * per_article
    ram = per_chunk["dense_vector"] + per_chunk["hnsw_graph"] + per_chunk["bm25_sparse"] + per_chunk["scalars"]
    disk = sum(per_chunk.values())
    out = {
        "machine": machine(),
        "index": str(a.index),
        "articles": articles,
        "chunks": chunks,
        "chunks_per_article": round(per_article, 2),
        "bm25_terms_per_chunk": round(terms, 1),
        "bytes_per_chunk": per_chunk,
        "milvus_lite_file_bytes_per_chunk": round(db.stat().st_size / chunks, 1) if db.exists() else None,
        "projection": {
            "articles": a.articles,
            "chunks": round(n_chunks),
            "query_node_ram_gib": round(n_chunks * ram / 2**30, 1),
            "object_storage_gib": round(n_chunks * disk / 2**30, 1),
        },
    }
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
