"""What the extractive answerer works with: candidate sentences, their scores, the chosen
candidate's assessment, and the evidence features computed over them (rag.generation.extractive
ranks and chooses; rag.generation.shapes composes; rag.generation.answerability decides)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from rag.logistic import LogisticModel, read_model
from rag.models import Answer, Article, Hit
from rag.regions import region_of
from rag.text.asked import Question
from rag.text.lexicon import quoted_in
from rag.text.normalize import CJK, compact
from rag.text.question import ROLES, mentions_place, place_stem
from rag.text.terms import coverage, term_weights

CHOICE_FILE = Path(__file__).with_name("sentence_choice.json")
READER_CHOICE_FILE = Path(__file__).with_name("sentence_choice_reader.json")  # with the reader's feature
# what tells the sentence that answers from its neighbours; a logistic model over these
# (sentence_choice.json, fitted by bench/fit_answer_models.py) picks among the best-scored ones
CHOICE_FEATURES = (
    "score",  # the ranking score: support and bonuses (ExtractiveGenerator.rank)
    "own_support",  # weighted share of the question's content words in the sentence itself
    "phrase",  # longest verbatim stretch of the question in the sentence / question length
    "rank",  # 1 / rank of its passage
    "span",  # holds a whole span of the asked kind (a reason, for why / how)
    "predicate",  # holds the question's predicate (施行 in 从什么时候起施行)
    "specifics",  # share of the question's names, years, ordinals it holds
    "agree",  # its article names the question's places and specifics, and nothing conflicts
    "position",  # where it starts in its passage (0 … 1)
    "length",  # its length / 100 characters (capped at 3)
)


READER_CHOICE_FEATURES = (*CHOICE_FEATURES, "reader")  # + the reader's probability (0: not read)


def load_choice_model(path: str | None = None, reader: bool = False) -> LogisticModel:
    """The packaged sentence-choice model — with the reader's feature or without — or the one at ``path``."""
    if reader:
        return read_model(str(path or READER_CHOICE_FILE), READER_CHOICE_FEATURES)
    return read_model(str(path or CHOICE_FILE), CHOICE_FEATURES)


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
    support: float  # weighted share of the question's content words covered (context credit)
    own_support: float  # the same, by the sentence alone
    own: dict[str, float]  # each content word's coverage by the sentence itself
    holds: bool  # holds what the question asks for
    sentence: Sentence
    phrase: float = 0.0  # longest verbatim stretch of the question in it / question length


def evidence_coverage(question: Question, hits: Sequence[Hit]) -> float:
    """Weighted share of the question's content words found anywhere in the passages (headlines
    included): how much of the question the evidence speaks to, before any model is asked."""
    terms = question.terms
    if not terms or not hits:
        return 0.0
    texts = [compact(f"{h.article.headline}\n{h.chunk.text}") for h in hits]
    return coverage(terms, term_weights(terms, texts), "\n".join(texts))


@dataclass
class Candidate:
    """A sentence as a possible answer: its span and how it agrees with the question."""

    scored: Scored
    span: str
    missing: list[str]  # the question's specific words its passage and article lack
    places_ok: bool
    features: dict[str, float]  # CHOICE_FEATURES
    on_page: list[str] = field(default_factory=list)  # the question's places its page's other stories name


@dataclass
class Assessment:
    """The chosen candidate sentence, its span and the features the model decides on."""

    best: Scored
    span: str
    features: dict[str, float]
    ranked: list[Scored]
    missing: list[str]  # the question's specific words its passage lacks
    places: list[str]
    focus: str
    absent: list[str]  # content words the chosen article never uses
    read: float | None = None  # the reader's probability that the chosen sentence answers
    runner_up: Scored | None = None  # the best other sentence by the hand-set choice order
    margin: float = float("inf")  # how far apart the chosen one and it are in that order's logits
    weights: dict[str, float] = field(default_factory=dict)  # the question's content words' weights


def missing_specifics(words: Sequence[str], text: str) -> list[str]:
    """The question's specific words (names, places, numbers, years, ordinals) not in ``text``
    (a place by its stem too: 许昌 for 许昌市; a year without its 年)."""
    return [w for w in words if not mentions_place(w, text) and not (w.endswith("年") and w[:-1] in text)]


_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?=年)")
_MONTH_DAY = re.compile(r"(?<!\d)\d{1,2}月\d{1,2}[日号]")
_ORDINAL_OF = re.compile(r"第[一二三四五六七八九十百\d]+([期届次批轮季名位个])")


