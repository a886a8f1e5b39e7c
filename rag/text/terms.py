"""Content-word weighting: which words of a question matter, and how much a text covers them.

A question's content words are its jieba words of ≥ 2 characters minus question words;
verbs, adverbs, pronouns, time words … (often paraphrased) weigh ``LIGHT_WEIGHT`` unless the
word is the question's predicate.  Across a set of candidate texts each word's weight is
multiplied by a BM25-style IDF (words the texts rarely mention weigh the most).  A word missing
from a text earns partial credit from its character bigrams (县委书记 vs 市委书记).  Both the
answer-type reranker and the extractive answerer score with these functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from rag.text.question import QUESTION_PREFIX, Ask, cut_question, holds, predicate_of
from rag.text.sentences import sentences
from rag.text.tokenize import clean_token

LIGHT_WEIGHT = 0.35  # verbs, adverbs, pronouns, time words … (jieba POS below)
LIGHT_POS = ("v", "a", "d", "r", "c", "p", "u", "y", "o", "f", "t", "q", "e")

QUESTION_WORDS = set(
    [
        "多少",
        "什么",
        "哪些",
        "哪个",
        "哪位",
        "哪儿",
        "哪里",
        "哪",
        "谁",
        "是",
        "的",
        "了",
        "呢",
        "吗",
        "吧",
        "啊",
        "怎么",
        "怎样",
        "如何",
        "何时",
        "几",
        "请问",
        "时候",
        "多",
        "一共",
        "共",
        "分别",
        "有",
        "在",
        "被",
        "把",
        "和",
        "与",
        "及",
        "还",
        "都",
        "也",
        "给",
        "叫",
        "能",
        "会",
        "来",
        "去",
        "请",
        "问",
        "啥",
        "么",
        "为什么",
        "什么样",
        "这个",
        "那个",
        "这",
        "那",
        "名字",
        "名称",
        "哪一天",
        "哪天",
        "何处",
        "多大",
        "多久",
        "多长",
        "多高",
        "多远",
        "多重",
    ]
)

Terms = dict[str, tuple[float, set[str]]]  # content word → (POS weight, its bigrams)


def content_terms(question: str) -> Terms:
    """Content word → (POS weight, its character bigrams).  Words of ≥ 2 characters, minus
    question words and punctuation; the bigrams give partial credit (县委书记 vs 市委书记)."""
    terms: Terms = {}
    predicate = predicate_of(question)  # the verb the question word hangs on weighs fully
    for piece, flag in cut_question(question):
        word = clean_token(piece)
        if len(word) < 2 or word in QUESTION_WORDS or QUESTION_PREFIX.match(word):
            continue
        light = (flag.startswith(LIGHT_POS) and flag not in ("vn", "eng")) or (
            flag.startswith("m") and not re.match(r"\d|第", word)
        )  # 一年, 两家 but not 第四期
        weight = max(LIGHT_WEIGHT if light and word != predicate else 1.0, terms.get(word, (0.0,))[0])
        terms[word] = (weight, {word[i : i + 2] for i in range(len(word) - 1)})
    return terms


def term_coverage(word: str, bigrams: set[str], text: str) -> float:
    """1 when ``word`` occurs in ``text``, else half the share of its bigrams that do."""
    return 1.0 if word in text else 0.5 * sum(b in text for b in bigrams) / len(bigrams)


def term_weights(terms: Terms, texts: Sequence[str]) -> dict[str, float]:
    """POS weight × BM25-style IDF over the (normalised) candidate texts."""
    n = len(texts)
    return {
        t: w * math.log(1 + (n - df + 0.5) / (df + 0.5))
        for t, (w, _) in terms.items()
        for df in [sum(t in s for s in texts)]
    }


def coverage(terms: Terms, weights: dict[str, float], text: str) -> float:
    """Weighted share of the content words ``text`` covers (0 … 1)."""
    total = sum(weights.values()) or 1.0
    return sum(weights[t] * term_coverage(t, bg, text) for t, (_, bg) in terms.items()) / total


def sentence_coverage(terms: Terms, weights: dict[str, float], text: str, asks: list[Ask], q: str):
    """``(best, typed)`` over the sentences of a compacted passage: the best weighted coverage,
    and the best of a sentence that also holds what the question asks for (0 when none does
    or nothing is asked).  The answer-type reranker and the learned ranker's features read both."""
    best = typed = 0.0
    for sent in sentences(text, min_chars=4):
        cov = coverage(terms, weights, sent)
        best = max(best, cov)
        if asks and cov > typed and holds(sent, asks, q):
            typed = cov
    return best, typed


def longest_shared(question: str, text: str) -> int:
    """Length of the longest stretch of ``question`` found verbatim in ``text`` (a name or
    phrase jieba may cut apart still counts): a window over the question that grows while it
    occurs and slides when it does not — one substring search per step."""
    best = start = 0
    while start + best < len(question):
        if question[start : start + best + 1] in text:
            best += 1
        else:
            start += 1
    return best
