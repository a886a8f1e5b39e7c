"""The archive's own words in an index (a part of :class:`rag.store.Index`): learning them as
articles arrive, and relearning them all (``rag reindex``).  See rag.text.lexicon."""

from __future__ import annotations

import json
import marshal
import os
import re
from collections.abc import Sequence
from pathlib import Path

from rag.models import Article
from rag.store import queries, writes
from rag.store.base import IndexState
from rag.store.schema import read_manifest, write_manifest
from rag.text.lexicon import collect_terms, select_words
from rag.text.tokenize import DEFAULT_TOKENIZER, JiebaTokenizer, make_tokenizer

_CJK_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
STALE_WORDS_MAX = 200  # beyond this many new words, every chunk is re-cut (one pass) rather than searched for them
LEXICON_STATE = "lexicon.marshal"  # the tuned dictionary of one generation: opening skips re-tuning


def stale_words(manifest: dict[str, str], new: Sequence[str]) -> dict[str, str]:
    """Manifest entries marking chunks to re-cut: those holding one of the words learnt since the
    last full commit (``tokens_stale_words``, JSON), or every chunk ("*") when the words are many
    or not plain CJK (folding could change how their text matches)."""
    known = manifest.get("tokens_stale_words", "") if manifest.get("tokens_stale") == "1" else "[]"
    words = "*" if known in ("", "*") else json.loads(known)
    if words != "*":
        words = sorted(set(words) | set(new))
        if len(words) > STALE_WORDS_MAX or not all(_CJK_WORD.fullmatch(w) for w in words):
            words = "*"
    return {"tokens_stale": "1", "tokens_stale_words": json.dumps(words, ensure_ascii=False)}


def archive_tokenizer(folder: Path, conn, manifest: dict[str, str], current=None, exact: bool = True):
    """The index's tokenizer with its archive words: from ``lexicon.marshal`` when that was
    written for this generation (milliseconds), else tuned from the lexicon table (seconds
    for tens of thousands of words).  ``current`` (a tokenizer already loaded) is extended
    rather than rebuilt when the file does not fit (``exact``: see ``JiebaTokenizer.with_words``)."""
    name = manifest.get("tokenizer", DEFAULT_TOKENIZER)
    try:
        with open(Path(folder) / LEXICON_STATE, "rb") as fh:
            state = marshal.load(fh)
        if state.get("generation") == _generation(manifest) and f"jieba-{state.get('mode')}" == name:
            return JiebaTokenizer.from_state(state)
    except (OSError, ValueError, EOFError, TypeError, KeyError, AttributeError):
        pass  # missing, older or damaged: tune again
    words = select_words(queries.lexicon_counts(conn))
    return current.with_words(words, exact=exact) if current is not None else make_tokenizer(name, words)


def _generation(manifest: dict[str, str]) -> str:
    """A generation of this index (a rebuilt one counts again from 0: its creation time differs)."""
    return f"{manifest.get('created_at', '')}#{manifest.get('generation', '')}"


def save_tokenizer_state(folder: Path, tokenizer, manifest: dict[str, str]) -> None:
    """Write the tokenizer's dictionary changes for the manifest's generation (atomically).  Only an
    optimisation: when it cannot be written, opening tunes the lexicon again."""
    if not hasattr(tokenizer, "state"):
        return
    path = Path(folder) / LEXICON_STATE
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            marshal.dump({**tokenizer.state(), "generation": _generation(manifest)}, fh)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


class ArchiveWords(IndexState):
    def _learn_words(self, articles: Sequence[Article]) -> None:
        """Add the batch's names and terms to the lexicon; chunks cut before a new word was
        known are marked for re-tokenising at the next full commit."""
        counts = collect_terms([a.text for a in articles], [a.headline for a in articles])
        if not counts:
            return
        totals = writes.add_term_counts(self._conn, counts)
        words = select_words(totals, self.tokenizer.words)
        new = self._own_tokenizer().add_words(words) if words else []
        if new and self._conn.execute("SELECT 1 FROM chunks LIMIT 1").fetchone():
            write_manifest(self._conn, stale_words(read_manifest(self._conn), new))
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
            write_manifest(self._conn, {"tokens_stale": "1", "tokens_stale_words": '"*"'})
            self._bm25_dirty = True
            self.commit_search_indexes()
            return len(self.tokenizer.words)
