"""Acceptance on the real seed pages: the dev question set through the whole pipeline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.evaluation import evaluate, load_questions
from rag.settings import Settings

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

if not (SHARED / "eval" / "dev.jsonl").is_file():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"CI=true but {SHARED} is missing")
    pytest.skip(f"{SHARED} is absent: the seed pages and dev set live there", allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seeds_assistant(seeds_index):
    bot = Assistant(Settings.load(index=seeds_index))
    yield bot
    bot.close()


def test_dev_set_thresholds(seeds_assistant: Assistant) -> None:
    questions = load_questions(SHARED / "eval" / "dev.jsonl")
    result = evaluate(questions, lambda q: seeds_assistant.ask(q, 5, depth=10), k=5)
    o = result.overall
    print({k: o[k] for k in ("hit@1", "hit@5", "mrr", "contains_gold", "refusal_accuracy", "false_refusal_rate")})
    assert o["errors"] == 0
    assert o["hit@5"] >= 0.95 and o["mrr"] >= 0.85  # issue 5 targets (answerable questions)
    assert o["contains_gold"] >= 0.85  # issue 4: typed extractive answers
    assert o["false_refusal_rate"] == 0.0
    assert o["refusal_accuracy"] >= 2 / 3
    assert o["citation_precision"] >= 0.85


def test_answer_carries_its_source(seeds_assistant: Assistant) -> None:
    answer = seeds_assistant.ask("惠济区设置了多少个三级网格？", 5)
    assert not answer.refused and answer.short == "672个" and answer.text.startswith("672个[1]")
    cite = answer.citations[0]
    assert cite.hit.article.source == "001_1b469c7e84a0bd45.txt"
    assert cite.quote in cite.hit.chunk.text and "672" in cite.quote


def test_filters_restrict_by_paper(seeds_assistant: Assistant) -> None:
    from rag.models import Filters

    hits = seeds_assistant.search("县委常委会会议", 5, filters=Filters(paper="焦作日报"))
    assert hits and all(h.article.paper == "焦作日报" for h in hits)
