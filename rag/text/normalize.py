"""The one place text is normalised.  Every form starts from Unicode NFKC (full-width digits and
letters → ASCII, compatibility characters folded); each function says what else it drops.

==================  ==========================================================================
``fold``            NFKC + lowercase (what the BM25 tokenizer and the lexicon see)
``compact``         ``fold`` without whitespace (OCR spacing must not break matching)
``alnum``           ``fold``, letters, digits and dots only (citation checks: bigrams, numbers)
``match_key``       ``fold`` without whitespace and punctuation; ``%`` and decimal points kept
                    (gold answers against answers, evidence against passages)
``normalize_query`` NFKC, traditional → simplified, OCR spaces between Chinese characters
                    removed, whitespace collapsed (the question as retrieval sees it)
==================  ==========================================================================
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

CJK = "\u3400-\u9fff"
_CJK_GAP = re.compile(rf"(?<=[{CJK}])\s+(?=[{CJK}])")
# Symbols (not in Unicode's P* categories) that carry no meaning for matching.
_EXTRA_DROP = set("~`^|│┃｜丨—–‐")
_KEEP = {"%"}


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def fold(text: str) -> str:
    """Full-width → half-width (NFKC) and lowercase."""
    return nfkc(text).lower()


def compact(text: str) -> str:
    """NFKC, lowercase, no whitespace."""
    return "".join(fold(text).split())


def alnum(text: str) -> str:
    """NFKC, lowercase, letters, digits and ``.`` only (punctuation and OCR spaces dropped)."""
    return "".join(ch for ch in fold(text) if ch.isalnum() or ch == ".")


def _drop(ch: str) -> bool:
    if ch in _KEEP:
        return False
    if ch.isspace() or ch in _EXTRA_DROP:
        return True
    cat = unicodedata.category(ch)
    return cat[0] in "PZ" or cat == "Cc" or cat == "Cf"


def match_key(text: str) -> str:
    """NFKC, lowercase, whitespace and punctuation dropped.

    A ``.`` between two digits is kept (``16.4``, also ``16. 4`` with an OCR space); thousands
    separators vanish with the other commas (``1,234`` → ``1234``); ``%`` is kept.
    """
    if not text:
        return ""
    s = fold(text)
    out: list[str] = []
    n = len(s)
    for i, ch in enumerate(s):
        if ch == ".":
            prev = out[-1] if out else ""
            j = i + 1
            while j < n and s[j].isspace():
                j += 1
            if prev.isdigit() and j < n and s[j].isdigit():
                out.append(ch)
            continue
        if not _drop(ch):
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=1)
def _t2s():
    try:
        from opencc import OpenCC
    except ImportError:  # optional: without it traditional characters stay as they are
        return None
    return OpenCC("t2s")


def normalize_query(text: str) -> str:
    """Width, script and spacing normalisation of a question (meaning unchanged)."""
    text = nfkc(text or "")
    conv = _t2s()
    if conv is not None:
        text = conv.convert(text)
    text = _CJK_GAP.sub("", text)
    return " ".join(text.split())
