"""A copy of an embedded index whose BM25 forgets the archive lexicon: plain jieba, as the
Milvus store's engine analyzer (which takes no custom dictionary in Milvus 2.5) has to.

    python bench/without_lexicon.py INDEX COPY
    rag eval ../shared/eval/dev.jsonl --index COPY --retriever bm25 --out DIR   # vs INDEX

Set beside the same eval on INDEX (with its lexicon) and on INDEX's Milvus copy (``rag
migrate``), it splits the Milvus BM25 difference into what the lexicon is worth and what the
engine's own jieba and BM25 statistics change.  Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from rag.store import Index
from rag.store.schema import write_manifest
from rag.text.tokenize import DEFAULT_TOKENIZER, make_tokenizer


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("index", type=Path)
    p.add_argument("copy", type=Path)
    a = p.parse_args(argv)
    if a.copy.exists():
        shutil.rmtree(a.copy)
    shutil.copytree(a.index, a.copy, ignore=shutil.ignore_patterns("milvus.db", ".milvus.db.lock", "uploads"))
    t0 = time.perf_counter()
    with Index.open(a.copy) as index:
        words = len(index.tokenizer.words)
        index.begin()
        index._conn.execute("DELETE FROM lexicon")
        index.tokenizer = make_tokenizer(index.manifest.get("tokenizer", DEFAULT_TOKENIZER))
        write_manifest(index._conn, {"tokens_stale": "1"})
        index._bm25_dirty = True
        index.commit_search_indexes()  # every chunk re-cut with plain jieba, BM25 rebuilt
        chunks = index.stats()["chunks"]
    out = {
        "index": str(a.index),
        "copy": str(a.copy),
        "lexicon_words_dropped": words,
        "chunks": chunks,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
