"""The evaluation runner, aggregation, reports and run comparison, on scripted answers."""

from __future__ import annotations

import json

import pytest

from rag.evaluation.compare import compare, load_run
from rag.evaluation.questions import Question
from rag.evaluation.report import write_report
from rag.evaluation.runner import evaluate
from rag.evaluation.scores import percentile, worst_failures
from rag.models import REFUSAL, Answer, Citation
from tests.test_metrics import make_hit


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


QUESTIONS = [
    Question(
        id="q1",
        question="惠济区农委主任是谁？",
        answer="孙广斌",
        type="who",
        sources=["a.txt"],
        evidence=["主任孙广斌说"],
    ),
    Question(id="q2", question="郑州地铁有多少车站？", answer="", type="unanswerable"),
    Question(
        id="q3",
        question="有效期几年？",
        answer="3年",
        aliases=["三年"],
        type="factoid",
        sources=["b.txt"],
        evidence=["有效期3年"],
    ),
]


def scripted(clock: FakeClock):
    durations = {"q1": 1.0, "q2": 3.0, "q3": 2.0}
    by_text = {q.question: q for q in QUESTIONS}

    def ask(text: str) -> Answer:
        q = by_text[text]
        clock.t += durations[q.id]
        timings = {"retrieve": durations[q.id] / 4, "generate": durations[q.id] * 3 / 4}
        if q.id == "q1":
            hits = [make_hit("别的新闻", rank=1), make_hit("农委主任孙广斌说", rank=2)]
            return Answer(
                question=text,
                text="主任是孙广斌[1]。",
                short="孙广斌",
                hits=hits,
                timings=timings,
                citations=[Citation(n=1, hit=hits[1], quote="主任孙广斌")],
            )
        if q.id == "q2":
            return Answer(question=text, text=REFUSAL, refused=True, hits=[make_hit("地铁新闻")], timings=timings)
        return Answer(
            question=text,
            text=REFUSAL,
            refused=True,
            timings=timings,
            hits=[make_hit("施行，有效期3年", source="b.txt", rank=1)],
        )

    return ask


@pytest.fixture
def result():
    clock = FakeClock()
    return evaluate(QUESTIONS, scripted(clock), k=5, clock=clock)


def test_per_question_scores(result):
    r1, r2, r3 = result.results
    assert (r1.rank, r1.contains_gold, r1.exact_match, r1.f1, r1.refused, r1.seconds) == (
        2,
        True,
        True,
        1.0,
        False,
        1.0,
    )
    assert r1.citation_precision == 1.0 and r1.citation_recall == 1.0
    assert r1.ndcg == pytest.approx(1 / 1.584962500721156)  # evidence at rank 2
    assert (r2.rank, r2.refused, r2.contains_gold, r2.f1) == (None, True, None, None)  # not scored: no gold
    assert (r3.rank, r3.contains_gold, r3.refused, r3.citation_precision, r3.citation_recall) == (
        1,
        False,
        True,
        None,
        0.0,
    )
    assert r1.timings == {"total": 1.0, "retrieve": 0.25, "generate": 0.75}


def test_aggregates_overall_and_per_type(result):
    o = result.overall
    assert (o["n"], o["answerable"], o["unanswerable"]) == (3, 2, 1)
    assert o["hit@1"] == 0.5 and o["hit@3"] == 1.0 and o["hit@10"] == 1.0
    assert o["mrr"] == pytest.approx(0.75)
    assert o["contains_gold"] == 0.5 and o["exact_match"] == 0.5
    assert o["citation_precision"] == 1.0  # only q1 cites anything
    assert o["citation_recall"] == 0.5  # q3 was refused: recall 0
    assert o["refusal_accuracy"] == 1.0 and o["false_refusal_rate"] == 0.5
    assert o["total_p50_ms"] == 2000.0 and o["total_p95_ms"] == pytest.approx(2900.0)
    assert o["retrieve_p50_ms"] == 500.0
    assert o["errors"] == 0 and o["all_evidence_hit@5"] is None
    t = result.by_type
    assert list(t) == ["who", "unanswerable", "factoid"]
    assert t["who"]["hit@1"] == 0.0 and t["who"]["mrr"] == 0.5 and t["who"]["refusal_accuracy"] is None
    assert t["unanswerable"]["hit@1"] is None and t["unanswerable"]["refusal_accuracy"] == 1.0
    assert t["factoid"]["false_refusal_rate"] == 1.0


def test_errors_count_as_misses_not_smaller_denominators():
    q = Question(id="q", question="谁？", answer="孙广斌", sources=["a.txt"], evidence=["孙广斌说"])
    bad = Question(id="bad", question="boom", answer="x", gold_doc_ids=["d"])

    def ask(text: str) -> Answer:
        if text == "boom":
            raise RuntimeError("model crashed")
        return Answer(question=text, text="孙广斌", hits=[make_hit("a"), make_hit("b"), make_hit("孙广斌说")])

    res = evaluate([q, bad], ask, k=2)
    assert res.results[0].rank == 3  # ranks are over every retrieved hit …
    assert res.overall["hit@2"] == 0.0 and res.overall["hit@3"] == 0.5  # … hit@k cuts them
    assert res.results[1].error == "RuntimeError: model crashed"
    assert res.overall["errors"] == 1 and res.overall["contains_gold"] == 0.5
    with pytest.raises(ValueError):
        evaluate([q], ask, k=0)


