"""People in answers: the person holding the role a question asks about (市委书记和市长 → 市委书记
葛巧红、市长李亦博), only where the role is held in the place the question names, and only a name
(a common surname, not a word jieba knows otherwise)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rag.text.normalize import CJK, compact
from rag.text.question import AFTER_NAME, ROLES, cut_question, place_stem
from rag.text.tokenize import jieba_module

if TYPE_CHECKING:
    from rag.text.asked import Question

_ROLE_NAME = re.compile(rf"((?:{ROLES}))([{CJK}]{{2,3}}){AFTER_NAME}")
_NOT_NAME = re.compile(r"^(?:市委|县委|区委|党委|省委|副|常务|党组|委员|主任|书记)")


def persons(question: Question, text: str) -> str:
    """People the question asks for: for each role it names (市委书记和市长 → 书记, 市长) the
    person holding it in ``text`` (市委书记葛巧红、市长李亦博); else the first role + name."""
    found = [
        (m.start(), m.group(1), m.group(2))
        for m in _ROLE_NAME.finditer(text)
        if not _NOT_NAME.match(m.group(2)) and _is_name(m.group(2))
    ]
    if not found:
        return ""
    q = question.compact
    asked = [r for r in ROLES.split("|") if r in q]
    stems = [place_stem(p) for p in question.places]
    picked = []
    for role in sorted(asked, key=q.find):
        prefix = _role_context(q, role)[0]
        deputy = q[q.find(role) - 1 : q.find(role)] == "副"
        for start, r, name in found:
            title = text[max(0, start - 6) : start]
            owner = _owner(title)  # 孟州市委 书记 → 孟州
            if title.endswith("副") and not deputy:
                continue  # 副主任 is not the 主任 asked for
            if r == role and title.endswith(prefix) and not (owner and stems and owner.group(1) not in stems):
                picked.append(f"{prefix}{'副' if deputy else ''}{r}{name}")
                break
    if asked or question.role:
        return "、".join(dict.fromkeys(picked))  # a role the question names, or nobody
    return f"{found[0][1]}{found[0][2]}"


def _owner(title: str) -> re.Match | None:
    """The place a role belongs to, right before it (孟州市委 → 孟州); in 学习市委 the two
    characters before 市委 are a verb, not a place."""
    m = re.search(rf"([{CJK}]{{2}})([省市县区])委?$", title)
    if not m:
        return None
    jieba_module()
    import jieba.posseg

    words = list(jieba.posseg.cut(m.group(1)))
    return None if len(words) == 1 and words[0].flag[:1] in ("v", "d", "a", "p", "c", "u", "r") else m


def _role_context(q: str, role: str) -> list[str]:
    """What must precede the role in the text: 市委书记 → 市委 (not 县委); plain 书记 → anything."""
    i = q.find(role)
    prefix = q[max(0, i - 2) : i]
    return [prefix] if prefix in ("市委", "县委", "区委", "省委", "党委", "支部") else [""]


_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛"
    "邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝"
    "路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂"
    "全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)


def _is_name(name: str) -> bool:
    """A 2–3 character Chinese name: a common surname, and not a word jieba knows otherwise."""
    if not (2 <= len(name) <= 3) or name[0] not in _SURNAMES:
        return False
    words = [w for w, _ in cut_question(name)]
    return len(words) != 1 or len(name) == 3 or name not in _COMMON_TWO


_COMMON_TWO = {"高度", "任务", "方面", "安全", "全面", "常态", "余额", "万元", "时间", "明确", "成为", "和谐", "宁静"}


def who_span(question: Question, sentence: str, context: str) -> str:
    who = persons(question, sentence + context)
    if who or any(r in question.compact for r in ROLES.split("|")):
        return who  # a role the question names is held by nobody here: no other name will do
    role = question.role
    pattern = re.compile(rf"{re.escape(role)}(?P<name>[{CJK}]{{2,3}}){AFTER_NAME}") if role else _PERSON_NAME
    for m in pattern.finditer(compact(sentence)):
        if _is_name(m.group("name")) and m.group("name") not in question.compact:
            return f"{role}{m.group('name')}" if role else m.group("name")
    return ""


_PERSON_NAME = re.compile(rf"(?:{ROLES})(?P<name>[{CJK}]{{2,3}}){AFTER_NAME}")
