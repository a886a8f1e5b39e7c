"""Errors raised when an index folder cannot be used."""

from __future__ import annotations


class IndexStoreError(Exception):
    """Base class for index store problems."""


class IndexNotFoundError(IndexStoreError):
    """The index folder (or its rag.sqlite) does not exist."""


class IndexMismatchError(IndexStoreError):
    """The index was built with another model, dimension, chunker or schema."""


class IndexDamagedError(IndexStoreError):
    """A file of the index is missing, truncated or unreadable; the message names it and the fix."""


class IndexReadOnlyError(IndexStoreError):
    """The index folder cannot be written (a read-only mount): it answers, but takes no writes."""


class WriterBusyError(IndexStoreError):
    """Another process holds the index's write lock and did not let go in time."""