def conflicts(question: Question, sentence: str, published: str = "") -> bool:
    """The sentence names years, dates or ordinals of the sort the question names, but not the
    question's own (2021年 asked, 2022年 stated; 第二届 asked, 第一届 stated), or gives the role
    the question asks about to another place's holder (焦作市的市委书记 asked, 孟州市委书记 stated).
    A date that is the article's ``published`` day names the issue, not the event (1月10日焦作日报上)."""
    q, s = question.compact, compact(sentence)
    issue = chinese_date(published)[5:]
    if issue:
        q = q.replace(issue, "")
    if role_elsewhere(q, s, question.places):
        return True
    for pattern in (_YEAR, _MONTH_DAY):
        asked, stated = set(pattern.findall(q)), set(pattern.findall(s))
        if asked and stated and not asked & stated:
            return True
    for m in _ORDINAL_OF.finditer(q):
        same = [x.group() for x in _ORDINAL_OF.finditer(s) if x.group(1) == m.group(1)]
        if same and m.group() not in same and not ("首" + m.group(1) in s and m.group()[1] == "一"):
            return True
    return False


def role_elsewhere(q: str, s: str, places: Sequence[str]) -> bool:
    """A role of a place the question names (焦作市的市委书记, its ``places``) is stated only for
    other places."""
    stems = [place_stem(p) for p in places]
    if not stems:
        return False
    for role in ROLES.split("|"):
        if role not in q:
            continue
        owners = re.findall(rf"([{CJK}]{{2}})[省市县区](?:委|人民政府)(?:副)?{role}", s)
        if owners and not any(o in stems for o in owners):
            return True
    return False


def span_clause(sentence: str, span: str) -> str:
    """The clause of ``sentence`` (normalised) holding ``span``, with the clause before it; the
    whole sentence when the span is not in it as such."""
    pieces = re.split(r"(?<=[，,；;：:])", sentence)
    for i, piece in enumerate(pieces):
        if span and span in piece:
            return "".join(pieces[max(0, i - 1) : i + 1])
    return sentence


def chinese_date(iso: str) -> str:
    """``2023-01-10`` (or ``2023-01-10 08:00``) → ``2023年1月10日``; "" when not a date."""
    m = re.match(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", iso or "")
    return "".join(f"{int(v)}{unit}" for v, unit in zip(m.groups(), "年月日", strict=True) if v) if m else ""


def passage_text(hit: Hit) -> str:
    """A passage with its headline and metadata (the date also as 2023年1月10日)."""
    a = hit.article
    return compact(f"{a.paper}{a.section}{a.page}{chinese_date(a.date)}{a.headline}\n{hit.chunk.text}")


def linked_text(hit: Hit, hits: Sequence[Hit]) -> str:
    """The articles of the other passages that name something the passage quotes (“万人助万企”):
    the first hop of a two-hop question (the activity a district relied on, then what was said
    of it) may name what the second hop's passage does not."""
    quoted = set(quoted_in(hit.chunk.text))
    return "".join(article_text(h) for h in hits if h is not hit and any(q in h.article.text for q in quoted))


def page_of(article: Article) -> tuple[str, str, str, int] | None:
    """The printed page an article was cut from: source, page, section and, for a scan or PDF,
    the page image most of it stands on; None for an article that is a record or file of its
    own (a JSONL row: its doc_id is not ``<source>#<n>``)."""
    if not article.doc_id.startswith(f"{article.source}#"):
        return None
    image = region_of(article.regions, 0, len(article.text)) if article.regions else None
    return article.source, article.page, article.section, image.page if image else 0


def located_on_page(places: Sequence[str], hits: Sequence[Hit]) -> dict[int, list[str]]:
    """For each hit (by ``id``), the question's places that another retrieved story of its
    printed page names.  A local page's stories leave out the place they are all about (全市,
    我市 on a page of 许昌 news, its masthead torn off): there that place is the page's, and the
    passage's too."""
    if not places:
        return {id(h): [] for h in hits}
    stories: dict[tuple, dict[str, str]] = {}  # each printed page's retrieved stories, one text a story
    for h in hits:
        if (page := page_of(h.article)) is not None:
            stories.setdefault(page, {}).setdefault(h.article.doc_id, article_text(h))
    out = {}
    for hit in hits:
        page = page_of(hit.article)
        others = [t for doc, t in stories.get(page, {}).items() if doc != hit.article.doc_id] if page else []
        text = "".join(others)
        out[id(hit)] = [p for p in places if text and mentions_place(p, text)]
    return out


def article_text(hit: Hit) -> str:
    """What a hit's article is about, for place checks: paper, section, headline and full text."""
    a = hit.article
    return _compact_article(a.paper, a.section, a.headline, a.text)


@lru_cache(maxsize=256)
def _compact_article(paper: str, section: str, headline: str, text: str) -> str:
    return compact(f"{paper}{section}{headline}{text}")


def context_text(sentence: Sentence) -> str:
    return compact(f"{sentence.hit.article.headline}{sentence.hit.chunk.text}")


class Assessor(Protocol):
    """What the answer shapes need from the generator: assessing a (sub-)question over the same
    passages, the model and its threshold, and composing cited sentences."""

    model: LogisticModel

    @property
    def threshold(self) -> float: ...

    def probability(self, found: Assessment) -> float: ...

    def answers(self, found: Assessment) -> bool: ...

    def assess(self, question: Question, hits: Sequence[Hit]) -> Assessment | None: ...

    def compose_sentences(self, question: Question, hits: list[Hit], chosen: list[Sentence]) -> Answer: ...
