"""The span of a sentence that answers a question: a number with its unit, a person (by the
role the question names), a date (year resolved from the paper's date), a place or a list."""

from __future__ import annotations

import re

from rag.text.normalize import CJK, compact
from rag.text.question import (
    AFTER_NAME,
    ASKS_YEAR,
    FULL_DATE,
    ROLES,
    WH_WORD,
    asks_for,
    cut_question,
    focus_of,
    place_stem,
    places_in,
    predicate_of,
)


def resolve_date(span: str, article_date: str) -> str:
    """``1月7日`` in an article dated 2023-01-10 → ``2023年1月7日`` (a December date in a January
    paper is last year's); spans with a year, or without an article date, stay as they are."""
    m = FULL_DATE.search(span)
    if not m or m.group(1) or not re.match(r"\d{4}-\d{2}", article_date or ""):
        return span
    year, month = int(article_date[:4]), int(article_date[5:7])
    if int(m.group(2)) > month + 1:
        year -= 1
    return f"{year}年{span}"


def _pick(matches: list[re.Match], sentence: str, focus: str, predicate: str, terms: list[str]) -> re.Match | None:
    """The match that answers: the one right before the thing counted (划分538个三级网格), else
    right after the question's predicate (办结8391件), else the one nearest any question word."""
    if not matches:
        return None
    for m in matches:
        if focus and sentence[m.end() : m.end() + len(focus) + 1].lstrip("的").startswith(focus):
            return m
    for m in matches:
        if predicate and predicate in sentence[max(0, m.start() - len(predicate) - 2) : m.start()]:
            return m
    anchors = [x.start() for t in terms for x in re.finditer(re.escape(t), sentence)]
    if not anchors:
        return matches[0]
    return min(matches, key=lambda m: min(min(abs(m.end() - a), abs(m.start() - a)) for a in anchors))


_ROLE_NAME = re.compile(rf"((?:{ROLES}))([{CJK}]{{2,3}}){AFTER_NAME}")
_NOT_NAME = re.compile(r"^(?:市委|县委|区委|党委|省委|副|常务|党组|委员|主任|书记)")


def persons(question: str, text: str) -> str:
    """People the question asks for: for each role it names (市委书记和市长 → 书记, 市长) the
    person holding it in ``text`` (市委书记葛巧红、市长李亦博); else the first role + name."""
    found = [(m.start(), m.group(1), m.group(2)) for m in _ROLE_NAME.finditer(text) if not _NOT_NAME.match(m.group(2))]
    if not found:
        return ""
    q = compact(question)
    asked = [r for r in ROLES.split("|") if r in q]
    stems = [place_stem(p) for p in places_in(question)]
    picked = []
    for role in sorted(asked, key=q.find):
        prefix = _role_context(q, role)[0]
        for start, r, name in found:
            title = text[max(0, start - 6) : start]
            owner = re.search(rf"([{CJK}]{{2}})[省市县区]委?$", title)  # 孟州市委 书记 → 孟州
            if r == role and title.endswith(prefix) and not (owner and stems and owner.group(1) not in stems):
                picked.append(f"{prefix}{r}{name}")
                break
    if asked:
        return "、".join(dict.fromkeys(picked))
    return f"{found[0][1]}{found[0][2]}"


def _role_context(q: str, role: str) -> list[str]:
    """What must precede the role in the text: 市委书记 → 市委 (not 县委); plain 书记 → anything."""
    i = q.find(role)
    prefix = q[max(0, i - 2) : i]
    return [prefix] if prefix in ("市委", "县委", "区委", "省委", "党委", "支部") else [""]


def answer_span(question: str, sentence: str, article_date: str = "", context: str = "") -> str:
    """The part of ``sentence`` that directly answers ``question``: a number with its unit, a
    person, a date (year resolved), a place or a list; "" when the question asks for none of
    them. ``context`` (the other chosen sentences) may supply further people asked for."""
    q = compact(question)
    focus, predicate = focus_of(question), predicate_of(question)
    terms = [w for w, _ in cut_question(question) if len(w) >= 2 and not WH_WORD.match(w)]
    for ask in asks_for(question):
        if ask.kind == "who":
            who = persons(question, sentence + context)
            if who:
                return who
        found = [m for m in ask.pattern.finditer(sentence) if compact(m.group()) not in q]
        if ask.kind == "who":  # 市委副书记, 经济学博士: a role or a title, not a name
            found = [
                m
                for m in found
                if not _NOT_NAME.match(m.group().lstrip("，。、“ "))
                and not re.search(r"[学院部局委会省市县区所]", m.group().lstrip("，。、“ ")[:3])
            ]
        if ask.kind == "when":
            found = [m for m in found if "月" in m.group() or "年" in m.group()] or found
        best = _pick(found, sentence, focus, predicate, terms)
        if best is None:
            continue
        span = best.group().strip('，。、“”" ')
        if ask.kind == "when":
            return resolve_date(span, article_date) if not ASKS_YEAR.search(question) or "年" not in span else span
        return span
    return ""
