"""Loading question sets: the real dev set and broken files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.evaluation.questions import Question, QuestionSetError, load_questions

SHARED_EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


def _need(path: Path) -> Path:
    if not path.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{path} is missing (required in CI)")
        pytest.skip(f"{path} not found: ../shared is absent in this checkout")
    return path


def test_load_real_dev_set():
    qs = load_questions(_need(SHARED_EVAL / "dev.jsonl"))
    assert len(qs) == 25
    assert len({q.id for q in qs}) == 25
    first = qs[0]
    assert (first.id, first.answer, first.type) == ("d001", "孙广斌", "who")
    assert first.sources == ["000_0a416d07dcdc2ce6.txt"]
    assert first.evidence == ["惠济区农委党组书\n\n记、主任孙广斌说"]  # raw, newlines kept
    assert first.answerable and not first.gold_doc_ids
    d002 = qs[1]
    assert d002.aliases == ["财政部科研研究员张鹏", "经济学博士张鹏"]
    multi = [q for q in qs if q.type == "multi_hop"]
    assert len(multi) == 2 and all(len(q.evidence) == 2 == len(q.sources) for q in multi)
    unans = [q for q in qs if not q.answerable]
    assert len(unans) == 3
    assert all(q.type == "unanswerable" and q.sources == [] and q.evidence == [] for q in unans)


def test_dev_evidence_is_in_its_source_file():
    qs = load_questions(_need(SHARED_EVAL / "dev.jsonl"))
    seeds = SHARED_EVAL.parent / "corpus" / "seeds"
    for q in qs:
        for src, ev in zip(q.sources, q.evidence):
            assert ev in (seeds / src).read_text(encoding="utf-8"), q.id


def test_load_real_crud_set():
    qs = load_questions(_need(SHARED_EVAL / "crud_dev.jsonl"))
    assert len(qs) == 300
    q = qs[0]
    assert q.type == "factoid" and q.gold_doc_ids == ["crud-bb7f68c98f94"]
    assert q.sources == [] and q.evidence == [] and q.document_based
    assert all(1 <= len(x.gold_doc_ids) <= 3 for x in qs)


def write(tmp_path: Path, text: str, name: str = "set.jsonl") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


GOOD = '{"id": "a", "question": "谁？", "answer": "甲", "source": "x.txt", "evidence": "甲说"}'


def test_shapes_and_blank_lines(tmp_path):
    p = write(
        tmp_path,
        "\n".join(
            [
                GOOD,
                "",
                "   ",
                '{"id": "b", "question": "哪些？", "answer": "乙", "answer_aliases": "乙方",'
                ' "source": ["x.txt", "y.txt"], "evidence": ["e1", "e2"], "type": "multi_hop"}',
                '{"question": "何时？", "answer": "", "source": "", "evidence": "", "type": "unanswerable"}',
                '{"id": "c", "question": "什么？", "answer": "丙", "gold_doc_ids": "crud-1"}',
            ]
        )
        + "\n",
    )
    a, b, u, c = load_questions(p)
    assert a == Question(
        id="a",
        question="谁？",
        answer="甲",
        aliases=[],
        type="factoid",
        sources=["x.txt"],
        evidence=["甲说"],
        gold_doc_ids=[],
    )
    assert b.aliases == ["乙方"] and b.sources == ["x.txt", "y.txt"] and b.evidence == ["e1", "e2"]
    assert u.id == "set-5" and not u.answerable
    assert c.gold_doc_ids == ["crud-1"] and c.answerable and c.document_based


@pytest.mark.parametrize(
    "lines, line_no, fragment",
    [
        ([GOOD, "", '{"id": "b", "question": "x", '], 3, "invalid JSON"),
        ([GOOD, '{"id": "b", "answer": "x", "gold_doc_ids": ["d"]}'], 2, "missing `question`"),
        ([GOOD, '{"id": "b", "question": "  ", "answer": "x", "gold_doc_ids": ["d"]}'], 2, "missing `question`"),
        ([GOOD, '{"id": "b", "question": "x", "answer": "y"}'], 2, "neither `evidence` nor `gold_doc_ids`"),
        ([GOOD, '["not", "an", "object"]'], 2, "expected a JSON object"),
        ([GOOD, '{"id": "b", "question": "x", "answer": "y", "evidence": 5}'], 2, "`evidence`"),
        ([GOOD, GOOD], 2, "duplicate id 'a'"),
    ],
)
def test_broken_lines_name_file_and_line(tmp_path, lines, line_no, fragment):
    p = write(tmp_path, "\n".join(lines) + "\n", name="broken.jsonl")
    with pytest.raises(QuestionSetError) as exc:
        load_questions(p)
    msg = str(exc.value)
    assert "broken.jsonl" in msg and f"line {line_no}:" in msg and fragment in msg


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(QuestionSetError, match=r"nothere\.jsonl.*not found"):
        load_questions(tmp_path / "nothere.jsonl")
    with pytest.raises(QuestionSetError, match="no questions"):
        load_questions(write(tmp_path, "\n\n"))


def test_unknown_field_is_named(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text(
        '{"id": "a", "question": "几个？", "answer": "3个", "gold_doc_ids": ["d"], "qa_source": "x"}\n'
        '{"id": "b", "question": "几个？", "answr": "3个", "gold_doc_ids": ["d"]}\n',
        encoding="utf-8",
    )
    with pytest.raises(QuestionSetError, match=r"line 2: unknown field\(s\) 'answr'"):
        load_questions(f)
