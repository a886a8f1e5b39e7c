"""Lexical retrieval: bm25s over jieba tokens, filters as a bm25s ``weight_mask``."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from rag.models import Filters, Hit
from rag.retrieval.base import make_hits
from rag.text.tokenize import Tokenizer


class BM25Retriever:
    name = "bm25"

    def __init__(self, index, tokenizer: Tokenizer | None = None) -> None:
        self.index = index
        # documents were tokenised with the index's tokenizer: queries must be cut the same way
        self.tokenizer: Tokenizer = tokenizer or index.tokenizer

    def query_tokens(self, query: str, bm25=None) -> list[str]:
        """Distinct query tokens that occur in the vocabulary, in query order."""
        bm25 = bm25 or self.index.bm25
        if bm25 is None:
            return []
        return [t for t in dict.fromkeys(self.tokenizer(query)) if t in bm25.vocab_dict]

    def scores(
        self, query: str, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """``(scores, chunk ids)``: the BM25 score of every indexed chunk, aligned with the ids;
        chunks outside ``allowed`` score 0.  Scores are None when no query token is known."""
        bm25, ids = self.index.bm25_state  # one consistent snapshot
        tokens = self.query_tokens(query, bm25)
        if not tokens:
            return None, ids
        mask = None if allowed is None else np.isin(ids, allowed).astype(np.float32)
        return bm25.get_scores(tokens, weight_mask=mask), ids

    def candidates(
        self, query: str, depth: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Up to ``depth`` ``(chunk id, score)`` pairs with a positive score, best first."""
        if depth <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        scores, ids = self.scores(query, allowed)
        if scores is None:
            return []
        positive = np.flatnonzero(scores > 0)
        if len(positive) > depth:
            positive = positive[np.argpartition(-scores[positive], depth - 1)[:depth]]
        order = positive[np.lexsort((positive, -scores[positive]))]  # score desc, then position
        return [(int(ids[i]), float(scores[i])) for i in order]

    def score_ids(self, query: str, wanted: Sequence[int]) -> dict[int, float]:
        """BM25 scores of the given chunk ids (0.0 when no query term matches)."""
        scores, ids = self.scores(query)
        out: dict[int, float] = {}
        for cid in wanted:
            pos = int(np.searchsorted(ids, cid))
            if pos < len(ids) and ids[pos] == cid:
                out[int(cid)] = 0.0 if scores is None else float(scores[pos])
        return out

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        allowed = self.index.chunk_ids_matching(filters)
        ranked = self.candidates(query, k, allowed)
        return make_hits(self.index, ranked, {cid: {"bm25": s} for cid, s in ranked})
