"""Question analysis: what a question asks for, and what it is about.

多少/几 → a number with its unit; 谁 → a person (with role); 什么时候/哪天 → a date; 哪里/在哪 →
a place; 哪些 → a list. Besides the kind: the *focus* (the thing counted or measured,
``多少座运营车站`` → 运营车站, ``水价是多少`` → 水价) and the *places* the question is about
(``桐川县``), its predicate (持续到哪一天 → 持续) and the ordinals it names (第四期).  The span
that answers is found in rag.text.spans.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.text.normalize import CJK, compact
from rag.text.tokenize import jieba_module

QUESTION_PREFIX = re.compile(r"^(多少|几|哪)")  # 几年, 多少度, 哪家 …
# measure words a question can ask in (多少人次 → 人次, 几个百分点 → 个百分点)
UNIT_WORDS = (
    "个百分点|百分点|人次|平方公里|平方米|立方米|公里|千米|公顷|千瓦时|千瓦|万千瓦|千克|公斤|小时|分钟|万元|亿元|"
    "万人|万吨|万亩|架次|车次|批次|户次|摄氏度|℃|港元|港币|美元|欧元|日元|英镑|韩元|卢比|卢布|澳元|加元|户|个|家|名|位|台|"
    "座|条|所|种|次|人|批|件|项|只|辆|套|元|天|年|月|周|度|岁|吨|亩|米|倍|场|届|期|篇|本|部|张|栋|间|株|棵|头|"
    "艘|列|处|支|枚|块|平|斤|克|秒|分|日|号|层|级|颗|把|份"
)
_UNITS = set(UNIT_WORDS.split("|"))
_NUM = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)"
ROLES = (
    "副市长|副县长|副区长|书记|主任|局长|主席|市长|县长|区长|镇长|乡长|部长|院长|"
    "校长|所长|站长|队长|经理|董事长|研究员|教授|博士|记者|民警|警官|委员|负责人"
)
AFTER_NAME = (
    r"(?=[，。、：；,:;（(\s“”]|说|表示|介绍|指出|强调|主持|要求|认为|带领|出席|等|作|在|到|前往|调研|"
    r"参加|会见|讲话|一行|同志|为|和|与|围绕|结合|针对|通过|$)"
)

WHEN = re.compile(
    r"什么时候|何时|哪天|哪一天|哪年|哪一年|几月|几号|啥时候|什么时间|哪几天|哪些天|哪几日|哪个月|哪一月|什么日子|几点"
)
ASKS_YEAR = re.compile(r"哪一?年|年份|什么年")
QUANTITY = re.compile(r"多少|(?<!哪)几|多大|多长|多久|多高|多远|多重")
WHO = re.compile(r"谁|哪位|什么人|哪些人")
WHERE = re.compile(r"哪里|哪儿|在哪|什么地方|何处|哪个(?:村|区|县|镇|乡|街道|社区)")
LIST = re.compile(r"哪些|哪几|哪[两二三四五六七八九十]")

_DATE = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{4}\s*年|\d{1,2}\s*月|[上下]午|[一二三四五六七八九十]+月")
FULL_DATE = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(?:(\d{1,2})\s*[日号])?")
_PERSON = re.compile(
    rf"(?:{ROLES})[{CJK}]{{2,3}}{AFTER_NAME}"  # 局长王浩瞻表示
    rf"|(?:^|[，。、“\s])[{CJK}]{{2,3}}(?:{ROLES})"
)  # 、张鹏研究员
PLACE = re.compile(rf"[{CJK}]{{1,8}}(?:区|县|镇|乡|街道|村|社区|广场|中心|园|路|街)")
_SUFFIXES = r"(?:省|市|县|区|镇|乡|街道|社区|村)"
_PLACE_SUFFIX = re.compile(rf"{_SUFFIXES}(?=.)")  # a suffix with text after it, inside a question
_NOT_IN_PLACE = set("的在是和与把被从到对为有了着哪几什么个这那将要位")
LIST_ITEMS = re.compile(
    rf"[{CJK}A-Za-z0-9“”]{{2,12}}(?:[、，,][{CJK}A-Za-z0-9“”]{{2,12}})*(?:[、，,]|和|及|与|以及)"
    rf"[{CJK}A-Za-z0-9“”]{{2,12}}"
)
# 地区, 乡村, 全省 …: a suffix character inside a common word, not a place name
_NOT_PLACES = set(
    [
        "地区",
        "社区",
        "山区",
        "园区",
        "城区",
        "市区",
        "景区",
        "小区",
        "辖区",
        "片区",
        "新区",
        "郊区",
        "街区",
        "社区",
        "专区",
        "全省",
        "全市",
        "全县",
        "全区",
        "全镇",
        "全乡",
        "全村",
        "本市",
        "本县",
        "该县",
        "该市",
        "城市",
        "省市",
        "市县",
        "县市",
        "乡村",
        "村民",
        "村庄",
        "村级",
        "村委",
        "市场",
        "上市",
        "家乡",
        "城乡",
        "下乡",
        "老乡",
        "市民",
        "县城",
        "县域",
        "县级",
        "市级",
        "省级",
        "区域",
        "区级",
        "镇村",
        "乡镇",
        "城乡",
        "农村",
        "街道办",
    ]
)
ORDINAL = re.compile(r"第[一二三四五六七八九十百\d]+[期届次批轮季]")
_MONEY_WORDS = ("钱", "金额", "资金", "经费", "投资")
_SPENDING = ("投资", "投入", "花了", "花费")  # 投资多少 asks for money too
_SKIP_BEFORE = {"是", "有", "为", "完成", "达到", "达", "了", "共", "一共", "总共", "约", "大约", "的"}


@lru_cache(maxsize=256)
def cut_question(question: str) -> tuple[tuple[str, str], ...]:
    """``(word, POS flag)`` pairs of the normalised question."""
    jieba_module()
    import jieba.posseg

    return tuple((w, f) for w, f in jieba.posseg.cut(compact(question)))


@dataclass
class Ask:
    """What the question asks for; if ``required``, no supported sentence holding it → refuse."""

    kind: str
    pattern: re.Pattern
    required: bool


def asked_unit(question: str) -> str:
    """The measure word after 多少/几, as a whole word (多少台发动机 → 台, 几年 → 年, 多少人次 → 人次,
    几个百分点 → 个百分点, 多少钱 / 投资多少 → 元, 多少人口 → "")."""
    words = [w for w, _ in cut_question(question)]
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in ("多少", "几"):
            if nxt in _MONEY_WORDS or (i and words[i - 1] in _SPENDING and nxt not in _UNITS):
                return "元"
            if nxt == "百分点" or (nxt == "个" and words[i + 2 : i + 3] == ["百分点"]):
                return "个百分点"
            if nxt in _UNITS:
                return nxt
        elif QUESTION_PREFIX.match(w) and len(w) > 1 and w[-1] in _UNITS:
            return "个百分点" if w[-1] == "个" and nxt == "百分点" else w[-1]
    return ""


def asks_for(question: str) -> list[Ask]:
    """What the question asks for, from its question words."""
    asks = []
    if WHEN.search(question):
        asks.append(Ask("when", _DATE, True))
    elif QUANTITY.search(question):
        unit = asked_unit(question)
        tail = (
            "(?:度|℃)"
            if unit == "度"
            else rf"(?:{unit}|元)"
            if unit == "元"
            else unit
            if unit
            else r"(?:%|公里|千米|平方米|平方公里|立方米|公顷|人次|[^\s\d月日号时点，。、；,;])"
        )
        asks.append(Ask("quantity", re.compile(rf"{_NUM}[万亿千百余多]{{0,2}}{tail}"), True))
    if WHO.search(question):
        asks.append(Ask("who", _PERSON, False))
    if WHERE.search(question):
        asks.append(Ask("where", PLACE, False))
    if LIST.search(question) and not WHO.search(question):
        asks.append(Ask("list", LIST_ITEMS, False))
    return asks


def near_question(sentence: str, asks: list[Ask], terms: list[str], window: int = 6) -> bool:
    """An asked-for match sits right next to a question word (持续至1月14日 for 持续到哪一天)."""
    for a in asks:
        if a.kind == "list":
            continue
        for m in a.pattern.finditer(sentence):
            around = sentence[max(0, m.start() - window) : m.end() + window]
            if any(t in around for t in terms):
                return True
    return False


def holds(sentence: str, asks: Sequence[Ask], q: str) -> bool:
    """The sentence matches an asked-for pattern with something the question (compacted: ``q``)
    doesn't already say."""
    return any(compact(m.group()) not in q for a in asks for m in a.pattern.finditer(sentence) if a.kind != "list")


