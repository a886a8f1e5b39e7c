"""Errors raised when an index folder cannot be used."""

from __future__ import annotations


class IndexStoreError(Exception):
    """Base class for index store problems."""


class IndexNotFoundError(IndexStoreError):
    """The index folder (or its rag.sqlite) does not exist."""


class IndexMismatchError(IndexStoreError):
    """The index was built with another model, dimension, chunker or schema."""
