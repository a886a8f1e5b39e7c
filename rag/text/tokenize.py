"""Jieba tokenisation for BM25: NFKC, lowercase, no punctuation or whitespace tokens.

``make_tokenizer("search")`` uses ``jieba.cut_for_search`` (long words also yield their
sub-words, e.g. 中华人民共和国 → 中华, 人民, 共和国, …); ``make_tokenizer("cut")`` uses the
plain accurate mode.  Numbers and single CJK characters are kept.  The tokenizer's
``name`` is recorded in the index manifest so queries are cut the way documents were.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from rag.text.normalize import fold

Tokenizer = Callable[[str], list[str]]

MODES = ("search", "cut")
DEFAULT_TOKENIZER = "jieba-search"

_lock = threading.Lock()
_ready = False


def jieba_instance():
    """jieba's shared default tokenizer (dictionary words only; archive words never go here)."""
    return jieba_module().dt


def jieba_module():
    """Import and initialise jieba once, without its log lines."""
    global _ready
    import jieba

    if not _ready:
        with _lock:
            if not _ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _ready = True
    return jieba


def _private_dictionary(base=None):
    """A jieba tokenizer with a copy of ``base``'s dictionary (the default one when None), to
    add words to: copied (tens of milliseconds) instead of loaded again (≈ 1 s)."""
    import jieba

    base = base or jieba_instance()
    own = jieba.Tokenizer()
    with _lock:
        own.FREQ, own.total = dict(base.FREQ), base.total
        own.user_word_tag_tab = dict(base.user_word_tag_tab)
        own.initialized = True
    return own


def _is_word_char(ch: str) -> bool:
    """Letters and digits (any script); not punctuation, symbols, separators or controls."""
    return unicodedata.category(ch)[0] in "LN"


def clean_token(token: str) -> str:
    """Trim punctuation/symbols at the edges ("3.5%" → "3.5"); "" if nothing word-like is left."""
    token = token.strip()
    start, end = 0, len(token)
    while start < end and not _is_word_char(token[start]):
        start += 1
    while end > start and not _is_word_char(token[end - 1]):
        end -= 1
    token = token[start:end]
    return "".join(token.split())  # tokens never contain whitespace (stored space-joined)


class JiebaTokenizer:
    """Callable ``str -> list[str]``; ``mode`` is ``"search"`` or ``"cut"``.

    ``words`` (an archive's lexicon, see rag.text.lexicon) go into a private jieba
    dictionary, so two indexes with different lexicons never cut each other's text.
    """

    def __init__(self, mode: str = "search", words: Iterable[str] = ()) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown tokenizer mode {mode!r}; valid: {', '.join(MODES)}")
        self.mode = mode
        self.name = f"jieba-{mode}"
        self._own: Any = None  # a jieba.Tokenizer once the archive has words of its own
        self.words: set[str] = set()
        self.add_words(words)

    def add_words(self, words: Iterable[str]) -> list[str]:
        """Add words to this tokenizer's dictionary; returns the ones that were new."""
        new = [w for w in dict.fromkeys(fold(w) for w in words) if w and w not in self.words]
        if not new:
            return []
        if self._own is None:
            self._own = _private_dictionary()
        for w in new:
            self._own.add_word(w, self._own.suggest_freq(w, tune=False))
        self.words.update(new)
        return new

    def with_words(self, words: Iterable[str], exact: bool = False) -> JiebaTokenizer:
        """This tokenizer when it already knows ``words``; else a new one that also knows them,
        built aside (a thread cutting text with this one never sees its dictionary change).
        ``exact``: the new one knows only ``words`` when this one knows others (a relearnt lexicon)."""
        wanted = {fold(w) for w in words} - {""}
        if exact and self.words - wanted:
            return JiebaTokenizer(self.mode, sorted(wanted))
        if wanted <= self.words:
            return self
        twin = self.copy()
        twin.add_words(sorted(wanted - self.words))
        return twin

    def copy(self) -> JiebaTokenizer:
        """A twin with a dictionary of its own (to add words to while this one cuts text)."""
        twin = JiebaTokenizer(self.mode)
        twin._own = None if self._own is None else _private_dictionary(self._own)
        twin.words = set(self.words)
        return twin

    def state(self) -> dict:
        """What the archive's words changed in the dictionary (frequencies of the words and of
        their prefixes, the total): stored with an index so that opening it skips re-tuning."""
        if self._own is None:
            return {"mode": self.mode, "words": [], "freq": {}, "total": 0}
        base = jieba_instance().FREQ
        own = self._own.FREQ
        changed = {k: v for k, v in own.items() if base.get(k) != v}
        return {"mode": self.mode, "words": sorted(self.words), "freq": changed, "total": self._own.total}

    @classmethod
    def from_state(cls, state: dict) -> JiebaTokenizer:
        """The tokenizer `state()` described, in milliseconds instead of seconds per 10k words."""
        tokenizer = cls(state["mode"])
        if state["words"]:
            tokenizer._own = _private_dictionary()
            tokenizer._own.FREQ.update(state["freq"])
            tokenizer._own.total = state["total"]
            tokenizer.words = set(state["words"])
        return tokenizer

    def __call__(self, text: str) -> list[str]:
        if not text:
            return []
        jieba = self._own or jieba_module()
        text = fold(text)
        pieces = jieba.cut_for_search(text) if self.mode == "search" else jieba.cut(text)
        out = []
        for piece in pieces:
            token = clean_token(piece)
            if token:
                out.append(token)
        return out

    def __repr__(self) -> str:
        return f"JiebaTokenizer(mode={self.mode!r})"


def make_tokenizer(name: str = DEFAULT_TOKENIZER, words: Iterable[str] = ()) -> JiebaTokenizer:
    """Build a tokenizer from its name: ``jieba-search`` | ``jieba-cut`` (or just the mode)."""
    mode = name.removeprefix("jieba-")
    if mode not in MODES:
        valid = ", ".join(f"jieba-{m}" for m in MODES)
        raise ValueError(f"unknown tokenizer {name!r}; valid: {valid}")
    return JiebaTokenizer(mode, words)


def tokenize(text: str) -> list[str]:
    """Tokenise with the default tokenizer."""
    return _DEFAULT(text)


_DEFAULT = JiebaTokenizer("search")


def dictionary_share(text: str) -> float:
    """Share of the Chinese characters of ``text`` that fall inside words of two characters or
    more from jieba's dictionary: about .8 for modern prose, .2–.3 for classical or traditional
    prose, lower still for characters read in the wrong order (a page's columns read across).
    0.0 for text without Chinese characters."""
    hanzi = "".join(c for c in text if "\u4e00" <= c <= "\u9fff")
    if not hanzi:
        return 0.0
    dt = jieba_instance()
    words = [w for w in dt.cut(hanzi, HMM=False) if len(w) >= 2 and dt.FREQ.get(w)]
    return sum(map(len, words)) / len(hanzi)