def places_in(question: str) -> list[str]:
    """Place names the question is about, as keys for ``mentions_place``: the one or two
    characters before a 省/市/县/区/镇/乡/街道/社区/村 suffix, with the suffix (今年一季度惠济区 →
    惠济区, 是温县 → 温县); "哪个村" and the like are not places."""
    q = compact(question)
    out = []
    for m in _PLACE_SUFFIX.finditer(q):
        if q[m.start() - 1 : m.end()] in _NOT_PLACES or q[m.start() : m.end() + 1] in _NOT_PLACES:
            continue
        stem = q[max(0, m.start() - 2) : m.start()]
        while stem and (stem[0] in _NOT_IN_PLACE or not re.match(rf"[{CJK}]", stem[0])):
            stem = stem[1:]
        if stem and not set(stem) & _NOT_IN_PLACE and all(re.match(rf"[{CJK}]", c) for c in stem):
            out.append(stem + m.group())
    return list(dict.fromkeys(out))


def mentions_place(place: str, text: str) -> bool:
    """``place`` occurs in ``text``, or its two-character stem does (惠济区 → 惠济)."""
    if place in text:
        return True
    stem = place_stem(place)
    return len(stem) >= 2 and stem in text


def place_stem(place: str) -> str:
    """The name without its administrative suffix: 惠济区 → 惠济, 刘寨街道 → 刘寨."""
    return re.sub(rf"{_SUFFIXES}$", "", place)


