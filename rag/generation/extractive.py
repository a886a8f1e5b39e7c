"""The default generator, no LLM: quote the passage sentences that best answer the question.

Each hit's chunk is split into sentences (offsets kept: quotes are exact substrings of the
chunk).  A sentence's *support* is the share of the question's content words it covers: jieba
words weighted by part of speech (verbs, adverbs … are often paraphrased and weigh less) and
by IDF over all candidate sentences (words the passages never mention weigh the most); a word
missing from the sentence gets partial credit from its character bigrams, or from the rest of
its chunk and headline (该公司… after the sentence naming the company).  Its *score* adds
bonuses for what the question asks for (a number with the asked unit, a date, a person, a
place), for a long verbatim stretch of the question, and for an earlier hit.

The answer opens with the typed span when the question asks for one (``672个[1]。`` then the
supporting sentence(s), see rag.text.spans), and ``Answer.short`` holds that span.

Refusal (``REFUSAL``, ``refused=True``, the closest passages still in ``hits``): no hits; the
best support is below ``min_support``; no supported sentence's article mentions the places the
question names; the question asks for a number or a date and no supported sentence holds one;
or it counts something (多少座运营车站) its passage never mentions.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from rag.models import REFUSAL, Answer, Citation, Hit, Turn
from rag.text.normalize import compact
from rag.text.question import (
    asks_for,
    focus_coverage,
    focus_of,
    holds,
    mentions_place,
    near_question,
    places_in,
    specifics_in,
)
from rag.text.sentences import END_MARK, sentence_spans
from rag.text.spans import answer_span
from rag.text.terms import content_terms, coverage, term_coverage, term_weights

# Support alone cannot tell a paraphrase (骑手 for 外卖小哥: support 0.29) from an unanswerable
# question (0.22–0.59 on the dev and sample sets), so the floor is low and refusals come from
# what the question asks: its places, the asked kind (number, date) and the thing counted.
# 0.25 is the highest floor with no false refusal on dev.jsonl (sample set: 0.19 for one
# heavy paraphrase); see the issue-4 note.
DEFAULT_MIN_SUPPORT = 0.25
FOCUS_MIN = 0.5  # share of the focus's bigrams (运营车站, 水价 …) the sentence's passage must hold

TYPE_BONUS = 0.15  # the sentence holds the kind of thing the question asks for
PHRASE_BONUS = 0.1  # × the share of the question found verbatim in one stretch of the sentence
RANK_BONUS = 0.04  # / the hit's rank: first hit +0.04, second +0.02, …
SECOND_RATIO = 0.6  # a second sentence must score this fraction of the first
CONTEXT_CREDIT = 0.6  # a word found only elsewhere in the sentence's chunk or headline


@dataclass
class Sentence:
    hit: Hit
    start: int  # offsets into hit.chunk.text
    end: int
    norm: str  # normalised text used for matching

    @property
    def text(self) -> str:
        return self.hit.chunk.text[self.start : self.end]


@dataclass
class Scored:
    score: float  # support + bonuses
    support: float  # weighted share of the question's content words covered
    own: dict[str, float]  # each content word's coverage by the sentence itself
    holds: bool  # holds what the question asks for
    sentence: Sentence


def evidence_coverage(question: str, hits: Sequence[Hit]) -> float:
    """Weighted share of the question's content words found anywhere in the passages (headlines
    included): how much of the question the evidence speaks to, before any model is asked."""
    terms = content_terms(question)
    if not terms or not hits:
        return 0.0
    texts = [compact(f"{h.article.headline}\n{h.chunk.text}") for h in hits]
    return coverage(terms, term_weights(terms, texts), "\n".join(texts))


def longest_shared(question: str, sentence: str) -> int:
    """Length of the longest stretch of the question found verbatim in the sentence."""
    return SequenceMatcher(None, question, sentence, autojunk=False).find_longest_match().size


def _about(hit: Hit) -> str:
    """What a hit's article is about, for place checks: paper, section, headline and full text."""
    a = hit.article
    return compact(f"{a.paper}{a.section}{a.headline}{a.text}")


def _context(sentence: Sentence) -> str:
    return compact(f"{sentence.hit.article.headline}{sentence.hit.chunk.text}")


