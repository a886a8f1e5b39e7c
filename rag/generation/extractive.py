"""The default generator, no LLM: quote the passage sentences that best answer the question.

Each hit's chunk is split into sentences (offsets kept: quotes are exact substrings of the
chunk).  A sentence's *support* is the share of the question's content words it covers: jieba
words weighted by part of speech (verbs, adverbs … are often paraphrased and weigh less) and
by IDF over all candidate sentences (words the passages never mention weigh the most); a word
missing from the sentence gets partial credit from its character bigrams, or from the rest of
its chunk and headline (该公司… after the sentence naming the company).  Its *score* adds
bonuses for what the question asks for (a number with the asked unit, a date, a person, a
place), for a long verbatim stretch of the question, and for an earlier hit.

Refusal (``REFUSAL``, ``refused=True``, the closest passages still in ``hits``): no hits; the
best support is below ``min_support``; or the question asks for a number or a date and no
sufficiently supported sentence holds one.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Iterator, Sequence

from rag.models import REFUSAL, Answer, Citation, Hit, Turn
from rag.tokenize import _jieba, clean_token

# Chosen on ~60 hand-made and dev questions over the seed pages with BM25 top-5 hits:
# questions whose key noun (年龄, GDP, 气温, 避难场所 …) the passages never mention support
# ≤ ~0.55; answerable factual questions ≥ ~0.6, most ≥ 0.75 (0.5–0.65 all behave alike).
DEFAULT_MIN_SUPPORT = 0.6

TYPE_BONUS = 0.15  # the sentence holds the kind of thing the question asks for
PHRASE_BONUS = 0.1  # × the share of the question found verbatim in one stretch of the sentence
RANK_BONUS = 0.04  # / the hit's rank: first hit +0.04, second +0.02, …
SECOND_RATIO = 0.6  # a second sentence must score this fraction of the first
CONTEXT_CREDIT = 0.6  # a word found only elsewhere in the sentence's chunk or headline
LIGHT_WEIGHT = 0.35  # verbs, adverbs, pronouns, time words … (jieba POS below)
LIGHT_POS = ("v", "a", "d", "r", "c", "p", "u", "y", "o", "f", "t", "q", "e")

QUESTION_WORDS = set(
    "多少 什么 哪些 哪个 哪位 哪儿 哪里 哪 谁 是 的 了 呢 吗 吧 啊 怎么 怎样 如何 何时 几 请问 时候 多 一共 共 "
    "分别 有 在 被 把 和 与 及 还 都 也 给 叫 能 会 来 去 请 问 啥 么 为什么 什么样 这个 那个 这 那 名字 名称 "
    "哪一天 哪天 何处 多大 多久 多长 多高 多远 多重".split())
_QUESTION_PREFIX = re.compile(r"^(多少|几|哪)")  # 几年, 多少度, 哪家 …
_UNITS = set("个家名位台座条所种次人户批件项只辆套元天年月度岁吨亩米倍场届期")

_END = re.compile(r"[。！？；!?;]+[”’」』\"')）]*|\n+")
_COMPLETE = re.compile(r"[。！？；!?;][”’」』\"')）]*$")  # not a headline or a broken line
_CJK = r"\u3400-\u9fff"
_NUM = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)"
_ROLES = ("副市长|副县长|副区长|书记|主任|局长|主席|市长|县长|区长|镇长|乡长|部长|院长|"
          "校长|所长|站长|队长|经理|董事长|研究员|教授|博士|记者|民警|警官|委员|负责人")
_AFTER_NAME = r"(?=[，。、：；,:;（(\s“”]|说|表示|介绍|指出|强调|主持|要求|认为|带领|出席|等|$)"

_WHEN = re.compile(r"什么时候|何时|哪天|哪一天|哪年|几月|几号|啥时候|什么时间")
_QUANTITY = re.compile(r"多少|几|多大|多长|多久|多高|多远|多重")
_WHO = re.compile(r"谁|哪位|什么人|哪些人")
_WHERE = re.compile(r"哪里|哪儿|在哪|什么地方|何处|哪个(?:村|区|县|镇|乡|街道|社区)")

_DATE = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{4}\s*年|\d{1,2}\s*月|[上下]午|[一二三四五六七八九十]+月")
_PERSON = re.compile(rf"(?:{_ROLES})[{_CJK}]{{2,3}}{_AFTER_NAME}"  # 局长王浩瞻表示
                     rf"|(?:^|[，。、“\s])[{_CJK}]{{2,3}}(?:{_ROLES})")  # 、张鹏研究员
_PLACE = re.compile(rf"[{_CJK}]{{1,8}}(?:区|县|镇|乡|街道|村|社区|广场|中心|园|路|街)")

Terms = dict[str, tuple[float, set[str]]]  # content word → (POS weight, its bigrams)


@dataclass
class Ask:
    """What the question asks for; if ``required``, no supported sentence holding it → refuse."""
    kind: str
    pattern: re.Pattern
    required: bool


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


def normalize(text: str) -> str:
    """NFKC, lowercase, no whitespace (OCR spacing must not break matching)."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence in ``text``: end punctuation kept, spaces trimmed."""
    spans, pos = [], 0
    for m in [*_END.finditer(text), None]:
        end = m.end() if m else len(text)
        seg = text[pos:end]
        a, b = pos + len(seg) - len(seg.lstrip()), end - len(seg) + len(seg.rstrip())
        if b - a >= 4:
            spans.append((a, b))
        pos = end
    return spans


