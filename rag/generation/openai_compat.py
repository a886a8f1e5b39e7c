"""Any server speaking OpenAI chat completions (Ollama, vLLM, llama.cpp server, DeepSeek, Qwen …).

Standard library HTTP only; streaming over server-sent events, or one JSON reply. Connection
errors, timeouts, HTTP 429 and 5xx are retried (bounded, with backoff) before the first token;
everything else becomes ``LLMError`` at once and the base class falls back to extractive.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from .llm import GeneratorConfigError, LLMError, LLMGenerator

RETRY_STATUS = {429, 500, 502, 503, 504}


class OpenAIGenerator(LLMGenerator):
    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 60.0,
        retries: int = 2,
        max_tokens: int = 512,
        temperature: float = 0.1,
        stream: bool = True,
        backoff: float = 0.5,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if not base_url.startswith(("http://", "https://")):
            raise GeneratorConfigError(f"llm_base_url must start with http:// or https://, got {base_url!r}")
        if not model:
            raise GeneratorConfigError("no LLM model name: set llm_model (RAG_LLM_MODEL or rag.toml)")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key = model, api_key
        self.timeout, self.retries, self.backoff = timeout, max(0, retries), backoff
        self.max_tokens, self.temperature, self.streaming = max_tokens, temperature, stream

    @classmethod
    def from_settings(cls, settings) -> OpenAIGenerator:
        return cls(
            settings.llm_base_url,
            settings.llm_model,
            settings.llm_api_key,
            settings.llm_timeout,
            settings.llm_retries,
            settings.llm_max_tokens,
            settings.llm_temperature,
            settings.llm_stream,
            reader=settings.reader,
        )

    def _request(self, messages: list[dict[str, str]]) -> urllib.request.Request:
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stream": self.streaming,
        }
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if self.streaming else "application/json",
        }
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return urllib.request.Request(self.url, json.dumps(body, ensure_ascii=False).encode("utf-8"), headers)

    def _open(self, messages: list[dict[str, str]]):
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                return urllib.request.urlopen(self._request(messages), timeout=self.timeout)
            except urllib.error.HTTPError as exc:
                detail = exc.read(300).decode("utf-8", "replace").strip()
                last = f"HTTP {exc.code} {detail}".strip()
                if exc.code not in RETRY_STATUS:
                    break
            except urllib.error.URLError as exc:
                last = f"无法连接 {self.url}: {getattr(exc.reason, 'strerror', None) or exc.reason}"
            except TimeoutError:
                last = f"{self.timeout:g} 秒内没有响应"
            except OSError as exc:
                last = f"连接错误: {exc}"
        raise LLMError(last)

    def _chat(self, messages: list[dict[str, str]]) -> Iterator[str]:
        resp = self._open(messages)
        try:
            with resp:
                if self.streaming:
                    yield from _sse_deltas(resp)
                else:
                    yield _message_content(_json(resp.read()))
        except TimeoutError:
            raise LLMError(f"回答中途超时（{self.timeout:g} 秒）") from None
        except OSError as exc:
            raise LLMError(f"连接中断: {exc}") from None


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise LLMError(f"服务返回的不是 JSON: {data[:120]!r}") from None


def _message_content(obj: Any) -> str:
    try:
        content = obj["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LLMError(f"回复格式不对（缺少 choices[0].message.content）: {str(obj)[:120]}") from None
    if not isinstance(content, str):
        raise LLMError("回复内容不是文本")
    return content


def _sse_deltas(resp) -> Iterator[str]:
    """Text deltas of a chat-completions event stream, until ``data: [DONE]`` or the end."""
    got_event = False
    for raw in resp:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        obj = _json(payload.encode("utf-8"))
        if isinstance(obj, dict) and "error" in obj:
            raise LLMError(f"服务报错: {str(obj['error'])[:200]}")
        try:
            delta = obj["choices"][0].get("delta") or {}
        except (KeyError, IndexError, TypeError, AttributeError):
            raise LLMError(f"流式回复格式不对: {payload[:120]}") from None
        got_event = True
        if delta.get("content"):
            yield delta["content"]
    if not got_event:
        raise LLMError("服务没有返回任何流式内容")
