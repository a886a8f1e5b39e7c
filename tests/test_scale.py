"""Scale features: flat → IVF by size, memory-mapped loading, lexical-only indexes, ingest progress."""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from rag.cli import app
from rag.ingest.pipeline import Ingestor
from rag.models import Filters
from rag.retrieval import DenseRetriever
from rag.store import Index, make_manifest
from rag.store import vectors as vectors_module
from rag.store.vectors import VectorStore
from tests.conftest import SAMPLE
from tests.test_store import assert_in_step

runner = CliRunner()


def unit_rows(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def brute_force(rows: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    order = np.argsort(-(rows @ query), kind="stable")[:k]
    return [int(ids[i]) for i in order]


def test_vector_store_grows_into_ivf_and_back(tmp_path: Path) -> None:
    rows, ids = unit_rows(800), np.arange(0, 1600, 2)
    store = VectorStore(32, ivf_min=500)
    store.add(rows, ids)
    assert store.kind == "flat" and store.reorganize() and store.kind == "ivf"
    assert np.array_equal(np.sort(store.ids()), ids)
    for i in range(0, 800, 40):  # a stored vector finds itself: its own list is probed first
        assert store.search(rows[i], 1)[0][0] == ids[i]
    allowed = ids[[3, 50, 51, 400, 799]]
    query = unit_rows(1, seed=9)[0]
    got = [cid for cid, _ in store.search(query, 3, allowed)]
    assert got == brute_force(rows[[3, 50, 51, 400, 799]], allowed, query, 3)  # exact on a filter

    store.remove(ids[:100])
    path = tmp_path / "v.faiss"
    store.write(path)
    loaded = VectorStore.load(path, 32, ivf_min=500)
    assert not loaded.mapped and loaded.kind == "ivf"  # IVF lists are read in (faster)
    assert np.array_equal(np.sort(loaded.ids()), ids[100:])
    assert np.allclose(loaded.reconstruct(int(ids[200])), rows[200], atol=1e-6)
    assert loaded.reconstruct(int(ids[0])) is None  # removed
    loaded.add(unit_rows(1, seed=3), [5001])
    assert loaded.ntotal == 701

    loaded.remove(ids[100:700])
    assert loaded.reorganize() and loaded.kind == "flat"  # shrunk below half of ivf_min
    assert np.array_equal(np.sort(loaded.ids()), np.sort(np.r_[ids[700:], 5001]))


def test_flat_file_loads_memory_mapped_and_stays_writable(tmp_path: Path) -> None:
    rows, ids = unit_rows(50), np.arange(50) * 7
    store = VectorStore(32)
    store.add(rows, ids)
    store.write(tmp_path / "v.faiss")
    loaded = VectorStore.load(tmp_path / "v.faiss", 32)
    assert loaded.mapped and loaded.kind == "flat"
    assert [c for c, _ in loaded.search(rows[4], 3)] == brute_force(rows, ids, rows[4], 3)
    loaded.remove(ids[:10])
    assert not loaded.mapped and loaded.ntotal == 40


def test_index_switches_to_ivf_and_stays_in_step(small_index: Index, fake_embedder, manifest, monkeypatch) -> None:
    monkeypatch.setattr(vectors_module, "IVF_MIN", 8)
    small_index.relearn_lexicon()  # any commit (here `rag reindex`'s) fits an older flat index
    assert small_index.vectors.kind == "ivf" and small_index.stats()["vector_index"] == "ivf"
    assert_in_step(small_index)
    small_index.delete_source("/data/henan-2023.txt")
    small_index.commit_search_indexes()
    assert_in_step(small_index)
    path = small_index.path
    small_index.close()
    with Index.open(path, manifest) as again:
        assert again.vectors.kind == "ivf"
        dense = DenseRetriever(again, fake_embedder)
        text = again.chunks_by_ids(again.bm25_ids[:1])[0][0].text
        assert dense.search(text, 1)[0].chunk.text == text
        jiaozuo = again.chunk_ids_matching(Filters(paper="焦作日报"))
        assert {h.chunk.id for h in dense.search(text, 10, Filters(paper="焦作日报"))} <= set(jiaozuo)


def test_lexical_only_index_needs_no_model_and_answers_with_bm25(tmp_path: Path) -> None:
    path = tmp_path / "lex"
    result = runner.invoke(app, ["ingest", str(SAMPLE), "--index", str(path), "--lexical-only", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files_ingested"] == 4
    stats = json.loads(runner.invoke(app, ["stats", "--index", str(path), "--json"]).stdout)
    assert stats["vectors"] == 0 and stats["vector_index"] == "none" and stats["chunks"] > 20
    assert not (path / "vectors.faiss").exists()
    assert Index.peek(path)["model_id"] == "none"

    ask = runner.invoke(app, ["ask", "鹭江引水工程柳溪段的输水管线有多长？", "--index", str(path), "--json"])
    assert ask.exit_code == 0, ask.output
    answer = json.loads(ask.stdout)
    assert "46.5公里" in answer["answer"] and answer["citations"]

    dense = runner.invoke(app, ["search", "输水管线", "--index", str(path), "--retriever", "dense"])
    assert dense.exit_code == 2 and "lexical-only" in dense.output

    more = tmp_path / "more.jsonl"
    more.write_text(
        json.dumps({"id": "m1", "title": "试验", "text": "青石镇新建了一座图书馆，藏书八万册。"}, ensure_ascii=False)
        + "\n",
        "utf-8",
    )
    again = runner.invoke(app, ["ingest", str(more), "--index", str(path), "--json"])  # no flag
    assert again.exit_code == 0, again.output
    stats = json.loads(runner.invoke(app, ["stats", "--index", str(path), "--json"]).stdout)
    assert stats["vectors"] == 0 and stats["articles"] == json.loads(result.stdout)["articles"] + 1


def write_records(path: Path, n: int) -> None:
    """``n`` briefs with a random tail, so that the .xz is big enough to be read in many steps."""
    rng = np.random.default_rng(5)
    with lzma.open(path, "wt", encoding="utf-8") as fh:
        for i in range(n):
            tail = "".join(chr(c) for c in rng.integers(0x4E00, 0x4E00 + 3000, 200))
            text = f"第{i}号简讯：青石镇今年修建道路{i % 17 + 1}公里。{tail}。"
            fh.write(json.dumps({"id": f"r{i}", "title": f"简讯{i}", "text": text}, ensure_ascii=False) + "\n")


def test_progress_reports_bytes_of_a_streamed_file(tmp_path: Path, fake_embedder) -> None:
    records = tmp_path / "briefs.jsonl.xz"
    write_records(records, 700)  # three batches
    index = Index.create_or_open(tmp_path / "idx", make_manifest(fake_embedder.model_id, fake_embedder.dim, "test"))
    events = []
    report = Ingestor(index, fake_embedder, progress=events.append).run([records, SAMPLE])
    index.close()
    assert len(report.ingested) == 5
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    total = records.stat().st_size + sum(p.stat().st_size for p in SAMPLE.glob("*.txt"))
    assert {e.total_bytes for e in events} == {total}
    streamed = [e for e in events if e.name == records.name]
    assert len({e.done_bytes for e in streamed}) >= 3  # moved with the compressed file
    assert all(0 < e.done_bytes <= records.stat().st_size for e in streamed)
    assert events[-1].chunks == report.chunks and events[-1].eta_seconds == 0
    assert events[-1].stage == "bm25" and {e.stage for e in events[:-1]} == {"files"}


def test_cli_logs_progress_with_eta_when_not_a_terminal(tmp_path: Path, monkeypatch) -> None:
    import rag.cli.progress

    records = tmp_path / "briefs.jsonl.xz"
    write_records(records, 600)
    monkeypatch.setattr(rag.cli.progress, "LOG_EVERY", 0.0)
    result = runner.invoke(app, ["ingest", str(records), "--index", str(tmp_path / "i"), "--lexical-only", "--json"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("ingest briefs.jsonl.xz")]
    assert len(lines) >= 3 and "100.0%" in lines[-1]
    assert result.stderr.splitlines()[-1].startswith("ingest: files done (")
    assert all("chunks/s" in ln and "ETA" in ln for ln in lines)
    assert json.loads(result.stdout)["articles"] == 600


def test_subset_grows_without_repeating_articles(tmp_path: Path) -> None:
    from rag.evaluation.subset import subset_ids, write_subset

    corpus = tmp_path / "news.jsonl.xz"
    with lzma.open(corpus, "wt", encoding="utf-8") as fh:
        for i in range(50):
            fh.write(json.dumps({"id": f"n{i}", "text": f"第{i}条"}) + "\n")
    first = write_subset(corpus, {"n3", "n7"}, 10, 1, tmp_path / "a.jsonl")
    assert first["articles"] == 12 and first["gold_missing"] == 0
    more = write_subset(
        corpus, {"n3", "n7"}, 20, 2, tmp_path / "b.jsonl", exclude=subset_ids(tmp_path / "a.jsonl"), with_gold=False
    )
    a, b = subset_ids(tmp_path / "a.jsonl"), subset_ids(tmp_path / "b.jsonl")
    assert len(b) == 20 and not a & b and not {"n3", "n7"} & b
    assert more["excluded"] == 10 and more["corpus_articles"] == 50
