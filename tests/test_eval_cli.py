"""`rag eval` and `rag eval compare` on the sample archive with the real model."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rag.cli import app
from tests.conftest import ROOT

QUESTIONS = ROOT / "eval" / "questions.jsonl"
runner = CliRunner()


def _eval(index: Path, out: Path, *extra: str) -> dict:
    result = runner.invoke(app, ["eval", str(QUESTIONS), "--index", str(index), "--out", str(out), "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_own_question_set_with_reports_and_compare(sample_index: Path, tmp_path: Path) -> None:
    hybrid = _eval(sample_index, tmp_path / "hybrid")
    o = hybrid["overall"]
    types = set(hybrid["by_type"])
    assert {"numeric", "who", "when", "where", "list", "paraphrase", "multi_hop", "unanswerable"} <= types
    assert o["errors"] == 0 and o["n"] == 22
    assert o["hit@5"] >= 0.9 and o["mrr"] >= 0.75
    assert o["refusal_accuracy"] >= 2 / 3
    assert o["contains_gold"] >= 0.8 and o["exact_match"] >= 0.3
    assert o["citation_precision"] >= 0.85  # 0.889: second sentences from a second passage of an article
    assert hybrid["meta"]["chunks"] > 20 and hybrid["meta"]["manifest"]["model_id"]
    assert set(hybrid["files"]) == {"report.json", "report.md", "per_type.png", "latency.png", "refusal.png"}
    report = json.loads((tmp_path / "hybrid" / "report.json").read_text("utf-8"))
    assert len(report["questions"]) == 22
    assert max(len(q["hits"]) for q in report["questions"]) == 10  # ranked to depth 10, answered from 5
    assert all(len(q["citations"]) <= 5 for q in report["questions"])

    _eval(sample_index, tmp_path / "bm25", "--retriever", "bm25", "--no-charts")
    assert not (tmp_path / "bm25" / "per_type.png").exists()
    cmp = runner.invoke(app, ["eval", "compare", str(tmp_path / "hybrid"), str(tmp_path / "bm25"), "--json"])
    assert cmp.exit_code == 0, cmp.output
    data = json.loads(cmp.stdout)
    mrr = next(d for d in data["deltas"] if d["group"] == "overall" and d["metric"] == "mrr")
    assert mrr["delta"] == mrr["b"] - mrr["a"]
    text = runner.invoke(app, ["eval", "compare", str(tmp_path / "hybrid"), str(tmp_path / "hybrid")])
    assert text.exit_code == 0 and "0 regressions" in text.output


def test_eval_limit_and_bad_inputs(sample_index: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", str(QUESTIONS), "--index", str(sample_index), "--limit", "3", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["overall"]["n"] == 3
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        '{"id": "a", "question": "谁？", "answer": "x", "gold_doc_ids": ["d"]}\n{"id": "b", "question": \n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["eval", str(broken), "--index", str(sample_index)])
    assert result.exit_code == 2 and "line 2" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["eval", "compare", str(tmp_path), str(tmp_path)])
    assert result.exit_code == 2 and "no report.json" in result.output
