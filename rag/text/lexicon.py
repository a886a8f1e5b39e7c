"""The archive's own words for jieba: place and organisation names and quoted terms.

jieba has never seen most local names: it cuts 花园口镇八堡村 into 花园口 / 镇八堡 / 村 and
张羌街道 into an unknown 张羌 + 街道.  At ingest we collect

* **names** ending in a place or organisation suffix (花园口镇, 八堡村, 张羌街道, 尚集派出所),
  whose prefix starts on a jieba word boundary (or right after the previous name), is 2–3
  CJK characters long, does not start with a function character (在, 的, 全, …) and whose
  last character does not make a common word with the suffix (城市, 全区, 农村 are no names),
  nor the suffix with the next character (消费市场 holds no 消费市);
* their **stems** (张羌 of 张羌街道), so that a question that says just 张羌 still matches;
* **quoted terms** (“郑好融”, “三杯茶”, 《…》 titles of up to 10 characters).

A name or stem must be seen ``min_count`` times (quoted terms and headline words once) and not
already be a jieba word.  The words are kept in the index (``lexicon`` table) and loaded into
the index's tokenizer, so documents and questions are cut the same way.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from rag.text.normalize import fold
from rag.text.tokenize import jieba_instance

# longest first, so 示范区 wins over 区 and 委员会 over 会
PLACE_SUFFIXES = ("开发区", "示范区", "街道", "社区", "新区", "省", "市", "县", "区", "镇", "乡", "村")
ORG_SUFFIXES = (
    "检察院",
    "派出所",
    "警务室",
    "委员会",
    "合作社",
    "产业园",
    "公司",
    "集团",
    "医院",
    "中学",
    "小学",
    "大学",
    "学院",
    "银行",
    "法院",
    "商圈",
    "景区",
    "园区",
    "管委会",
)
SUFFIXES = tuple(sorted(PLACE_SUFFIXES + ORG_SUFFIXES, key=len, reverse=True))
# a name never starts with these (在惠济区 → 惠济区, 全县 → nothing)
STOP_START = set("的在和与及是对为将把从到向于了等各全本该其这那此每个年月日副")
# nor ends in an office (公安局示范区 is two names)
STOP_END = set("局委厅部院所处站队会办署")
_SUFFIX_RE = re.compile("|".join(map(re.escape, SUFFIXES)))
_QUOTED_RE = re.compile(r"[“\"《「]([\u4e00-\u9fff0-9A-Za-z·]{2,10})[”\"》」]")
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
COMMON = 100  # jieba frequency above which a two-character word is "common"
WINDOW = 8  # characters of context jieba sees left of a suffix


def _boundaries(text: str) -> set[int]:
    """Word-start offsets of jieba's dictionary-only cut of ``text``."""
    out, pos = {0}, 0
    for piece in jieba_instance().cut(text, HMM=False):
        pos += len(piece)
        out.add(pos)
    return out


def names_in(text: str) -> list[tuple[str, str]]:
    """``(name, stem)`` pairs for every suffix occurrence with an acceptable prefix."""
    found: list[tuple[str, str]] = []
    last_end = -1
    freq = jieba_instance().FREQ
    for m in _SUFFIX_RE.finditer(text):
        p = m.start()
        left = max(0, p - WINDOW)
        starts = {left + b for b in _boundaries(text[left:p])}
        if last_end > left:
            starts.add(last_end)
        for size in (3, 2):
            s = p - size
            prefix = text[s:p] if s >= 0 else ""
            if (
                s in starts
                and _CJK.match(prefix)
                and prefix[0] not in STOP_START
                and prefix[-1] not in STOP_END
                and not _SUFFIX_RE.search(prefix)
                and freq.get(prefix[-1] + m.group(), 0) < COMMON  # 城市, 全区: no name
                and freq.get(text[m.end() - 1 : m.end() + 1], 0) < COMMON
            ):  # 消费市场
                found.append((prefix + m.group(), prefix))
                last_end = m.end()
                break
    return found


def quoted_in(text: str) -> list[str]:
    """Terms in quotes or title marks (“万人助万企”, 《郑州城市发展报告》), numbers left out."""
    return [t for t in _QUOTED_RE.findall(text) if not t.isdigit()]


def collect_terms(texts: Iterable[str], headlines: Iterable[str] = ()) -> Counter:
    """Candidate words with their counts (quoted terms and headline names weigh ``min_count``)."""
    counts: Counter = Counter()
    for text in texts:
        text = fold(text)
        for name, stem in names_in(text):
            counts[name] += 1
            counts[stem] += 1
        for term in quoted_in(text):
            counts[term] += 2
    for headline in headlines:
        for name, stem in names_in(fold(headline)):
            counts[name] += 2
            counts[stem] += 2
    return counts


def select_words(counts: Mapping[str, int], known: set[str] | None = None, min_count: int = 2) -> list[str]:
    """Words worth adding: frequent enough, not a jieba word yet, not already ``known``."""
    freq = jieba_instance().FREQ
    known = known or set()
    return sorted(w for w, n in counts.items() if n >= min_count and w not in known and not freq.get(w))
