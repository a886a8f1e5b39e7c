"""What every LLM generator shares: the evidence gate, the prompt, sentence-by-sentence citation
checking while the reply streams in, refusal detection, and the extractive fallback.

A transport (``OpenAIGenerator``, ``LlamaCppGenerator``) only implements ``_chat(messages)``,
yielding text deltas and raising ``LLMError`` on any failure.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence

from rag.models import REFUSAL, Answer, Hit, Turn
from rag.text.asked import Question

from .base import BaseGenerator
from .candidates import evidence_coverage
from .extractive import ExtractiveGenerator
from .prompt import build_messages, says_refusal
from .verify import SUPPORT_THRESHOLD, CitationChecker, split_claims

# Below this coverage of the question's content words by all passages together (see
# extractive.evidence_coverage) the evidence is too weak to ask a model: refuse at once.
# Low on purpose: on dev.jsonl answerable questions cover 0.18–1.0 and unanswerable ones
# 0.46–0.81, so coverage only catches passages that share (almost) nothing with the question.
DEFAULT_GATE = 0.15
REWRITE_PROMPT = (
    "把用户的追问结合前面的对话改写成一个完整、不依赖上下文的问题，保留原问题中的地名、时间和"
    "数量要求。只输出改写后的一个问题，不要回答它。"
)
_OPEN_TAIL = re.compile(r"^[\s\[\]\d]*$")  # nothing yet, or (part of) a marker still arriving


class LLMError(RuntimeError):
    """The model could not be reached or answered with something unusable."""


class GeneratorConfigError(ValueError):
    """A generator cannot be built as configured (missing extra, file, URL …)."""


class LLMGenerator(BaseGenerator):
    """Base class: subclasses set ``name`` and implement ``_chat``."""

    name = "llm"
    verifies_citations = True  # the Assistant need not check this generator's markers again

    def __init__(
        self,
        gate: float = DEFAULT_GATE,
        threshold: float = SUPPORT_THRESHOLD,
        fallback: ExtractiveGenerator | None = None,
        reader: bool = False,
    ) -> None:
        self.gate, self.threshold = gate, threshold
        self.fallback = fallback or ExtractiveGenerator(reader=reader)
        self._constraints = ExtractiveGenerator(reader=reader)  # the gate: the extractive decision

    def _chat(self, messages: list[dict[str, str]]) -> Iterator[str]:
        raise NotImplementedError

    def rewrite_question(self, question: str, history: Sequence[Turn]) -> str:
        """A follow-up made standalone by the model; the rules (rag.text.followup) when
        the model fails or replies with something that is not one plausible question."""
        from rag.text.followup import is_followup, rewrite

        rules = rewrite(question, history)
        if not history or not (is_followup(question) or len(question) <= 10):
            return rules
        lines = [f"问：{t.query or t.question}\n答：{t.answer[:200]}" for t in history[-3:]]
        messages = [
            {"role": "system", "content": REWRITE_PROMPT},
            {"role": "user", "content": "对话：\n" + "\n".join(lines) + f"\n追问：{question}"},
        ]
        try:
            reply = "".join(self._chat(messages)).strip().splitlines()
        except LLMError:
            return rules
        text = re.sub(r"^(?:改写后的问题|问题|改写)[:：]\s*", "", reply[0].strip()) if reply else ""
        plausible = (
            text
            and len(reply) <= 2
            and len(text) <= 3 * len(question) + 60
            and re.search(r"[\u4e00-\u9fff]", text)
            and not says_refusal(text)
        )
        return text if plausible else rules

    def stream(self, question: Question, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        """Yield each verified sentence as soon as it is complete, then the final Answer."""
        t0 = time.perf_counter()
        hits = list(hits)
        refusal = self._gate(question, hits)
        if refusal is not None:
            yield refusal
            return
        checker = CitationChecker(hits, question.text, self.threshold)
        raw, buffer, first_token = [], "", None
        try:
            for delta in self._chat(build_messages(question.text, hits, history)):
                if first_token is None:
                    first_token = time.perf_counter() - t0
                raw.append(delta)
                buffer += delta
                done, buffer = _complete_sentences(buffer)
                yield from self._checked(checker, done)
            yield from self._checked(checker, buffer)
        except LLMError as exc:
            yield self._fall_back(question, hits, history, f"大模型调用失败（{exc}），以下为摘录式回答")
            return
        reply = "".join(raw)
        verified = checker.finish()
        if says_refusal(reply) and verified.empty:
            ans = Answer(question=question.text, text=REFUSAL, refused=True, reason="模型判断资料不能回答", hits=hits)
        elif verified.empty:
            yield self._fall_back(question, hits, history, "大模型的回答无法由资料证实，以下为摘录式回答")
            return
        else:
            ans = Answer(question=question.text, text=verified.text, citations=verified.citations, hits=hits)
            if verified.unsupported or verified.removed_markers:
                ans.reason = (
                    f"已删除 {len(verified.unsupported)} 句资料不支持的内容、{len(verified.removed_markers)} 个无效引用"
                )
        ans.timings.update(
            {"generate": time.perf_counter() - t0, **({"first_token": first_token} if first_token else {})}
        )
        ans.raw = reply
        yield ans

    def _gate(self, question: Question, hits: list[Hit]) -> Answer | None:
        """The fixed refusal when the passages are too weak to send to a model."""
        if not hits:
            return Answer(question=question.text, text=REFUSAL, refused=True, reason="没有检索到相关段落", hits=hits)
        top = evidence_coverage(question, hits)
        if top < self.gate:
            return Answer(
                question=question.text,
                text=REFUSAL,
                refused=True,
                hits=hits,
                reason=f"检索到的段落只覆盖了问题要点的{top:.0%}（阈值{self.gate:.0%}）",
            )
        # what the question asks (its places, ordinal, the number or date, the thing counted) must
        # be in the passages: the extractive checks, without their wording floor
        checked = self._constraints.answer(question, hits)
        if checked.refused:
            checked.reason = checked.reason or "资料不能回答"
            return checked
        return None

    def _checked(self, checker: CitationChecker, text: str) -> Iterator[str]:
        for body, markers in split_claims(text):
            if says_refusal(body):
                continue  # decided at the end: the fixed sentence, never a paraphrase of it
            rendered = checker.check(body, markers)
            if rendered:
                yield rendered

    def _fall_back(self, question: Question, hits: list[Hit], history: Sequence[Turn], notice: str) -> Answer:
        ans = self.fallback.answer(question, hits, history)
        ans.notice = notice
        return ans


def _complete_sentences(buffer: str) -> tuple[str, str]:
    """Split off the sentences that can no longer change: a sentence whose end punctuation is
    followed by something other than (part of) a ``[n]`` marker."""
    cut = 0
    for m in re.finditer(r"[。！？!?；;\n]+[”’」』\"')）]*", buffer):
        rest = buffer[m.end() :]
        tail = re.match(r"(?:\s*\[\d+\])*", rest)
        assert tail is not None  # a starred group always matches
        after = rest[tail.end() :]
        if after and not _OPEN_TAIL.match(after):
            cut = m.end() + tail.end()
    return buffer[:cut], buffer[cut:]
