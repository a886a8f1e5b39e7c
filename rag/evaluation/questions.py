"""Question sets for evaluation: loading and validating JSONL files.

Two shapes are accepted, one JSON object a line:

* evidence-based (``dev.jsonl``): ``source`` (file name, or a list for
  multi_hop) and ``evidence`` (exact substring of the source file, or a list);
* document-based (``crud_dev.jsonl``): ``gold_doc_ids`` (articles holding the
  answer).

Common fields: ``id``, ``question``, ``answer`` (empty for unanswerable),
``answer_aliases`` and ``type`` (defaults to ``"factoid"``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TYPE = "factoid"


class QuestionSetError(ValueError):
    """A question file is missing or malformed; the message names file and line."""


@dataclass
class Question:
    id: str
    question: str
    answer: str = ""
    aliases: list[str] = field(default_factory=list)
    type: str = DEFAULT_TYPE
    sources: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    gold_doc_ids: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return bool(self.answer)

    @property
    def document_based(self) -> bool:
        """True when relevance is judged by article id rather than evidence text."""
        return bool(self.gold_doc_ids) and not self.evidence

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _str_list(value: Any, name: str) -> list[str]:
    """A string or list of strings -> list of non-empty strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v for v in value if v.strip()]
    raise ValueError(f"`{name}` must be a string or a list of strings")


FIELDS = {
    "id",
    "question",
    "answer",
    "answer_aliases",
    "aliases",
    "type",
    "source",
    "sources",
    "evidence",
    "gold_doc_ids",
}
METADATA = {"qa_source", "note", "notes", "comment", "meta"}  # carried by some sets, ignored here


def _parse_row(row: Any, default_id: str) -> Question:
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    unknown = sorted(k for k in row if k not in FIELDS | METADATA and not str(k).startswith("_"))
    if unknown:
        raise ValueError(
            f"unknown field(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(FIELDS))} (metadata: {', '.join(sorted(METADATA))}, _*)"
        )
    text = row.get("question")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("missing `question`")
    answer = row.get("answer") or ""
    if not isinstance(answer, str):
        raise ValueError("`answer` must be a string")
    qtype = row.get("type") or DEFAULT_TYPE
    if not isinstance(qtype, str):
        raise ValueError("`type` must be a string")
    aliases = _str_list(row.get("answer_aliases", row.get("aliases")), "answer_aliases")
    q = Question(
        id=str(row.get("id") or default_id),
        question=text.strip(),
        answer=answer.strip(),
        aliases=[a.strip() for a in aliases],
        type=qtype.strip() or DEFAULT_TYPE,
        sources=[s.strip() for s in _str_list(row.get("source", row.get("sources")), "source")],
        evidence=_str_list(row.get("evidence"), "evidence"),
        gold_doc_ids=[d.strip() for d in _str_list(row.get("gold_doc_ids"), "gold_doc_ids")],
    )
    if q.answerable and not q.evidence and not q.gold_doc_ids:
        raise ValueError("answerable question has neither `evidence` nor `gold_doc_ids`")
    return q


def load_questions(path: str | Path) -> list[Question]:
    """Read a JSONL question set; blank lines are skipped.

    Raises QuestionSetError (naming the file and the 1-based line number) for a
    missing file, invalid JSON, a row without ``question``, an answerable row
    with neither evidence nor gold_doc_ids, a duplicate id, or an empty set.
    """
    p = Path(path)
    if not p.is_file():
        raise QuestionSetError(f"{path}: question file not found")
    try:
        lines = p.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"{path}: cannot read: {exc}") from exc
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{path} line {lineno}: invalid JSON: {exc}") from exc
        try:
            q = _parse_row(row, default_id=f"{p.stem}-{lineno}")
        except ValueError as exc:
            raise QuestionSetError(f"{path} line {lineno}: {exc}") from exc
        if q.id in seen:
            raise QuestionSetError(f"{path} line {lineno}: duplicate id {q.id!r} (first on line {seen[q.id]})")
        seen[q.id] = lineno
        questions.append(q)
    if not questions:
        raise QuestionSetError(f"{path}: no questions")
    return questions
