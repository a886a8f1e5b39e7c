"""Text scoring: Chinese normalisation, gold matching, evidence matching, EM, character F1, ROUGE-L."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from difflib import SequenceMatcher

from rag.text.normalize import match_key as normalize
from rag.text.normalize import nfkc

EVIDENCE_MIN_FRACTION = 0.8
_MARKER = re.compile(r"\[\d+\]")

_NUMBER_UNIT = re.compile(r"(\d+(?:\.\d+)?)(\D{1,3})")
# list separators in a gold answer ("三全、思念", "葛巧红；李亦博"); not a comma between digits
_LIST_SEP = re.compile(r"[、;/]|(?<!\d),|,(?!\d)")


def _find_bounded(needle: str, hay: str) -> bool:
    """``needle`` occurs in ``hay`` and, where it starts/ends with a digit, is not
    part of a longer number (gold ``672`` is not found in ``6720``)."""
    if not needle:
        return False
    if not (needle[0].isdigit() or needle[-1].isdigit()):
        return needle in hay
    pat = re.escape(needle)
    if needle[0].isdigit():
        pat = r"(?<![\d.])" + pat
    if needle[-1].isdigit():
        pat = pat + r"(?![\d.])"
    return re.search(pat, hay) is not None


def _match_one(norm_answer: str, candidate: str) -> bool:
    ng = normalize(candidate)
    if not ng:
        return False
    if _find_bounded(ng, norm_answer):
        return True
    m = _NUMBER_UNIT.fullmatch(ng)
    if m:
        # number + unit/measure word: the bare number counts
        return _find_bounded(m.group(1), norm_answer)
    return False


def contains_gold(answer: str, gold: str, aliases: Iterable[str] = ()) -> bool:
    """Does the answer text state the gold answer (or one of its aliases)?

    A list-shaped gold ("三全、思念") also matches when every item occurs.
    """
    na = normalize(answer)
    if not na:
        return False
    for cand in [gold, *aliases]:
        if not cand or not cand.strip():
            continue
        if _match_one(na, cand):
            return True
        parts = [p for p in _LIST_SEP.split(nfkc(cand)) if normalize(p)]
        if len(parts) >= 2 and all(_match_one(na, p) for p in parts):
            return True
    return False


def evidence_in(text: str, evidence: str, min_fraction: float = EVIDENCE_MIN_FRACTION) -> bool:
    """Is the (raw OCR) evidence in this cleaned text?

    Compared after normalize(); also true when the text holds at least
    ``min_fraction`` of the evidence as one contiguous run (evidence cut at a
    chunk boundary).
    """
    ne, nt = normalize(evidence), normalize(text)
    if not ne or not nt:
        return False
    if ne in nt:
        return True
    need = math.ceil(min_fraction * len(ne))
    if need > len(nt):
        return False
    sm = SequenceMatcher(None, nt, ne, autojunk=False)
    return sm.find_longest_match(0, len(nt), 0, len(ne)).size >= need


def strip_markers(text: str) -> str:
    """Answer text without its ``[n]`` citation markers."""
    return _MARKER.sub("", text or "")


def _golds(gold: str, aliases: Iterable[str]) -> list[str]:
    return [g for g in (normalize(c) for c in [gold, *aliases]) if g]


def exact_match(answer: str, gold: str, aliases: Iterable[str] = ()) -> bool:
    """Normalised answer equals the gold answer or an alias (``６７２个`` == ``672个``)."""
    na = normalize(strip_markers(answer))
    return bool(na) and na in _golds(gold, aliases)


def _f1(pred: str, ref: str) -> float:
    common = sum((Counter(pred) & Counter(ref)).values())
    if not common:
        return 0.0
    p, r = common / len(pred), common / len(ref)
    return 2 * p * r / (p + r)


def _lcs(a: str, b: str) -> int:
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0]
        for j, cb in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if ca == cb else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def _rouge_l(pred: str, ref: str) -> float:
    lcs = _lcs(pred, ref)
    if not lcs:
        return 0.0
    p, r = lcs / len(pred), lcs / len(ref)
    return 2 * p * r / (p + r)


def _best(score, answer: str, gold: str, aliases: Iterable[str]) -> float:
    na = normalize(strip_markers(answer))
    golds = _golds(gold, aliases)
    if not na or not golds:
        return 0.0
    return max(score(na, g) for g in golds)


def char_f1(answer: str, gold: str, aliases: Iterable[str] = ()) -> float:
    """SQuAD-style F1 over the characters of the normalised texts (best over aliases)."""
    return _best(_f1, answer, gold, aliases)


def rouge_l(answer: str, gold: str, aliases: Iterable[str] = ()) -> float:
    """ROUGE-L F1 over characters: longest common subsequence (best over aliases)."""
    return _best(_rouge_l, answer, gold, aliases)