@lru_cache(maxsize=256)
def _cut(question: str) -> tuple[tuple[str, str], ...]:
    """``(word, POS flag)`` pairs of the normalised question."""
    _jieba()
    import jieba.posseg

    return tuple((w, f) for w, f in jieba.posseg.cut(normalize(question)))


def content_terms(question: str) -> Terms:
    """Content word → (POS weight, its character bigrams).  Words of ≥ 2 characters, minus
    question words and punctuation; the bigrams give partial credit (县委书记 vs 市委书记)."""
    terms: Terms = {}
    for piece, flag in _cut(question):
        word = clean_token(piece)
        if len(word) < 2 or word in QUESTION_WORDS or _QUESTION_PREFIX.match(word):
            continue
        light = (flag.startswith(LIGHT_POS) and flag not in ("vn", "eng")
                 or flag.startswith("m") and not re.match(r"\d|第", word))  # 一年, 两家 but not 第四期
        weight = max(LIGHT_WEIGHT if light else 1.0, terms.get(word, (0.0,))[0])
        terms[word] = (weight, {word[i : i + 2] for i in range(len(word) - 1)})
    return terms


def asks_for(question: str) -> list[Ask]:
    """What the question asks for, from its question words."""
    asks = []
    if _WHEN.search(question):
        asks.append(Ask("when", _DATE, True))
    elif _QUANTITY.search(question):
        unit = asked_unit(question)
        tail = "(?:度|℃)" if unit == "度" else unit if unit else r"(?:%|[^\s\d月日号时点])"
        asks.append(Ask("quantity", re.compile(rf"{_NUM}[万亿千百余多]{{0,2}}{tail}"), True))
    if _WHO.search(question):
        asks.append(Ask("who", _PERSON, False))
    if _WHERE.search(question):
        asks.append(Ask("where", _PLACE, False))
    return asks


def asked_unit(question: str) -> str:
    """The measure word after 多少/几 (多少台发动机 → 台, 几年 → 年, 多少人口 → "")."""
    words = [w for w, _ in _cut(question)]
    for i, w in enumerate(words):
        if w in ("多少", "几") and i + 1 < len(words) and words[i + 1] in _UNITS:
            return words[i + 1]
        if _QUESTION_PREFIX.match(w) and len(w) > 1 and w[-1] in _UNITS:
            return w[-1]
    return ""


