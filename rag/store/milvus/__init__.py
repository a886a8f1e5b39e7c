"""The store contract on Milvus (optional: ``pip install '.[milvus]'``)."""

from rag.store.milvus.store import MilvusStore

__all__ = ["MilvusStore"]