def _nominal(flag: str) -> bool:
    """jieba POS of words that can make up the thing counted: nouns, 三级 (b), 应急 (vn), eng."""
    return flag[:1] == "n" or flag in ("vn", "b", "j", "eng")


def focus_of(question: str) -> str:
    """The thing a quantity question counts or measures: the nouns after 多少+unit, or before
    是多少/有多少 (多少座运营车站 → 运营车站, 汽车零售额完成了多少 → 汽车零售额); "" if none."""
    cut = list(cut_question(question))
    words = [w for w, _ in cut]
    for i, w in enumerate(words):
        if w not in ("多少", "几") and not (QUESTION_PREFIX.match(w) and len(w) > 1 and w[0] != "哪"):
            continue
        j = i + 1 + (i + 1 < len(words) and words[i + 1] in _UNITS)
        after = []
        while j < len(cut) and _nominal(cut[j][1]) and words[j] not in _MONEY_WORDS:
            after.append(words[j])
            j += 1
        if after:
            return "".join(after)
        j, before = i - 1, list[str]()
        while j >= 0 and words[j] in _SKIP_BEFORE:
            j -= 1
        while j >= 0 and _nominal(cut[j][1]) and cut[j][1] != "vn" and not _PLACE_SUFFIX.search(words[j] + "?"):
            before.insert(0, words[j])
            j -= 1
        return "".join(before)
    return ""


WH_WORD = re.compile(r"^(?:多少|几|多大|多长|多久|多高|多远|哪.*|什么.*|谁|何时|何处|怎么.*|如何)$")
_PARTICLES = {
    "了",
    "到",
    "在",
    "于",
    "是",
    "的",
    "着",
    "过",
    "给",
    "有",
    "为",
    "共",
    "一共",
    "总共",
    "能",
    "会",
    "将",
    "把",
}


def predicate_of(question: str) -> str:
    """The word governing the question word (持续到哪一天 → 持续, 办结了多少件 → 办结); ""."""
    words = [w for w, _ in cut_question(question)]
    for i, w in enumerate(words):
        if WH_WORD.match(w):
            j = i - 1
            while j >= 0 and words[j] in _PARTICLES:
                j -= 1
            if j >= 0 and len(words[j]) >= 2 and not re.match(r"\d", words[j]):
                return words[j]
            return ""
    return ""


def focus_coverage(focus: str, text: str) -> float:
    """Share of the focus's character bigrams found in ``text`` (1.0 for no focus)."""
    if len(focus) < 2:
        return 1.0 if not focus or focus in text else 0.0
    grams = {focus[i : i + 2] for i in range(len(focus) - 1)}
    return sum(g in text for g in grams) / len(grams)


def specifics_in(question: str) -> list[str]:
    """Ordinals the answer must be about (第四期, 第三届)."""
    return ORDINAL.findall(compact(question))


def asked_role(question: str) -> str:
    """The title right before 是谁 / 是哪位 (…酒店，店长是谁 → 店长; 夺得银牌的学生是谁 → 学生), or
    after 哪位 (是哪位市领导 → 市领导)."""
    after = re.search(rf"哪位([{CJK}]{{2,4}}?)(?:[？?。]|$)", compact(question))
    if after:
        return after.group(1)
    words = [w for w, _ in cut_question(question)]
    for i, w in enumerate(words):
        if w in ("谁", "哪位", "是谁") and i >= 1:
            j = i - 1
            while j >= 0 and words[j] in ("是", "的", "为", "叫"):
                j -= 1
            if j >= 0 and re.fullmatch(rf"[{CJK}]{{2,4}}", words[j]):
                return words[j]
    return ""
