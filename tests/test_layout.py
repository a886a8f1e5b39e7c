"""The house rules, enforced: no import cycles, retrieval and generation never import each other,
no import of a higher layer, faces that reach the house only through the façade and the data
model, no module over 400 lines, a question read once, and the faces start without loading a
model library."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import code_shape  # bench/code_shape.py (bench is on the test path)
import pytest

from tests.conftest import make_fake_bot

ROOT = Path(__file__).resolve().parents[1]


def test_no_import_cycles_no_side_by_side_imports_no_long_modules(capsys) -> None:
    assert code_shape.main(["--root", str(ROOT)]) == 0
    shape = json.loads(capsys.readouterr().out)
    assert shape["import_cycles"] == []
    assert shape["side_by_side_imports"] == []
    assert shape["upward_imports"] == []  # e.g. the store naming the embeddings module
    assert shape["face_imports"] == []  # the CLI and the UI import only the façade and the models
    assert shape["modules_over_400_lines"] == []


def test_layer_rules_catch_what_they_name() -> None:
    """The two rules are not vacuous: an upward import and a face reaching past the façade are caught."""
    graph = {"rag.store.index": {"rag.embeddings.base"}, "app.ui": {"rag.store.vectors", "rag.assistant"}}
    assert code_shape.upward_imports(graph) == ["rag.store.index -> rag.embeddings.base"]
    assert code_shape.face_imports(graph) == ["app.ui -> rag.store.vectors"]


READERS = ("read_intent", "places_in", "specific_words", "content_terms", "asks_for", "focus_of", "predicate_of")


def test_no_module_below_the_facade_reads_the_question_string_again() -> None:
    """Only rag.text (where the readers live and rag.text.asked calls them) calls a question
    reader; everything else takes the ``Question`` the façade read."""
    callers = []
    for path in sorted((ROOT / "rag").rglob("*.py")):
        if path.parent.name == "text":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in READERS:
                callers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert callers == []


@pytest.mark.parametrize(
    "question",
    ["柳溪县的县委书记和县长分别是谁？", "鹭江引水工程柳溪段的输水管线有多长？", "桐川县 第二期 活动 是什么时候办的?"],
)
def test_a_question_is_read_once_per_form(sample_index: Path, monkeypatch, question: str) -> None:
    """``bot.ask`` reads the question once (``read_question``), and each reader runs once per form
    of the text (as asked, and normalised for retrieval when that differs) plus once per
    sub-question it asks for itself (the parts of 分别 …)."""
    import rag.assistant
    import rag.text.asked as asked

    calls: dict[str, int] = {}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return fn(*args, **kwargs)

        return wrapper

    for name in ("read_intent", "places_in", "specific_words", "content_terms"):
        monkeypatch.setattr(asked, name, counted(name, getattr(asked, name)))
    monkeypatch.setattr(rag.assistant, "read_question", counted("read_question", asked.read_question))
    bot = make_fake_bot(sample_index)
    try:
        bot.ask(question)
        read = asked.read_question(question)
    finally:
        bot.close()
    forms = 1 + (read.normalized is not None)
    subs = len(read.parts) + sum(s is not None for s in read.sides)
    assert calls["read_question"] == 1
    # (the counters ran for the extra read_question above too: that read is the same size)
    assert calls["places_in"] == calls["specific_words"] == calls["content_terms"] == 2 * (forms + subs)
    assert read.intent.kind != "multipart" or len(read.parts) == 2


def test_importing_the_faces_loads_no_model_library() -> None:
    code = (
        "import sys, rag.cli, rag.assistant, rag.evaluation, app.ui; "
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'onnxruntime', 'transformers') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