def holds(sentence: str, asks: list[Ask], question: str) -> bool:
    """The sentence matches an asked-for pattern with something the question doesn't already say."""
    q = normalize(question)
    return any(normalize(m.group()) not in q for a in asks for m in a.pattern.finditer(sentence))


def term_coverage(word: str, bigrams: set[str], text: str) -> float:
    """1 when ``word`` occurs in ``text``, else half the share of its bigrams that do."""
    return 1.0 if word in text else 0.5 * sum(b in text for b in bigrams) / len(bigrams)


def term_weights(terms: Terms, sentences: list[Sentence]) -> dict[str, float]:
    """POS weight × BM25-style IDF over the candidate sentences (absent words weigh the most)."""
    n = len(sentences)
    return {t: w * math.log(1 + (n - df + 0.5) / (df + 0.5))
            for t, (w, _) in terms.items() for df in [sum(t in s.norm for s in sentences)]}


def longest_shared(question: str, sentence: str) -> int:
    """Length of the longest stretch of the question found verbatim in the sentence."""
    return SequenceMatcher(None, question, sentence, autojunk=False).find_longest_match().size


class ExtractiveGenerator:
    """Answers with the best 1–``max_sentences`` passage sentences, each marked ``[n]``."""

    name = "extractive"

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

    def stream(
        self, question: str, hits: Sequence[Hit], history: Sequence[Turn] = ()
    ) -> Iterator[str | Answer]:
        """Yield the answer text sentence by sentence (each with its marker), then the Answer."""
        ans = self.answer(question, hits, history)
        yield from re.findall(r".+?\[\d+\]|.+", ans.text, flags=re.S)
        yield ans

    def rank(self, question: str, hits: Sequence[Hit]) -> list[Scored]:
        """All candidate sentences, best first."""
        sentences = [Sentence(h, a, b, normalize(h.chunk.text[a:b]))
                     for h in hits for a, b in split_sentences(h.chunk.text)]
        terms = content_terms(question)
        if not sentences or not terms:
            return []
        weights = term_weights(terms, sentences)
        total = sum(weights.values())
        contexts = {id(h): normalize(f"{h.article.headline}\n{h.chunk.text}") for h in hits}
        ranks = {id(h): i for i, h in enumerate(hits, 1)}
        asks, q = asks_for(question), normalize(question)
        out = []
        for s in sentences:
            own = {t: term_coverage(t, bg, s.norm) for t, (_, bg) in terms.items()}
            ctx = contexts[id(s.hit)]
            cov = {t: max(own[t], CONTEXT_CREDIT * term_coverage(t, bg, ctx))
                   for t, (_, bg) in terms.items()}
            support = sum(weights[t] * c for t, c in cov.items()) / total
            has = holds(s.text, asks, question)
            score = (support + TYPE_BONUS * has + PHRASE_BONUS * longest_shared(q, s.norm) / len(q)
                     + RANK_BONUS / ranks[id(s.hit)])
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
        required = [a.kind for a in asks_for(question) if a.required]
        if required:
            supported = [c for c in supported if c.holds]
            if not supported:
                what = "日期" if required[0] == "when" else "数字"
                return refuse(f"相关的句子里没有问题所问的{what}")
        best = supported[0]
        chosen, seen = [best], dict(best.own)
        for cand in ranked:
            if len(chosen) >= self.max_sentences or cand.score < SECOND_RATIO * best.score:
                break
            adds = any(c > seen[t] for t, c in cand.own.items())
            new = all(cand.sentence.norm != c.sentence.norm for c in chosen)
            if adds and new and _COMPLETE.search(cand.sentence.text):
                chosen.append(cand)
                seen = {t: max(c, seen[t]) for t, c in cand.own.items()}
        return self._compose(question, hits, [c.sentence for c in chosen])

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
        citations = [Citation(n=n, hit=by_id[k], quote=by_id[k].chunk.text[slice(*spans[k])])
                     for k, n in numbers.items()]
        return Answer(question=question, text="".join(parts), citations=citations, hits=hits)
