"""The Milvus collections of one archive, their ids and the filter expressions.

Four collections share a prefix (``<prefix>_chunks`` …):

* ``chunks``: one row a passage: the text, ``lexical`` (the headline and the text, folded as
  the embedded store folds them, cut by the engine's jieba analyzer into a BM25 sparse vector
  the engine computes), the dense vector, and the article's filter fields copied in (paper,
  section, date as yyyymmdd, source path and name) so filters are expressions inside a search;
* ``articles``: one row per part of an article's text and page regions (Milvus VARCHAR fields
  hold 65,535 bytes; a part holds ≤ 16,000 characters of each, safe for any UTF-8), with the
  metadata; collections made before page regions have no ``regions`` field and store none;
* ``sources``: one row per input file (path, sha256, status …);
* ``meta``: the manifest (model, dimension, chunker and schema versions, the generation).

Ids are 62-bit hashes of the article's ``doc_id`` (and the chunk's position), so writing a
batch again after a crash replaces rows instead of adding twins.  Collections without a
dense field carry a 2-d placeholder vector: Milvus 2.5 servers want one vector field.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from rag.models import Filters

MILVUS_SCHEMA = "1"
TEXT_PART = 16_000  # characters of article text a row holds (≤ 64,000 bytes of UTF-8)
VARCHAR_MAX = 65_535
FLAT_MAX = 100_000  # chunks: exact search up to here, HNSW beyond (a server; milvus-lite is always FLAT)
HNSW = {"M": 16, "efConstruction": 200}
# the engine's jieba; lowercase and punctuation out as rag.text.tokenize does; BM25 as bm25s's defaults
ANALYZER = {"tokenizer": "jieba", "filter": ["lowercase", "cnalphanumonly"]}
BM25_PARAMS = {"bm25_k1": 1.5, "bm25_b": 0.75}
KINDS = ("chunks", "articles", "sources", "meta")  # created in this order: meta, last, says it is whole
# the scalar fields of each collection (INT64 where named in INT_FIELDS, VARCHAR otherwise)
FIELDS = {
    "chunks": "id article_id source_id position start end date text paper section source source_name",
    "articles": "id article_id part parts source_id doc_id source headline paper iso_date page section byline "
    "dateline text date start end regions",
    "sources": "id path name sha256 encoding status error ingested_at size added",
    "meta": "key value",
}
# scalar fields rows are fetched or deleted by (INVERTED indexes)
LOOKED_UP = {
    "chunks": ("article_id", "source_id"),
    "articles": ("article_id", "source_id", "doc_id"),
    "sources": ("path",),
    "meta": (),
}
INT_FIELDS = {"article_id", "source_id", "position", "start", "end", "date", "part", "parts", "size", "added"}
_PLACEHOLDER = [0.0, 0.0]
_SAFE = re.compile(r"[^A-Za-z0-9_]")


def names(prefix: str) -> dict[str, str]:
    return {kind: f"{prefix}_{kind}" for kind in KINDS}


def default_prefix(index_name: str) -> str:
    """A collection prefix from the index folder's name (Milvus names hold letters, digits and
    _ only: a name with other characters gets a hash of itself, so two names never meet)."""
    safe = _SAFE.sub("_", index_name).strip("_")[:60]
    if safe != index_name:
        safe = f"{safe}_{hashlib.blake2b(index_name.encode(), digest_size=4).hexdigest()}".lstrip("_")
    return f"rag_{safe}"


def stable_id(*parts: object) -> int:
    """A positive 62-bit id from ``parts`` (the same parts give the same id in any process)."""
    key = "\x1f".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") >> 2


def date_number(iso: str) -> int:
    """2023-01-10 → 20230110; "" → 0 (unknown)."""
    digits = iso.replace("-", "")
    return int(digits) if digits.isdigit() and len(digits) == 8 else 0


def quote(value: str) -> str:
    """A string literal for a Milvus expression."""
    return json.dumps(value, ensure_ascii=False)


def id_list(ids) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"


def filter_expression(filters: Filters | None) -> str | None:
    """The chunks' boolean expression for ``filters`` (None: no filter).  Dates are inclusive;
    a bare 2023-01 or 2023 as the upper bound covers the whole month or year; undated
    articles never pass a date bound."""
    if filters is None or filters.is_empty():
        return None
    terms = []
    if filters.since:
        low = filters.since.replace("-", "").ljust(8, "0")
        terms.append(f"date >= {max(int(low), 1)}")
    if filters.until:
        high = filters.until.replace("-", "").ljust(8, "9")
        terms.append(f"date > 0 and date <= {int(high)}")
    if filters.paper:
        terms.append(f"paper == {quote(filters.stored_paper())}")
    if filters.section:
        terms.append(f"section == {quote(filters.section)}")
    if filters.source:
        terms.append(f"(source_name == {quote(filters.source)} or source == {quote(filters.source)})")
    return " and ".join(f"({t})" for t in terms)


def _text(schema, data_type, name: str, **extra: Any) -> None:
    schema.add_field(name, data_type.VARCHAR, max_length=VARCHAR_MAX, **extra)


def create_collections(client, prefix: str, dim: int, local: bool, shards: int = 1) -> None:
    """Create the four collections (with their indexes) that do not exist yet; the chunks
    collection with ``shards`` shards (fixed at creation: they spread inserts over data nodes)."""
    from pymilvus import DataType, Function, FunctionType

    made = names(prefix)
    for kind in KINDS:
        fields = FIELDS[kind]
        if client.has_collection(made[kind]):
            continue
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        index = client.prepare_index_params()
        for name in fields.split():
            if name == "key":  # meta's primary key
                schema.add_field(name, DataType.VARCHAR, max_length=200, is_primary=True)
            elif name == "id":
                schema.add_field(name, DataType.INT64, is_primary=True)
            elif name in INT_FIELDS:
                schema.add_field(name, DataType.INT64)
            else:
                _text(schema, DataType, name)
        if kind == "chunks":
            _text(schema, DataType, "lexical", enable_analyzer=True, analyzer_params=ANALYZER)
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(
                Function(
                    name="bm25",
                    function_type=FunctionType.BM25,
                    input_field_names=["lexical"],
                    output_field_names=["sparse"],
                )
            )
            index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25_PARAMS)
            if dim:
                schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
                index.add_index("vector", **dense_index(0, local))
        else:
            schema.add_field("_v", DataType.FLOAT_VECTOR, dim=len(_PLACEHOLDER))
            index.add_index("_v", index_type="FLAT", metric_type="IP")
        for name in LOOKED_UP[kind]:
            index.add_index(name, index_type="INVERTED")
        client.create_collection(
            made[kind],
            schema=schema,
            index_params=index,
            consistency_level="Strong",
            num_shards=shards if kind == "chunks" else 1,
        )


def dense_index(chunks: int, local: bool) -> dict[str, Any]:
    """The dense field's index for an archive of ``chunks`` passages: FLAT (exact) while small
    or on milvus-lite (which only has FLAT), HNSW beyond ``FLAT_MAX``."""
    if local or chunks <= FLAT_MAX:
        return {"index_type": "FLAT", "metric_type": "IP"}
    return {"index_type": "HNSW", "metric_type": "IP", "params": HNSW}


def placeholder_rows(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["_v"] = _PLACEHOLDER
    return rows
