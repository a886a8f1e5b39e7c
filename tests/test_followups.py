"""Follow-ups keep the earlier question's words whole (issue 35 point 4): over every question of
the question sets, a follow-up that swaps a place, a year, a role, an ordinal or the thing asked
about replaces whole named entities only, and a follow-up keeps the paper and date the earlier
question stated, as filters too."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag.models import Turn
from rag.text.followup import rewrite
from rag.text.tokenize import jieba_module
from tests.conftest import ROOT, need_shared

FOLLOW_UPS = ["那孟州呢？", "那孟州市呢？", "那2021年呢？", "那市长呢？", "那第四届呢？", "那年货节呢？"]
PAPER = re.compile(r"[\u4e00-\u9fff]{2,4}(?:日报|晚报|时报|商报)")
DATE = re.compile(r"(?<!\d)(?:\d{4}年|\d{1,2}月|\d{1,2}日)")  # each part whole: 那2021年呢 swaps a year
QUOTED = re.compile(r"“[^”]{1,20}”")
PLACE_END = re.compile(r"(?:省|市|县|区|镇|乡|街道|社区|村)$")
NAMED = {"ns", "nr", "nt", "nz"}  # jieba's places, people, organisations, other proper names


def questions() -> list[str]:
    """Every question of the repository's sets and of ../shared's."""
    files = [ROOT / "eval" / "questions.jsonl", *sorted((ROOT / "eval" / "adversarial").glob("*.jsonl"))]
    files += [need_shared("eval", "dev.jsonl"), need_shared("eval", "crud_dev.jsonl")]
    found: dict[str, None] = {}
    for path in files:
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                found[json.loads(line)["question"]] = None
    return list(found)


def entities(text: str) -> list[tuple[int, int]]:
    """Spans of the named entities of ``text``: jieba's proper names, papers, dates, quoted names."""
    spans, at = [], 0
    import jieba.posseg

    jieba_module()  # (initialised quietly)
    for word in jieba.posseg.cut(text):
        if word.flag in NAMED and len(word.word) >= 2:
            spans.append((at, at + len(word.word)))
        at += len(word.word)
    for pattern in (PAPER, DATE, QUOTED):
        spans += [m.span() for m in pattern.finditer(text)]
    return spans


def replaced_spans(previous: str, rewritten: str, new: str) -> list[tuple[int, int]]:
    """Each (a, b) with ``rewritten == previous[:a] + new + previous[b:]``."""
    out = []
    for i in [m.start() for m in re.finditer(re.escape(new), rewritten)]:
        head, tail = rewritten[:i], rewritten[i + len(new) :]
        b = len(previous) - len(tail)
        if previous.startswith(head) and previous.endswith(tail) and len(head) <= b:
            out.append((len(head), b))
    return out


def cuts(previous: str, span: tuple[int, int], entity: tuple[int, int]) -> bool:
    """Does replacing ``span`` cut ``entity``?  Not when it holds it whole, lies apart, or is the
    place a name begins with (安徽省 of 安徽省教育厅: 那孟州呢 → 孟州教育厅)."""
    (a, b), (s, t) = span, entity
    inside = a <= s and t <= b
    apart = b <= s or t <= a
    place_part = a == s and b < t and bool(PLACE_END.search(previous[a:b]))
    return not inside and not apart and not place_part


def test_every_follow_up_replaces_whole_entities_only() -> None:
    broken, checked = [], 0
    for previous in questions():
        for follow_up in FOLLOW_UPS:
            rewritten = rewrite(follow_up, [Turn(previous)])
            new = follow_up.removeprefix("那").removesuffix("呢？")
            if rewritten in (previous, f"{new} {previous}"):
                continue  # nothing swapped, or the earlier question asked of the new thing whole
            checked += 1
            spans = replaced_spans(previous, rewritten, new)
            named = entities(previous)
            if not any(not any(cuts(previous, span, e) for e in named) for span in spans):
                broken.append(f"{previous} + {follow_up} → {rewritten}")
    assert checked > 500, checked
    assert not broken, f"{len(broken)} of {checked} follow-ups cut a name:\n" + "\n".join(broken[:60])


@pytest.mark.parametrize(
    "previous, follow_up, want",
    [
        (
            "2023年1月10日焦作日报温县新闻版报道了什么会议？",
            "那孟州呢？",
            "2023年1月10日焦作日报孟州新闻版报道了什么会议？",
        ),
        ("焦作日报温县新闻版报道了什么？", "那孟州市呢？", "焦作日报孟州市新闻版报道了什么？"),
    ],
)
def test_a_place_after_a_paper_name_is_swapped_whole(previous: str, follow_up: str, want: str) -> None:
    assert rewrite(follow_up, [Turn(previous)]) == want


def test_a_follow_up_keeps_the_paper_and_date_the_question_stated(seeds_index: Path) -> None:
    from rag.assistant import Assistant
    from rag.settings import Settings

    bot = Assistant(Settings.load(index=seeds_index))
    try:
        first = bot.ask("2023年1月10日焦作日报温县新闻版报道了什么会议？", 5)
        assert {"报纸：焦作日报", "日期：2023-01-10"} <= set(first.applied), first.applied
        then = bot.ask("那孟州呢？", 5, history=[Turn(first.question, answer=first.text, query=first.query)])
        assert "焦作日报" in then.query and "孟州" in then.query, then.query
        assert {"报纸：焦作日报", "日期：2023-01-10"} <= set(then.applied), then.applied
        assert then.citations and {c.hit.article.section for c in then.citations} == {"孟州新闻"}
    finally:
        bot.close()
