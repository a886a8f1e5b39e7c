"""The archive's own words in an index (a part of :class:`rag.store.Index`): learning them as
articles arrive, and relearning them all (``rag reindex``).  See rag.text.lexicon."""

from __future__ import annotations

from collections.abc import Sequence

from rag.models import Article
from rag.store import queries, writes
from rag.store.base import IndexState
from rag.store.schema import write_manifest
from rag.text.lexicon import collect_terms, select_words
from rag.text.tokenize import DEFAULT_TOKENIZER, make_tokenizer


class ArchiveWords(IndexState):
    def _learn_words(self, articles: Sequence[Article]) -> None:
        """Add the batch's names and terms to the lexicon; chunks cut before a new word was
        known are marked for re-tokenising at the next full commit."""
        counts = collect_terms([a.text for a in articles], [a.headline for a in articles])
        if not counts:
            return
        totals = writes.add_term_counts(self._conn, counts)
        new = self.tokenizer.add_words(select_words(totals, self.tokenizer.words))
        if new and self._conn.execute("SELECT 1 FROM chunks LIMIT 1").fetchone():
            write_manifest(self._conn, {"tokens_stale": "1"})
            self._bm25_dirty = True

    def relearn_lexicon(self, page: int = 1000) -> int:
        """Rebuild the lexicon from every stored article, re-cut all chunks and rebuild BM25
        (for indexes built before the lexicon existed). Returns the number of lexicon words."""
        with self._lock:
            self._begin()
            self._conn.execute("DELETE FROM lexicon")
            self.tokenizer = make_tokenizer(self.manifest.get("tokenizer", DEFAULT_TOKENIZER))
            last = -1
            while rows := self._conn.execute(
                "SELECT id, headline, text FROM articles WHERE id > ? ORDER BY id LIMIT ?", (last, page)
            ).fetchall():
                last = rows[-1][0]
                writes.add_term_counts(self._conn, collect_terms([r[2] for r in rows], [r[1] for r in rows]))
            self.tokenizer.add_words(select_words(queries.lexicon_counts(self._conn)))
            write_manifest(self._conn, {"tokens_stale": "1"})
            self._bm25_dirty = True
            self.commit_search_indexes()
            return len(self.tokenizer.words)
