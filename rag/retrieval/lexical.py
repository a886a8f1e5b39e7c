"""What the lexical channels search with: the question's BM25 words (question words and the
archive's most common words left out) and character bigrams (robust where jieba cuts the
question and the article differently: 柳溪段 vs 柳溪 段).  bench/tune_fusion.py measures which
of these the folds support."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rag.text.normalize import compact
from rag.text.terms import QUESTION_WORDS

STOP_MODES = ("none", "question", "common")
COMMON_SHARE = 0.1  # a word in more than this share of the passages is the archive's stop word
_QUESTION_RE = re.compile("|".join(sorted(map(re.escape, QUESTION_WORDS), key=len, reverse=True)))
_WORD_RUN = re.compile(r"\w+")


def query_words(tokens: Sequence[str], stop: str, df: Mapping[str, int] | None = None, n: int = 0) -> list[str]:
    """Distinct query tokens, in order, without the ``stop`` words: ``none``; ``question``
    (多少, 什么, 哪些, 是否, 请问, 如何 … and particles); ``common`` (also words in more than
    ``COMMON_SHARE`` of the ``n`` passages, by document frequency ``df``)."""
    words = list(dict.fromkeys(tokens))
    if stop == "none":
        return words
    words = [w for w in words if w not in QUESTION_WORDS]
    if stop == "common" and df and n:
        words = [w for w in words if df.get(w, 0) <= COMMON_SHARE * n]
    return words


def bigrams(text: str, question: bool = False) -> list[str]:
    """Overlapping character bigrams of each run of letters and digits (a one-character run is
    kept as itself); a question's question words are cut out first, and its bigrams are
    distinct."""
    text = compact(text)
    if question:
        text = _QUESTION_RE.sub(" ", text)
    out = []
    for run in _WORD_RUN.findall(text):
        out += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return list(dict.fromkeys(out)) if question else out
