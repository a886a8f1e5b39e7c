"""What every store's writer shares: ``with store.batch(): …`` (commit on success, roll back on
error) and ``with store: …`` (close at the end).  rag.store.Index and MilvusStore use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self


class Batches:
    def commit_search_indexes(self, bm25: bool = True) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @contextmanager
    def batch(self, bm25: bool = True) -> Iterator[Self]:
        """Commits the writes made inside on success (``bm25``: see the store's
        ``commit_search_indexes``), rolls them back on error."""
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit_search_indexes(bm25=bm25)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
