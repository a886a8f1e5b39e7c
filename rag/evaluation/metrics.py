"""Pure scoring functions: text normalisation, gold matching, evidence ranks, hit@k, MRR."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from pathlib import PureWindowsPath

from rag.models import Hit

from .questions import Question

EVIDENCE_MIN_FRACTION = 0.8

# Symbols (not in Unicode's P* categories) that carry no meaning for matching.
_EXTRA_DROP = set("~`^|│┃｜丨—–‐")
_KEEP = {"%"}
_NUMBER_UNIT = re.compile(r"(\d+(?:\.\d+)?)(\D{1,3})")
# list separators in a gold answer ("三全、思念", "葛巧红；李亦博"); not a comma between digits
_LIST_SEP = re.compile(r"[、;/]|(?<!\d),|,(?!\d)")


def _drop(ch: str) -> bool:
    if ch in _KEEP:
        return False
    if ch.isspace() or ch in _EXTRA_DROP:
        return True
    cat = unicodedata.category(ch)
    return cat[0] in "PZ" or cat == "Cc" or cat == "Cf"


def normalize(text: str) -> str:
    """NFKC (full→half width), lowercase, drop whitespace and punctuation.

    A ``.`` between two digits is kept (``16.4``); thousands separators vanish
    with the other commas (``1,234`` → ``1234``); ``%`` is kept.
    """
    if not text:
        return ""
    s = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    n = len(s)
    for i, ch in enumerate(s):
        if ch == ".":
            prev = out[-1] if out else ""
            j = i + 1
            while j < n and s[j].isspace():
                j += 1  # "16. 4" (OCR space) still reads 16.4
            if prev.isdigit() and j < n and s[j].isdigit():
                out.append(ch)
            continue
        if not _drop(ch):
            out.append(ch)
    return "".join(out)


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
        parts = [p for p in _LIST_SEP.split(unicodedata.normalize("NFKC", cand)) if normalize(p)]
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


def _basename(path: str) -> str:
    """File name of a POSIX or Windows path."""
    return PureWindowsPath(path).name if path else ""


def _targets(q: Question) -> list[tuple[set[str], str]]:
    """(accepted source basenames, evidence) per evidence; an empty set accepts any source."""
    names = [_basename(s) for s in q.sources]
    if len(names) == len(q.evidence):
        return [({names[i]}, ev) for i, ev in enumerate(q.evidence)]
    return [(set(names), ev) for ev in q.evidence]


def _covers(hit: Hit, sources: set[str], evidence: str) -> bool:
    if sources and _basename(hit.article.source) not in sources:
        return False
    return evidence_in(hit.chunk.text, evidence)


def _first_rank(hits: Sequence[Hit], pred) -> int | None:
    for i, h in enumerate(hits, 1):
        if pred(h):
            return i
    return None


def hit_rank(question: Question, hits: Sequence[Hit]) -> int | None:
    """1-based position of the first hit holding the evidence (or a gold document)."""
    if question.evidence:
        targets = _targets(question)
        return _first_rank(hits, lambda h: any(_covers(h, s, ev) for s, ev in targets))
    if question.gold_doc_ids:
        gold = set(question.gold_doc_ids)
        return _first_rank(hits, lambda h: h.article.doc_id in gold)
    return None


def all_evidence_rank(question: Question, hits: Sequence[Hit]) -> int | None:
    """Rank by which every evidence is covered (multi_hop), or None.

    Equals hit_rank for one evidence; for document-based questions any one
    gold document suffices, so it also equals hit_rank.
    """
    if not question.evidence:
        return hit_rank(question, hits)
    ranks = [_first_rank(hits, lambda h, s=s, ev=ev: _covers(h, s, ev)) for s, ev in _targets(question)]
    if any(r is None for r in ranks):
        return None
    return max(r for r in ranks if r is not None)


def hit_at(ranks: Sequence[int | None], k: int) -> float:
    """Fraction of ranks that are ≤ k (None = not found); 0.0 for no ranks."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr(ranks: Sequence[int | None]) -> float:
    """Mean reciprocal rank (None counts 0); 0.0 for no ranks."""
    if not ranks:
        return 0.0
    return sum(1.0 / r for r in ranks if r) / len(ranks)
