"""The default generator, no LLM: quote the passage sentence that best answers the question,
and decide with a calibrated model whether the passages answer it at all.

Each hit's chunk is split into sentences (offsets kept: quotes are exact substrings of the
chunk).  A sentence's *support* is the share of the question's content words it covers: jieba
words weighted by part of speech (verbs, adverbs … are often paraphrased and weigh less) and
by IDF over all candidate sentences (words the passages never mention weigh the most); a word
missing from the sentence gets partial credit from its character bigrams, or from the rest of
its chunk and headline (该公司… after the sentence naming the company).  Its *score* adds
bonuses for what the question asks for (a number with the asked unit, a date, a person, a
place), for a long verbatim stretch of the question, and for an earlier hit.

The reader (rag.reader: a pair model trained here) reads the ``READ`` best candidates against
the question; its probability that a sentence answers is one more feature of the choice model
(which picks the sentence whose passage agrees with the question — its places, names, years,
ordinals — holds a whole span of the asked kind, and reads as an answer) and of the
answerability model (rag.generation.answerability), which answers or refuses.  Both models are
fitted with the reader's feature (``*_reader.json``) and without it (``reader = false``, or its
weights missing or damaged: the models of issue 16).

An answer is shaped by the question's kind (rag.generation.shapes): the typed span then the
sentence (``672个[1]。…``), 是/否, a list, one span per part, a computed difference, or the
headlines of an issue.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence

from rag.logistic import LogisticModel, ModelFileError
from rag.models import REFUSAL, Answer, Citation, Hit, Turn
from rag.reader import Reader, ReaderUnavailable, pair_text, shared_reader
from rag.text.asked import Question
from rag.text.intent import SPAN_KINDS
from rag.text.normalize import compact
from rag.text.question import focus_coverage, holds, mentions_place, near_question
from rag.text.sentences import sentence_spans
from rag.text.terms import Terms, coverage, longest_shared, term_coverage, term_weights

from .answerability import load_model
from .base import BaseGenerator
from .candidates import (
    Assessment,
    Candidate,
    Scored,
    Sentence,
    article_text,
    conflicts,
    context_text,
    evidence_coverage,
    linked_text,
    load_choice_model,
    located_on_page,
    missing_specifics,
    passage_text,
    span_clause,
)
from .shapes import compose, computed, explain_refusal, issue_answer, span_for

log = logging.getLogger(__name__)
CANDIDATES = 12  # best-scored sentences the choice model looks at
READ = 6  # of those, the ones the feature-only choice model ranks first that the reader reads
# why / how questions: a sentence that gives a reason or a means
REASON = re.compile(r"因为|由于|为了|原因|因此|所以|为此|是因|考虑到|目的是|旨在|通过|采取|措施|办法|方式")
FOCUS_KINDS = ("quantity", "comparison")
TYPE_BONUS = 0.15  # the sentence holds the kind of thing the question asks for
PHRASE_BONUS = 0.1  # × the share of the question found verbatim in one stretch of the sentence
RANK_BONUS = 0.04  # / the hit's rank: first hit +0.04, second +0.02, …
CONTEXT_CREDIT = 0.6  # a word found only elsewhere in the sentence's chunk or headline


class ExtractiveGenerator(BaseGenerator):
    """Answers with the passage sentence that best answers the question, marked ``[n]``, when
    the answerability model's probability reaches ``threshold`` (the model's own by default).
    ``reader``: True for the shipped reader, False for none, or a Reader."""

    name = "extractive"
    verifies_citations = True  # quotes are exact substrings of the cited chunks by construction

    def __init__(
        self,
        threshold: float | None = None,
        model: LogisticModel | None = None,
        choice: LogisticModel | None = None,
        reader: Reader | bool = False,
    ) -> None:
        self.reader: Reader | None = shared_reader() if reader is True else (reader or None)
        self.base_choice = load_choice_model()  # orders the candidates the reader reads
        self.base_model = load_model()  # decides what the reader does not read (a computed comparison)
        self._given = (model, choice)
        self._models()
        self._threshold = threshold
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")

    def _models(self) -> None:
        """The choice and answerability models: with the reader's feature while there is a reader."""
        model, choice = self._given
        try:
            on = self.reader is not None
            self.choice = choice or (load_choice_model(reader=True) if on else self.base_choice)
            self.model = model or load_model(reader=on)
        except ModelFileError as e:
            log.warning("the models fitted with the reader cannot be read (%s); answering without the reader", e)
            self.reader = None
            self._models()

    @property
    def threshold(self) -> float:
        """Refuse below this probability: as given, else the answerability model's own."""
        return self.model.threshold if self._threshold is None else self._threshold

    def deciding(self, found: Assessment) -> LogisticModel:
        """The answerability model for an assessment: with the reader's feature where it was read."""
        return self.model if "reader" in found.features or self.reader is None else self.base_model

    def probability(self, found: Assessment) -> float:
        """How likely the passages answer, by the assessed sentence's features."""
        return self.deciding(found).probability(found.features)

    def answers(self, found: Assessment) -> bool:
        """The probability reaches the threshold (the given one, else its model's own)."""
        model = self.deciding(found)
        return self.probability(found) >= (model.threshold if self._threshold is None else self._threshold)

    def _read(self, question: Question, candidates: list[Candidate]) -> None:
        """With the reader: its probability as the feature ``reader`` of the ``READ`` candidates the
        feature-only choice model ranks first (0 for the rest); without it, or for a comparison
        (computed from two sentences, which no one sentence answers), nothing."""
        if self.reader is None or not candidates or question.intent.kind == "comparison":
            return
        ranked = sorted(candidates, key=lambda c: -self.base_choice.logit(c.features))
        pool = ranked[:READ]
        sentences = [c.scored.sentence for c in pool]
        texts = [pair_text(s.text, s.hit.article.headline, s.hit.article.date) for s in sentences]
        try:
            probs = self.reader.probabilities(question.text, texts)
        except ReaderUnavailable as e:
            log.warning("%s; answering with the feature models instead", e)
            self.reader = None
            self._models()
            return
        for c in candidates:
            c.features["reader"] = 0.0
        for c, p in zip(pool, probs, strict=True):
            c.features["reader"] = p

    def answer(self, question: Question, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Answer:
        """Cited answer or refusal; ``history`` is not used (retrieval resolves follow-ups)."""
        t0 = time.perf_counter()
        ans = self._answer(question, list(hits))
        ans.timings["generate"] = time.perf_counter() - t0
        return ans

    def rank(self, question: Question, hits: Sequence[Hit]) -> list[Scored]:
        """All candidate sentences, best first."""
        return self._rank(question, hits)[0]

    def _rank(self, question: Question, hits: Sequence[Hit]) -> tuple[list[Scored], Terms, dict[str, float]]:
        """The ranked sentences, with the question's content words and their weights over them."""
        sentences = [
            Sentence(h, a, b, compact(h.chunk.text[a:b]))
            for h in hits
            for a, b in sentence_spans(h.chunk.text, min_chars=4)
        ]
        terms = question.terms
        if not sentences or not terms:
            return [], terms, {}
        weights = term_weights(terms, [s.norm for s in sentences])
        total = sum(weights.values())
        contexts = {id(h): compact(f"{h.article.headline}\n{h.chunk.text}") for h in hits}
        ranks = {id(h): i for i, h in enumerate(hits, 1)}
        asks, q = list(question.asks), question.compact
        out = []
        for s in sentences:
            own = {t: term_coverage(t, bg, s.norm) for t, (_, bg) in terms.items()}
            ctx = contexts[id(s.hit)]
            cov = {t: max(own[t], CONTEXT_CREDIT * term_coverage(t, bg, ctx)) for t, (_, bg) in terms.items()}
            support = sum(weights[t] * c for t, c in cov.items()) / total
            own_support = sum(weights[t] * c for t, c in own.items()) / total
            has = holds(s.text, asks, q)
            near = has and near_question(s.norm, asks, list(terms))
            phrase = longest_shared(q, s.norm) / len(q)
            score = support + TYPE_BONUS * (has + near) + PHRASE_BONUS * phrase + RANK_BONUS / ranks[id(s.hit)]
            out.append(Scored(score, support, own_support, own, has, s, phrase))
        return sorted(out, key=lambda x: -x.score), terms, weights  # stable: ties keep hit and text order

    def candidates(self, question: Question, pool: list[Scored], hits: list[Hit]) -> list[Candidate]:
        """Each sentence of ``pool`` with its span and the features the choice model reads."""
        intent, places, specifics, predicate = question.intent, question.places, question.specifics, question.predicate
        texts = {id(h): passage_text(h) + article_text(h) + linked_text(h, hits) for h in hits}
        out = []
        located = located_on_page(places, hits)
        for c in pool:
            s = c.sentence
            on_page = located[id(s.hit)]
            missing = [w for w in missing_specifics(specifics, texts[id(s.hit)]) if w not in on_page]
            places_ok = all(p in on_page or mentions_place(p, article_text(s.hit)) for p in places)
            span = span_for(question, c)
            held = 1 - len(missing_specifics(specifics, context_text(s))) / len(specifics) if specifics else 1.0
            features = {
                "score": c.score,
                "own_support": c.own_support,
                "phrase": c.phrase,
                "rank": 1.0 / (hits.index(s.hit) + 1),
                "span": float(bool(span or (intent.kind == "why" and REASON.search(s.norm)))),
                "predicate": float(bool(predicate) and predicate in s.norm),
                "specifics": held,
                "agree": float(places_ok and not missing and not conflicts(question, s.text, s.hit.article.date)),
                "position": s.start / max(1, len(s.hit.chunk.text)),
                "length": min(3.0, len(s.norm) / 100),
            }
            out.append(Candidate(c, span, missing, places_ok, features, on_page))
        self._read(question, out)
        return out

    def assess(self, question: Question, hits: Sequence[Hit]) -> Assessment | None:
        """The best candidate sentence and the model's features for it (None: nothing to compare)."""
        hits = list(hits)
        ranked, terms, weights = self._rank(question, hits)
        if not ranked:
            return None
        intent, places, specifics = question.intent, list(question.places), question.specifics
        focus = question.focus if intent.kind in FOCUS_KINDS else ""
        candidates = self.candidates(question, ranked[:CANDIDATES], hits)
        read_any = self.reader is not None and "reader" in candidates[0].features
        choice = self.choice if read_any else self.base_choice
        # the runner-up and how close it is come from the hand-set order, whose margins
        # bench/second_sentence.py measured (the reader's learned choice has logits of another scale)
        base = [self.base_choice.logit(c.features) for c in candidates]
        logits = base if choice is self.base_choice else [choice.logit(c.features) for c in candidates]
        first = max(range(len(candidates)), key=logits.__getitem__)
        second = max((i for i in range(len(candidates)) if i != first), key=base.__getitem__, default=None)
        chosen = candidates[first]
        runner_up = candidates[second] if second is not None else None
        margin = abs(base[first] - base[second]) if second is not None else float("inf")
        read = chosen.features.get("reader") if read_any else None
        best, span, missing, places_ok = chosen.scored, chosen.span, chosen.missing, chosen.places_ok
        if intent.kind == "comparison" and not span:
            span = (computed(question, self, ranked) or ("",))[0]
        about = article_text(best.sentence.hit)
        absent = [
            t
            for t in terms
            if t not in about and t not in chosen.on_page and not (t in places and mentions_place(t, about))
        ]
        features = {
            "support": best.support,
            "own_support": best.own_support,
            "span_support": coverage(terms, weights, span_clause(best.sentence.norm, compact(span.split("−")[0])))
            if span
            else best.own_support,
            "evidence": evidence_coverage(question, hits),
            "article_cover": coverage(terms, weights, about),
            "article_absent": sum(weights[t] for t in absent) / (sum(weights.values()) or 1.0),
            "specific_missing": len(missing) / len(specifics) if specifics else 0.0,
            "sentence_missing": (
                len(missing_specifics(specifics, best.sentence.norm)) / len(specifics) if specifics else 0.0
            ),
            "conflict": float(conflicts(question, best.sentence.text, best.sentence.hit.article.date)),
            "places_ok": float(places_ok),
            "span_missing": float(intent.kind in (*SPAN_KINDS, "comparison", "yesno") and not span),
            "focus": focus_coverage(focus, context_text(best.sentence)) if focus else 1.0,
            "phrase": best.phrase,
            "rank": 1.0 / (hits.index(best.sentence.hit) + 1),
        }
        if read is not None:
            features["reader"] = read
        runner = runner_up.scored if runner_up else None
        return Assessment(best, span, features, ranked, missing, places, focus, absent, read, runner, margin, weights)

    def _answer(self, question: Question, hits: list[Hit]) -> Answer:
        def refuse(reason: str, confidence: float | None = None) -> Answer:
            return Answer(
                question=question.text, text=REFUSAL, refused=True, reason=reason, hits=hits, confidence=confidence
            )

        if not hits:
            return refuse("没有检索到相关段落")
        intent = question.intent
        if not intent.chinese:
            return refuse("资料库是中文报纸，请用中文提问")
        if intent.kind == "paper_issue":
            return issue_answer(question, hits) or refuse("检索到的段落里没有问题所说的那一期报纸")
        found = self.assess(question, hits)
        if found is None:
            return refuse("问题或段落中没有可比对的实义词")
        p, ok = self.probability(found), self.answers(found)
        if intent.kind == "multipart":  # answered part by part: answerable when one part is
            parts = [a for a in (self.assess(part, hits) for part in question.parts) if a is not None]
            p = max([p, *(self.probability(a) for a in parts)])
            ok = ok or any(self.answers(a) for a in parts)
        if not ok:
            return refuse(explain_refusal(self.deciding(found), found, question), p)
        answer = compose(question, found, hits, self)
        answer.confidence = p
        return answer

    @staticmethod
    def compose_sentences(question: Question, hits: list[Hit], chosen: list[Sentence]) -> Answer:
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
        return Answer(question=question.text, text="".join(parts), citations=citations, hits=hits)