class ExtractiveGenerator:
    """Answers with the best 1–``max_sentences`` passage sentences, each marked ``[n]``."""

    name = "extractive"
    verifies_citations = True  # quotes are exact substrings of the cited chunks by construction

    def __init__(self, min_support: float = DEFAULT_MIN_SUPPORT, max_sentences: int = 2) -> None:
        if not 0.0 <= min_support <= 1.0:
            raise ValueError(f"min_support must be in [0, 1], got {min_support}")
        if max_sentences < 1:
            raise ValueError(f"max_sentences must be ≥ 1, got {max_sentences}")
        self.min_support = min_support
        self.max_sentences = max_sentences

    def answer(self, question: str, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Answer:
        """Cited answer or refusal; ``history`` is not used (retrieval resolves follow-ups)."""
        t0 = time.perf_counter()
        ans = self._answer(question, list(hits))
        ans.timings["generate"] = time.perf_counter() - t0
        return ans

    def stream(self, question: str, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        """Yield the answer text sentence by sentence (each with its marker), then the Answer."""
        ans = self.answer(question, hits, history)
        yield from re.findall(r".+?\[\d+\]|.+", ans.text, flags=re.S)
        yield ans

    def rank(self, question: str, hits: Sequence[Hit]) -> list[Scored]:
        """All candidate sentences, best first."""
        sentences = [
            Sentence(h, a, b, compact(h.chunk.text[a:b]))
            for h in hits
            for a, b in sentence_spans(h.chunk.text, min_chars=4)
        ]
        terms = content_terms(question)
        if not sentences or not terms:
            return []
        weights = term_weights(terms, [s.norm for s in sentences])
        total = sum(weights.values())
        contexts = {id(h): compact(f"{h.article.headline}\n{h.chunk.text}") for h in hits}
        ranks = {id(h): i for i, h in enumerate(hits, 1)}
        asks, q = asks_for(question), compact(question)
        out = []
        for s in sentences:
            own = {t: term_coverage(t, bg, s.norm) for t, (_, bg) in terms.items()}
            ctx = contexts[id(s.hit)]
            cov = {t: max(own[t], CONTEXT_CREDIT * term_coverage(t, bg, ctx)) for t, (_, bg) in terms.items()}
            support = sum(weights[t] * c for t, c in cov.items()) / total
            has = holds(s.text, asks, question)
            near = has and near_question(s.norm, asks, list(terms))
            score = (
                support
                + TYPE_BONUS * (has + near)
                + PHRASE_BONUS * longest_shared(q, s.norm) / len(q)
                + RANK_BONUS / ranks[id(s.hit)]
            )
            out.append(Scored(score, support, own, has, s))
        return sorted(out, key=lambda x: -x.score)  # stable: ties keep hit and text order

    def _answer(self, question: str, hits: list[Hit]) -> Answer:
        def refuse(reason: str) -> Answer:
            return Answer(question=question, text=REFUSAL, refused=True, reason=reason, hits=hits)

        if not hits:
            return refuse("没有检索到相关段落")
        ranked = self.rank(question, hits)
        if not ranked:
            return refuse("问题或段落中没有可比对的实义词")
        top = max(c.support for c in ranked)
        if top < self.min_support:
            return refuse(f"最相关的句子只覆盖了问题要点的{top:.0%}（阈值{self.min_support:.0%}）")
        supported = [c for c in ranked if c.support >= self.min_support]
        places = places_in(question)
        if places:
            supported = [c for c in supported if all(mentions_place(p, _about(c.sentence.hit)) for p in places)]
            if not supported:
                return refuse(f"相关的段落说的不是{'、'.join(places)}")
        specifics = specifics_in(question)
        if specifics:
            supported = [c for c in supported if all(x in _about(c.sentence.hit) for x in specifics)]
            if not supported:
                return refuse(f"相关的段落说的不是{'、'.join(specifics)}")
        required = [a.kind for a in asks_for(question) if a.required]
        if required:
            supported = [c for c in supported if c.holds]
            if not supported:
                what = "日期" if required[0] == "when" else "数字"
                return refuse(f"相关的句子里没有问题所问的{what}")
        focus = focus_of(question) if "quantity" in required else ""
        if focus:
            supported = [c for c in supported if focus_coverage(focus, _context(c.sentence)) >= FOCUS_MIN]
            if not supported:
                return refuse(f"相关的段落没有提到问题问的“{focus}”")
        best = supported[0]
        chosen, seen = [best], dict(best.own)
        span = answer_span(question, best.sentence.text, best.sentence.hit.article.date)
        for cand in ranked:
            if len(chosen) >= self.max_sentences or cand.score < SECOND_RATIO * best.score:
                break
            if span and not cand.holds:
                continue  # the span answers; a second sentence must hold another asked-for item
            adds = any(c > seen[t] for t, c in cand.own.items())
            new = all(cand.sentence.norm != c.sentence.norm for c in chosen)
            if adds and new and END_MARK.search(cand.sentence.text):
                chosen.append(cand)
                seen = {t: max(c, seen[t]) for t, c in cand.own.items()}
        answer = self._compose(question, hits, [c.sentence for c in chosen])
        if len(chosen) > 1:  # more sentences may name more of the people asked for
            others = "".join(c.sentence.text for c in chosen[1:])
            span = answer_span(question, best.sentence.text, best.sentence.hit.article.date, others)
        if span:
            n = next(c.n for c in answer.citations if c.hit is best.sentence.hit)
            answer.short = span
            answer.text = f"{span}[{n}]。{answer.text}"
        return answer

    @staticmethod
    def _compose(question: str, hits: list[Hit], chosen: list[Sentence]) -> Answer:
        """Markers numbered by first use; one citation per cited hit quoting its sentence (two
        sentences of one hit: the chunk from the first to the last, still an exact substring)."""
        numbers: dict[int, int] = {}  # id(hit) → n
        spans: dict[int, tuple[int, int]] = {}
        parts = []
        for s in chosen:
            n = numbers.setdefault(id(s.hit), len(numbers) + 1)
            a, b = spans.get(id(s.hit), (s.start, s.end))
            spans[id(s.hit)] = (min(a, s.start), max(b, s.end))
            parts.append(f"{s.text}[{n}]")
        by_id = {id(h): h for h in hits}
        citations = [
            Citation(n=n, hit=by_id[k], quote=by_id[k].chunk.text[slice(*spans[k])]) for k, n in numbers.items()
        ]
        return Answer(question=question, text="".join(parts), citations=citations, hits=hits)
