"""What the learned ranker sees of a first-stage candidate: one row of numbers per hit.

The same function computes the rows when the model is fitted (bench/fit_ranker.py) and when a
question is answered (rag.retrieval.ranker), so training and serving cannot drift apart.
Every feature is relative to the question's own candidate list (scores over the best score,
word weights from the candidates' texts), so one model serves archives of any size:

* the first stage: the hit's place in its list; BM25 score over the list's best, its rank;
  dense cosine below the list's best, its rank (absent channels are 0);
* the question's content words, IDF-weighted over the candidates (rag.text.terms): covered by
  the passage, the headline, the whole article, the passage's best sentence (term proximity);
  the best sentence that also holds what is asked (a number with the asked unit, a date …);
* the words that pin the question to one fact (names, years, ordinals): share in the article;
  the longest stretch of the question found verbatim in the passage;
  a year or place the question states, found in the article;
* the passage's position in the article, the article's length, how many candidates the
  article has and its best BM25 and dense scores among them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from rag.models import Hit
from rag.text.asked import Question
from rag.text.normalize import compact
from rag.text.question import mentions_place
from rag.text.terms import QUESTION_WORDS, coverage, longest_shared, sentence_coverage, term_weights

FEATURES = (
    "first_stage_rank",
    "bm25",
    "bm25_rank",
    "dense",
    "dense_rank",
    "cover_passage",
    "cover_headline",
    "cover_article",
    "best_sentence",
    "typed_sentence",
    "specific_share",
    "longest_match",
    "year_agrees",
    "place_agrees",
    "position",
    "article_length",
    "article_candidates",
    "article_bm25",
    "article_dense",
)
DENSE_FEATURES = ("dense", "dense_rank", "article_dense")
_QUESTION_WORDS = re.compile("|".join(sorted(map(re.escape, QUESTION_WORDS), key=len, reverse=True)) + "|[？?！!，,。]")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})年")


_compact = lru_cache(maxsize=8192)(compact)  # the same passages and articles come back query after query


def _rank_score(rank: float) -> float:
    """1 / log2(1 + rank): 1 at rank 1, 0 when the channel did not return the hit."""
    return 1.0 / math.log2(1.0 + rank) if rank > 0 else 0.0


def _share(wanted: Sequence[str], text: str, found=None) -> float:
    if not wanted:
        return 0.0
    found = found or (lambda w, t: w in t)
    return sum(1 for w in wanted if found(w, text)) / len(wanted)


def candidate_features(question: Question, hits: Sequence[Hit]) -> np.ndarray:
    """A ``(len(hits), len(FEATURES))`` float32 array, rows in the order of ``hits``."""
    out = np.zeros((len(hits), len(FEATURES)), dtype=np.float32)
    if not hits:
        return out
    terms = question.terms
    asks = [a for a in question.asks if a.kind != "list"]
    specific = [compact(w) for w in question.specifics]
    years = _YEAR.findall(question.compact)
    places = question.places
    asked = _QUESTION_WORDS.sub("", question.compact)
    passages = [_compact(f"{h.article.headline}\n{h.chunk.text}") for h in hits]
    weights = term_weights(terms, passages) if terms else {}
    articles: dict[int, str] = {}
    bm25 = np.array([h.scores.get("bm25", 0.0) for h in hits], dtype=np.float64)
    dense = np.array([h.scores.get("dense", np.nan) for h in hits], dtype=np.float64)
    top_bm25 = bm25.max() if bm25.max() > 0 else 1.0
    top_dense = np.nanmax(dense) if not np.all(np.isnan(dense)) else 0.0
    per_article: dict[int, list[int]] = {}
    for i, h in enumerate(hits):
        per_article.setdefault(h.chunk.article_id, []).append(i)
    for i, h in enumerate(hits):
        aid = h.chunk.article_id
        if aid not in articles:
            articles[aid] = _compact(f"{h.article.headline}\n{h.article.text}")
        article, mates = articles[aid], per_article[aid]
        mates_dense = [dense[j] for j in mates if not np.isnan(dense[j])]
        best, typed = (
            sentence_coverage(terms, weights, _compact(h.chunk.text), asks, question.compact) if terms else (0.0, 0.0)
        )
        values = {
            "first_stage_rank": _rank_score(i + 1),
            "bm25": bm25[i] / top_bm25,
            "bm25_rank": _rank_score(h.scores.get("bm25_rank", 0.0)),
            "dense": 0.0 if np.isnan(dense[i]) else dense[i] - top_dense,
            "dense_rank": _rank_score(h.scores.get("dense_rank", 0.0)),
            "cover_passage": coverage(terms, weights, passages[i]),
            "cover_headline": coverage(terms, weights, _compact(h.article.headline)),
            "cover_article": coverage(terms, weights, article),
            "best_sentence": best,
            "typed_sentence": typed,
            "specific_share": _share(specific, article),
            "longest_match": longest_shared(asked, passages[i]) / len(asked) if asked else 0.0,
            "year_agrees": _share(years, article + (h.article.date or "").replace("-", "")),
            "place_agrees": _share(places, article, mentions_place),
            "position": h.chunk.start / max(1, len(h.article.text)),
            "article_length": math.log10(max(10, len(h.article.text))) / 4,
            "article_candidates": math.log2(len(mates)),
            "article_bm25": max(bm25[j] for j in mates) / top_bm25,
            "article_dense": max(mates_dense) - top_dense if mates_dense else 0.0,
        }
        out[i] = [values[f] for f in FEATURES]
    return out
