"""The house rules, enforced: no import cycles, retrieval and generation never import each other,
no module over 400 lines, and the faces start without loading a model library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import code_shape  # bench/code_shape.py (bench is on the test path)

ROOT = Path(__file__).resolve().parents[1]


def test_no_import_cycles_no_side_by_side_imports_no_long_modules(capsys) -> None:
    assert code_shape.main(["--root", str(ROOT)]) == 0
    shape = json.loads(capsys.readouterr().out)
    assert shape["import_cycles"] == []
    assert shape["side_by_side_imports"] == []
    assert shape["modules_over_400_lines"] == []


def test_importing_the_faces_loads_no_model_library() -> None:
    code = (
        "import sys, rag.cli, rag.assistant, rag.evaluation, app.ui; "
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'onnxruntime', 'transformers') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
