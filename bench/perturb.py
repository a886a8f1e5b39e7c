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
    orgs: set[str] = set()
    for q in questions:
        places.update(places_in(q))
        names.update(w for w, flag in cut_question(q) if flag == "nr" and 2 <= len(w) <= 3)
        orgs.update(orgs_in(q))
    return {"places": sorted(places), "names": sorted(names), "orgs": sorted(orgs)}


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


def cn_value(n: str) -> int:
    """一…九十九 (十二, 二十, 二十三) → the number; 0 for anything else."""
    if n.isdigit():
        return int(n)
    m = re.fullmatch(rf"([{_CN[:9]}]?)(十?)([{_CN[:9]}]?)", n)
    if not m or not n:
        return 0
    tens, ten, ones = m.groups()
    if not ten:
        digit = tens or ones
        return _CN.index(digit) + 1 if digit and not (tens and ones) else 0
    return (_CN.index(tens) + 1 if tens else 1) * 10 + (_CN.index(ones) + 1 if ones else 0)


def cn_text(v: int) -> str:
    """1…99 in Chinese numerals (the inverse of ``cn_value``)."""
    if not 0 < v < 100:
        return ""
    tens, ones = divmod(v, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN[tens - 1] + "十")
    return head + (_CN[ones - 1] if ones else "")


def _ordinal(q: str, seen: str, rng: random.Random) -> str | None:
    m = re.search(rf"第([{_CN}\d]+)([届期次批轮名位个季])", q)
    if not m:
        return None
    n = m.group(1)
    value = cn_value(n)
    if not value:
        return None
    for other in rng.sample([value + 1, value + 2, value - 1, value + 3], 4):
        text = str(other) if n.isdigit() else cn_text(other)
        if other > 0 and text and f"第{text}{m.group(2)}" not in seen and f"第{other}{m.group(2)}" not in seen:
            return q[: m.start(1)] + text + q[m.end(1) :]
    return None


# an attribute asked about made another one of the same thing that the article may not state
OTHER_ATTRIBUTE = {
    "总投资": "占地面积",
    "投资": "占地面积",
    "占地面积": "总投资",
    "面积": "总投资",
    "总长": "总宽",
    "全长": "宽度",
    "长度": "宽度",
    "多长": "多宽",
    "多高": "多重",
    "高度": "重量",
    "人口": "面积",
    "产值": "利润",
    "营收": "净利润",
    "营业收入": "净利润",
    "净利润": "营收",
    "利润": "营收",
    "票价": "座位数",
    "销量": "售价",
    "售价": "销量",
    "增长": "下降",
    "增速": "降幅",
    "首发": "停运",
    "开幕": "闭幕",
    "开工": "竣工",
    "竣工": "开工",
    "开通": "停运",
    "冠军": "亚军",
    "一等奖": "二等奖",
}


def _attribute(q: str, seen: str, rng: random.Random) -> str | None:
    found = [a for a in OTHER_ATTRIBUTE if a in q]
    if not found:
        return None
    attr = max(found, key=len)  # 总投资 before 投资
    other = OTHER_ATTRIBUTE[attr]
    return None if other in seen else q.replace(attr, other, 1)


ORG_TAIL = "委员会|管理局|公司|集团|医院|大学|学院|银行|协会|研究院|研究所|中心|局|厅|委"
ORG = re.compile(rf"[\u4e00-\u9fff]{{2,10}}?(?:{ORG_TAIL})")


def orgs_in(q: str) -> list[str]:
    return [m.group(0) for m in ORG.finditer(q)]


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
        "attribute": lambda: _attribute(question, seen, rng),
        "organisation": lambda: _swap(question, orgs_in(question), pool.get("orgs", []), seen, rng, False),
    }
    for name in rng.sample(sorted(changes), len(changes)):
        made = changes[name]()
        if made and made != question:
            return name, made
    return None
