"""Unanswerable twins of answerable questions, made by one change each — the way the blind set's
writers made theirs (eval/adversarial/BRIEF.md) — to give the answerability model more negatives
than any hand-written set holds.

A change is kept only when what it introduces (the other year, place, name, ordinal or unit) is
absent from every passage the original question retrieved, so the twin cannot be answered
from them.  Used by bench/fit_answer_models.py (``--augment``); never by the product.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

from rag.text.normalize import compact
from rag.text.question import asked_unit, cut_question, places_in

_CN = "一二三四五六七八九十"
# a measure the same question cannot be answered in (the thing counted stays the same)
OTHER_UNIT = {
    "个": "吨",
    "家": "平方米",
    "名": "吨",
    "人": "平方米",
    "位": "吨",
    "元": "人次",
    "亿元": "人次",
    "万元": "人次",
    "件": "公里",
    "项": "公里",
    "天": "吨",
    "公里": "人次",
    "米": "人次",
    "亩": "人次",
    "吨": "人次",
    "次": "平方米",
    "场": "平方米",
    "座": "人次",
    "条": "人次",
    "所": "人次",
    "套": "人次",
    "辆": "平方米",
    "人次": "平方米",
    "个百分点": "人次",
    "倍": "人次",
    "年": "吨",
    "户": "吨",
    "批": "吨",
    "台": "平方米",
}


def pool_of(questions: Iterable[str]) -> dict[str, list[str]]:
    """Places and personal names named by a set of questions (the other values a change uses)."""
    places: set[str] = set()
    names: set[str] = set()
    for q in questions:
        places.update(places_in(q))
        names.update(w for w, flag in cut_question(q) if flag == "nr" and 2 <= len(w) <= 3)
    return {"places": sorted(places), "names": sorted(names)}


def _year(q: str, seen: str, rng: random.Random) -> str | None:
    years = re.findall(r"(?:19|20)\d{2}(?=年)", q)
    if not years:
        return None
    y = rng.choice(years)
    for delta in rng.sample([-3, -2, -1, 1, 2, 3], 6):
        other = str(int(y) + delta)
        if other not in seen:
            return q.replace(y, other, 1)
    return None


def _ordinal(q: str, seen: str, rng: random.Random) -> str | None:
    m = re.search(rf"第([{_CN}\d]+)([届期次批轮名位])", q)
    if not m:
        return None
    n = m.group(1)
    value = int(n) if n.isdigit() else (_CN.index(n) + 1 if len(n) == 1 and n in _CN else 0)
    if not value:
        return None
    for other in (value + 2, value + 3, value + 1):
        text = str(other) if n.isdigit() else (_CN[other - 1] if other <= 10 else "")
        if text and f"第{text}{m.group(2)}" not in seen:
            return q[: m.start(1)] + text + q[m.end(1) :]
    return None


def _swap(q: str, olds: list[str], pool: list[str], seen: str, rng: random.Random, same_suffix: bool) -> str | None:
    if not olds:
        return None
    old = rng.choice(olds)
    choices = [p for p in pool if p != old and p[:2] not in seen and (not same_suffix or p[-1] == old[-1])]
    if not choices or old not in q:
        return None
    return q.replace(old, rng.choice(choices), 1)


def _unit(q: str, seen: str, rng: random.Random) -> str | None:
    unit = asked_unit(q)
    other = OTHER_UNIT.get(unit)
    m = re.search(rf"(多少|几)({re.escape(unit)})", q) if unit else None
    if not other or not m or other in seen:
        return None
    return q[: m.start(2)] + other + q[m.end(2) :]


_ROLE_SWAP = {
    "书记": "市长",
    "市长": "副市长",
    "县长": "副县长",
    "区长": "副区长",
    "局长": "副局长",
    "主任": "副主任",
    "董事长": "总经理",
    "院长": "副院长",
    "校长": "副校长",
    "部长": "副部长",
}


def _role(q: str, seen: str, rng: random.Random) -> str | None:
    """The role asked about made another one the passages never give (局长 → 副局长)."""
    found = [r for r in _ROLE_SWAP if r in q and q[max(0, q.index(r) - 1) : q.index(r)] != "副"]
    if not found:
        return None
    role = rng.choice(found)
    other = _ROLE_SWAP[role]
    return None if other in seen else q.replace(role, other, 1)


def _date(q: str, seen: str, rng: random.Random) -> str | None:
    m = re.search(r"(\d{1,2})月(\d{1,2})([日号])", q)
    if not m:
        return None
    for delta in rng.sample([-3, -2, -1, 1, 2, 3], 6):
        day = int(m.group(2)) + delta
        text = f"{m.group(1)}月{day}{m.group(3)}"
        if 1 <= day <= 28 and text not in seen and f"{m.group(1)}月{day}日" not in seen:
            return q[: m.start()] + text + q[m.end() :]
    return None


def twin(question: str, passages: str, pool: dict[str, list[str]], rng: random.Random) -> tuple[str, str] | None:
    """(change, question) — one randomly chosen applicable change — or None."""
    seen = compact(passages)
    names = [w for w, flag in cut_question(question) if flag == "nr" and 2 <= len(w) <= 3]
    changes = {
        "year": lambda: _year(question, seen, rng),
        "ordinal": lambda: _ordinal(question, seen, rng),
        "place": lambda: _swap(question, places_in(question), pool["places"], seen, rng, True),
        "person": lambda: _swap(question, names, pool["names"], seen, rng, False),
        "unit": lambda: _unit(question, seen, rng),
        "role": lambda: _role(question, seen, rng),
        "date": lambda: _date(question, seen, rng),
    }
    for name in rng.sample(sorted(changes), len(changes)):
        made = changes[name]()
        if made and made != question:
            return name, made
    return None