def test_percentile_linear_interpolation():
    assert percentile([1.0, 3.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0, 20.0], 95) == pytest.approx(19.5)
    assert percentile([7.0], 95) == 7.0 and percentile([], 50) is None


def test_worst_failures_order(result):
    worst = worst_failures(result.results, k=5)
    assert [r.question.id for r in worst] == ["q3"]  # q1 correct, q2 correctly refused


def test_report_without_matplotlib_says_how_to_get_charts(tmp_path, result, monkeypatch):
    import rag.evaluation.report as report

    real = report.importlib.util.find_spec
    monkeypatch.setattr(report.importlib.util, "find_spec", lambda name: None if name == "matplotlib" else real(name))
    files = write_report(result, tmp_path, {"questions_file": "q.jsonl"})
    assert set(files) == {"report.json", "report.md"}
    assert "pip install 'baokan-rag[charts]'" in (tmp_path / "report.md").read_text("utf-8")


def test_report_files(tmp_path, result):
    meta = {
        "questions_file": "q.jsonl",
        "index": "idx",
        "retriever": "bm25",
        "generator": "extractive",
        "git": {"commit": "abc123def4567", "dirty": False},
        "wall_seconds": 6.0,
    }
    files = write_report(result, tmp_path, meta)
    assert set(files) == {"report.json", "report.md", "per_type.png", "latency.png", "refusal.png"}
    for name in ("per_type.png", "latency.png", "refusal.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert data["meta"]["git"]["commit"] == "abc123def4567" and data["k"] == 5
    assert data["overall"]["mrr"] == pytest.approx(0.75) and len(data["questions"]) == 3
    assert data["questions"][0]["short"] == "孙广斌" and data["questions"][0]["citations"][0]["quote"] == "主任孙广斌"
    md = (tmp_path / "report.md").read_text("utf-8")
    assert "abc123def456" in md and "![per_type.png](per_type.png)" in md
    assert "| overall | 3 | 0.500 | 1.000 | 1.000 | 1.000 | 0.750 |" in md
    assert "最差的 1 个问题" in md and "有效期几年？" in md and "施行，有效期3年" in md


def test_compare_flags_regressions_and_flips(tmp_path, result):
    write_report(result, tmp_path / "a", {}, charts=False)
    a = load_run(tmp_path / "a")
    b = json.loads(json.dumps(a))
    b["overall"]["mrr"] -= 0.1  # quality drop → regression
    b["overall"]["hit@1"] += 0.003  # within tolerance → unchanged
    b["overall"]["total_p50_ms"] *= 1.1  # small latency change → not flagged
    b["overall"]["total_p95_ms"] *= 2  # doubled → regression
    b["overall"]["false_refusal_rate"] = 0.0  # lower is better → improved
    b["questions"][0]["contains_gold"] = False
    b["questions"][2]["contains_gold"] = True
    c = compare(a, b)
    by_metric = {d.metric: d for d in c.deltas if d.group == "overall"}
    assert by_metric["mrr"].status == "regression" and by_metric["mrr"].delta == pytest.approx(-0.1)
    assert by_metric["hit@1"].status == ""
    assert by_metric["total_p50_ms"].status == "" and by_metric["total_p95_ms"].status == "regression"
    assert by_metric["false_refusal_rate"].status == "improved"
    assert {d.metric for d in c.regressions} == {"mrr", "total_p95_ms"}
    assert (c.fixed, c.broken) == (["q3"], ["q1"])
    assert "hit@1" not in {d.metric for d in c.deltas if d.group == "unanswerable"}  # None on both sides


def test_load_run_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no report\.json"):
        load_run(tmp_path)
    (tmp_path / "report.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not a readable report"):
        load_run(tmp_path)
    (tmp_path / "report.json").write_text('{"x": 1}', encoding="utf-8")
    with pytest.raises(ValueError, match="not an evaluation report"):
        load_run(tmp_path / "report.json")


def test_refusal_curve_moves_with_the_threshold():
    from rag.evaluation.result import QuestionResult
    from rag.evaluation.scores import refusal_curve

    def run(q: Question, confidence: float | None, refused: bool) -> QuestionResult:
        answer = Answer(question=q.question, text=REFUSAL if refused else "答", refused=refused, confidence=confidence)
        return QuestionResult(q, answer, refused=refused)

    answerable, unanswerable = QUESTIONS[0], QUESTIONS[1]
    results = [
        run(answerable, 0.9, False),
        run(answerable, 0.3, False),
        run(unanswerable, 0.2, False),
        run(unanswerable, None, True),  # refused before the model (no passages)
    ]
    curve = {p["threshold"]: p for p in refusal_curve(results, steps=10)}
    assert curve[0.0] == {"threshold": 0.0, "refused_unanswerable": 0.5, "false_refusal": 0.0}
    assert curve[0.3] == {"threshold": 0.3, "refused_unanswerable": 1.0, "false_refusal": 0.0}
    assert curve[0.5]["false_refusal"] == 0.5 and curve[1.0]["false_refusal"] == 1.0
