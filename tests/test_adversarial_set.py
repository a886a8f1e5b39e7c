"""The whole blind question set (eval/adversarial, both halves) through the real pipeline: no shown
span is of another type than the question asks, every answer is cited, every refusal says why.

The type each question asks is the writers' label (``type`` in the file), checked here with
patterns of its own, not with the answerer's code.  Seed questions run over the five seed pages
(real model); CRUD-RAG questions over their gold articles among 300 seeded distractors (the
hash embedder: this test is about answers, not ranking).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.evaluation import load_questions
from rag.evaluation.subset import gold_ids, write_subset
from rag.models import Answer
from rag.settings import Settings

from .conftest import need_shared

pytestmark = pytest.mark.slow
EVAL = Path(__file__).resolve().parents[1] / "eval" / "adversarial"
NUMERAL = r"[\d一二两三四五六七八九十百千万亿]"
# the unit a 多少/几 question asks in, and the spans that carry it
UNITS = {
    "人次": ("人次",),
    "个百分点": ("个百分点", "百分点"),
    "元": ("元", "港元"),
    "名": ("名", "人", "位"),
    "人": ("人", "名", "位"),
}


def span_is_of_type(kind: str, question: str, span: str) -> bool:
    """Is ``span`` the kind of thing a ``kind`` question asks for (the writers' kinds)?"""
    if kind == "number":
        asked = re.search(r"(?:多少|几)(人次|个百分点|元|名|人)(?![\u4e00-\u9fff]*[次点])", question)
        unit_ok = not asked or span.endswith(UNITS[asked.group(1)])
        return bool(re.search(NUMERAL, span)) and not re.fullmatch(r"\d{4}年", span) and unit_ok
    if kind == "date":
        return bool(re.search(rf"{NUMERAL}\s*[年月日号]", span))
    if kind == "who":
        return not re.search(r"\d", span) and len(span) >= 2
    if kind == "place":
        return not re.search(r"\d{1,2}月\d{1,2}日|^\d", span)
    if kind == "ordinal":
        return bool(re.search(r"第|首|冠军|亚军|季军|榜首|等奖|金奖|银奖|铜奖", span))
    if kind == "list":
        return "、" in span
    if kind == "yesno":
        return span in ("是", "否")
    if kind == "comparison":
        return bool(re.search(r"\d", span))
    return True  # why, factoid, multipart, paper_issue: the sentence or parts speak


def check(answer: Answer, kind: str, question: str) -> list[str]:
    problems = []
    if answer.refused:
        if not re.search(r"[\u4e00-\u9fff]", answer.reason):
            problems.append(f"refusal without a Chinese reason: {answer.reason!r}")
        return problems
    if answer.short and not span_is_of_type(kind, question, answer.short):
        problems.append(f"{kind} question shows the span {answer.short!r}")
    if not answer.citations:
        problems.append("an answer without a citation")
    for c in answer.citations:
        if c.quote not in c.hit.chunk.text:
            problems.append(f"quote not in its passage: {c.quote[:30]!r}")
    return problems


def run(bot: Assistant, path: Path) -> tuple[int, list[str]]:
    problems = []
    questions = load_questions(path)
    for q in questions:
        answer = bot.ask(q.question, 5)
        problems += [f"{q.id} {q.question} → {p}" for p in check(answer, q.type, q.question)]
    return len(questions), problems


def test_seed_questions_show_spans_of_the_asked_type(seeds_index: Path) -> None:
    bot = Assistant(Settings.load(index=seeds_index))
    n, problems = run(bot, EVAL / "seeds.jsonl")
    bot.close()
    assert n == 92 and problems == []


def test_crud_questions_show_spans_of_the_asked_type(tmp_path: Path) -> None:
    corpus = need_shared("corpus", "crud_rag", "news.jsonl.xz")
    questions = EVAL / "crud.jsonl"
    subset = tmp_path / "subset.jsonl"
    counts = write_subset(corpus, gold_ids(questions), 300, seed=16, out=subset)
    assert counts["gold_missing"] == 0
    bot = Assistant(Settings.load(index=tmp_path / "idx", embedding_model="fake:hash"))
    assert not bot.archive.ingest([subset]).skipped
    n, problems = run(bot, questions)
    bot.close()
    assert n == 160 and problems == []
