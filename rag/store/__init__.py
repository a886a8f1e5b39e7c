"""The index store: SQLite metadata + FAISS vectors + BM25, in one folder."""

from rag.store.errors import IndexMismatchError, IndexNotFoundError, IndexStoreError
from rag.store.index import Index
from rag.store.schema import SCHEMA_VERSION, make_manifest

__all__ = [
    "SCHEMA_VERSION",
    "Index",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexStoreError",
    "make_manifest",
]
