"""Character error rates of read text against a transcription (whitespace ignored)."""

from __future__ import annotations

import re


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: Levenshtein distance / len(reference), whitespace ignored (bit-parallel, Myers 1999)."""
    a, b = re.sub(r"\s+", "", reference), re.sub(r"\s+", "", hypothesis)
    if not a:
        return float(bool(b))
    peq: dict[str, int] = {}
    for i, c in enumerate(a):
        peq[c] = peq.get(c, 0) | 1 << i
    mask, high = (1 << len(a)) - 1, 1 << (len(a) - 1)
    pv, mv, dist = mask, 0, len(a)
    for c in b:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & mask
        mh = pv & xh
        dist += bool(ph & high) - bool(mh & high)
        ph, mh = ((ph << 1) | 1) & mask, (mh << 1) & mask
        pv, mv = (mh | ~(xv | ph)) & mask, ph & xv
    return dist / len(a)


def stretch_cer(reference: str, text: str) -> float:
    """CER of a transcribed stretch against the best-matching part of a longer ``text``
    (semi-global edit distance: the stretch whole, the text entered and left anywhere),
    whitespace ignored."""
    a, b = re.sub(r"\s+", "", reference), re.sub(r"\s+", "", text)
    if not a:
        return 0.0
    row = [0] * (len(b) + 1)  # entering the text anywhere is free
    for i, ca in enumerate(a, 1):
        prev, row = row, [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
    return min(row) / len(a)
