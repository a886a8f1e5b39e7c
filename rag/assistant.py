"""The question half of the façade every face uses (CLI, UI, evaluation): a question read
once (rag.text.asked.Question), retrieved, answered as a typed stream (rag.models.AnswerStream).

One Assistant answers many threads at once (``rag serve``): questions read the shared index
(rag.store_handle), which each thread reads through its own SQLite connection and over one
published generation of the search files (rag.store.sharing); models and retrievers are made
once (``MadeOnce``).  ``archive`` (rag.archive.Archive) is the other half over the same store
handle: what the archive holds and every write to it.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.archive import Archive, IndexStoreError
from rag.models import Answer, AnswerStream, Filters, Hit, InputError, Retrieval, Turn
from rag.retrieval.pipeline import PipelineOptions, RetrievalPipeline
from rag.settings import Settings
from rag.store_handle import MadeOnce, OverHandle, StoreHandle
from rag.text.asked import Question, read_question

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from rag.generation.base import Generator
    from rag.retrieval.base import Reranker


def generators_available() -> list[str]:
    """The generator names a question can choose: built-ins and installed plugins."""
    from rag.generation import available

    return available()


ISSUE_PASSAGES = 20  # passages read for "what did the paper print …" (one issue's articles)


def _verify_in_place(answer: Answer, hits: list[Hit]) -> None:
    """Check a plugin generator's citations like our own (rag.generation.verify)."""
    from rag.generation.verify import verify
    from rag.models import REFUSAL

    if answer.refused:
        return
    checked = verify(answer.text, hits, answer.question)
    if checked.empty:
        answer.text, answer.citations, answer.refused = REFUSAL, [], True
        answer.reason = "回答无法由资料证实"
    else:
        answer.text, answer.citations = checked.text, checked.citations


class Assistant(OverHandle):
    """Questions over one index; ``archive`` holds and writes it (same store handle)."""

    def __init__(self, settings: Settings | None = None, handle: StoreHandle | None = None) -> None:
        self.handle = handle or StoreHandle(settings)
        self.archive = Archive(self.handle)
        self._made = MadeOnce()  # retrievers, pipelines, the reranker, generators, turn locks
        self._examples: tuple[object, list[str]] = (None, [])  # (the newest articles, their examples)
        self._checking: object = None  # the newest articles whose examples are being checked
        self._examples_lock = threading.Lock()
        self.handle.on_close(self._forget_index_views)

    # ---- resources -----------------------------------------------------------------------
    @property
    def embedder(self):
        return self.handle.embedder

    def close(self) -> None:
        self.handle.close()

    def _forget_index_views(self) -> None:
        """The index was closed: retrievers and pipelines over it are made again on next use."""
        self._made.drop(keep=lambda key: key[0] not in ("retriever", "pipeline"))

    def for_serving(self) -> Assistant:
        """Ready to answer many readers at once: each question searches FAISS on one thread
        (questions run in threads of their own: rag/store/vectors.py)."""
        from rag.store.vectors import search_threads

        search_threads(1)
        return self

    # ---- query ---------------------------------------------------------------------------
    def retriever(self, name: str | None = None):
        from rag.retrieval import make_retriever

        key = (name or self.settings.retriever).lower()
        if self.index.lexical_only and key != "bm25":
            if key == "dense":
                raise ValueError(
                    f"index {self.location} is lexical-only (built with "
                    "--lexical-only): it has no vectors; use --retriever bm25"
                )
            if key == "hybrid":
                key = "bm25"  # nothing to fuse with
        if key != "bm25" and self._made.peek(("retriever", key)) is None:
            self.index.require_vectors()  # a lost vectors file: `rag repair`, before the model loads

        def make():
            s = self.settings
            embedder = None if key == "bm25" else self.embedder
            weights = {"dense": s.rrf_weight_dense, "bm25": s.rrf_weight_bm25}
            return make_retriever(key, self.index, embedder, rrf_k=s.rrf_k, weights=weights)

        return self._made.get(("retriever", key), make)

    @property
    def reranker(self) -> Reranker | None:
        """The configured second stage (None when ``settings.reranker`` is empty)."""

        def make():
            from rag.retrieval.rerank import make_reranker

            return make_reranker(self.settings.reranker)

        return self._made.get(("reranker",), make)

    def use_generator(self, name: str, generator: Generator) -> None:
        """Answer with ``generator`` (an instance, e.g. one built with other options) under ``name``."""
        self._made.put(("generator", name.lower()), generator)

    def generator(self, name: str | None = None) -> Generator:
        from rag.generation import make_generator

        key = (name or self.settings.generator).lower()
        return self._made.get(("generator", key), lambda: make_generator(key, self.settings))

    def check_question(self, question: str, k: int) -> str:
        """The question as it will be read (spaces collapsed, unprintable characters dropped);
        InputError for an empty or over-long question or a k out of range."""
        question = " ".join((question or "").split())
        question = "".join(c for c in question if c.isprintable())
        limit = self.settings.max_question_chars
        if not question:
            raise InputError("the question is empty", "问题是空的，请输入要问的内容")
        if len(question) > limit:
            raise InputError(
                f"the question is {len(question)} characters long; the limit is {limit}",
                f"问题太长了（{len(question)} 个字，最多 {limit} 个字），请精简后再问",
            )
        top = self.settings.max_k
        if not 1 <= k <= top:
            raise InputError(f"k must be between 1 and {top}, got {k}", f"段落数 k 应在 1 到 {top} 之间，收到 {k}")
        return question

    def search(
        self, query: str, k: int | None = None, retriever: str | None = None, filters: Filters | None = None
    ) -> list[Hit]:
        return self.retrieve(query, k, retriever, filters).hits

    def explain(self, hit: Hit) -> dict[str, float]:
        """Why a hit ranks where it does: with the learned ranker each feature's contribution to
        its score (largest first); otherwise the scores each step gave it."""
        parts = self.reranker.explain(hit) if self.reranker else {}
        return parts or {k: v for k, v in hit.scores.items() if not k.startswith("feature:")}

    def pipeline(self, retriever: str | None = None) -> RetrievalPipeline:
        """The retrieve step for a first-stage retriever (rag.retrieval.pipeline)."""
        key = (retriever or self.settings.retriever).lower()
        index = self.index  # (reopened when it was rebuilt under us; the views over the old one are dropped)

        def make():
            options = PipelineOptions.from_settings(self.settings)
            return RetrievalPipeline(index, self.retriever(key), self.reranker, options)

        return self._made.get(("pipeline", key), make)

    def _asked(self, question: str, k: int, history: Sequence[Turn], generator: str | None) -> tuple[str, Question]:
        """(the checked question, the standalone question read once): checked (``check_question``),
        made standalone when it follows up on ``history``, then read (rag.text.asked)."""
        checked = self.check_question(question, k)
        return checked, read_question(self._standalone(checked, history, generator))

    def _standalone(self, question: str, history: Sequence[Turn], generator: str | None) -> str:
        """A follow-up rewritten against ``history``: by the generator (an LLM), else by the rules."""
        from rag.text.followup import rewrite

        if not history:
            return question
        gen = self.generator(generator)
        try:
            with self._turn_of(gen):
                return gen.rewrite_question(question, history) or rewrite(question, history)
        except Exception:  # noqa: BLE001 - a failing LLM must not stop the answer
            return rewrite(question, history)

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        retriever: str | None = None,
        filters: Filters | None = None,
        history: Sequence[Turn] = (),
        generator: str | None = None,
    ) -> Retrieval:
        """Rewrite a follow-up, then the retrieve step: normalise, apply filters the question
        states, search, rerank and make the top k distinct."""
        k = self.settings.k if k is None else k
        checked, asked = self._asked(question, k, history, generator)
        return self._search(asked, checked, k, retriever, filters)

    def _search(self, asked: Question, checked: str, k: int, retriever: str | None, filters: Filters | None):
        found = self.pipeline(retriever).run(asked, k, filters)
        found.query = asked.text if asked.text != checked else ""  # a follow-up made standalone
        return found

    def ask(
        self,
        question: str,
        k: int | None = None,
        history: Sequence[Turn] = (),
        filters: Filters | None = None,
        retriever: str | None = None,
        generator: str | None = None,
        depth: int = 0,
    ) -> Answer:
        return self.stream(question, k, history, filters, retriever, generator, depth).answer()

    def stream(
        self,
        question: str,
        k: int | None = None,
        history: Sequence[Turn] = (),
        filters: Filters | None = None,
        retriever: str | None = None,
        generator: str | None = None,
        depth: int = 0,
    ) -> AnswerStream:
        """Retrieve now, generate as the stream is read: ``retrieval`` (rewritten query,
        filters read from the question, hits), then ``tokens()``, then ``answer()`` with
        timings (rag.models.AnswerStream).

        The answer is generated from the top ``k`` articles' passages (each hit's best one or
        two, ``Hit.passages``; ``ISSUE_PASSAGES`` articles for a question about what an issue
        printed: its answer lists that issue's articles). With ``depth`` > k
        (evaluation) ``depth`` passages are retrieved and all of them end up in
        ``Answer.hits``.
        """
        from rag.text.followup import needs_context

        k = self.settings.k if k is None else k
        t0 = time.perf_counter()
        if not history and (back := needs_context(question)):  # "那温县呢？" opening a conversation
            return AnswerStream.of(Retrieval([]), Answer(question.strip(), back, refused=True, reason="需要上下文"))
        gen = self.generator(generator)
        checked, asked = self._asked(question, k, history, generator)
        reads = max(k, ISSUE_PASSAGES) if asked.intent.kind == "paper_issue" else k
        found = self._search(asked, checked, max(reads, depth if depth > k > 0 else k), retriever, filters)
        t1 = time.perf_counter()
        read = [p for h in found.hits[:reads] for p in h.passages()]  # each article's best passages

        def finish(answer: Answer) -> Answer:
            answer.question = question.strip()
            answer.query, answer.applied = found.query, found.applied
            if not gen.verifies_citations:
                _verify_in_place(answer, read)
            t2 = time.perf_counter()
            answer.timings.update({"retrieve": t1 - t0, "generate": t2 - t1, "total": t2 - t0})
            answer.hits = found.hits  # the articles found (the passages read are under each: Hit.more)
            return answer

        return AnswerStream(found, self._in_turn(gen, asked, read, history), finish)

    def _in_turn(self, gen: Generator, asked: Question, read: list[Hit], history: Sequence[Turn]):
        """The generator's stream, in its turn when it answers one question at a time."""
        with self._turn_of(gen):  # (a Lock, not an RLock: it may be released in another thread)
            yield from gen.stream(asked, read, history)

    def _turn_of(self, gen: Generator):
        """A lock for a generator that must not answer two questions at once (``thread_safe``
        False: a local model in this process), else nothing."""
        if gen.thread_safe:
            return contextlib.nullcontext()
        return self._made.get(("turn", id(gen)), threading.Lock)

    # ---- the archive, as questions see it --------------------------------------------------
    def examples(self, n: int = 3, checked: bool = True, wait: bool = False) -> list[str]:
        """Example questions from the archive's newest headlines (rag.examples), each one that
        its own article answers (an extractive answer citing it first). The check asks up to
        ``rag.examples.CHECKED`` questions, so it is kept until the newest articles change; when
        they have, unchecked ones are given now and the check runs in the background (``wait``:
        here). ``checked=False``: unchecked, asking nothing (a page built before the models load)."""
        from rag.examples import example_questions

        heads = self.index.articles_on(None, None, 200)
        key = (n, tuple(heads))
        if self._examples[0] == key:
            return list(self._examples[1])
        if not checked:
            return example_questions(heads, n)
        if wait:
            self._check_examples(key, heads, n)
            return list(self._examples[1])
        with self._examples_lock:
            running = self._checking == key
            self._checking = key
        if not running:
            threading.Thread(target=self._check_examples, args=(key, heads, n), name="examples", daemon=True).start()
        return example_questions(heads, n)

    def _check_examples(self, key: object, heads: list, n: int) -> None:
        from rag.examples import example_questions

        def answered(question: str, article_id: int) -> bool:
            a = self.ask(question, self.settings.k, generator="extractive")
            return not a.refused and bool(a.citations) and a.citations[0].hit.article.id == article_id

        try:
            self._examples = (key, example_questions(heads, n, answered))
        except (IndexStoreError, OSError, sqlite3.Error, RuntimeError) as exc:  # closed or damaged meanwhile
            log.warning("checking the example questions failed: %s", exc)

    def check_filters(self, filters: Filters | None):
        """Which filter matches no article of the archive (rag.filter_check), for a filtered
        question that found nothing."""
        from rag.filter_check import check_filters

        return check_filters(filters, self.archive.catalog(), self.archive.facets()["sections"])

    def filters_in_the_way(self, refused: Answer, filters: Filters | None, k: int | None = None) -> list[str]:
        """For a refusal under filters (chosen, or read from the question): the kinds (date,
        paper, section) each of which, dropped alone, lets the question be answered (rag.filter_check)."""
        from rag.filter_check import in_the_way

        def answered(relaxed: Filters) -> bool:
            return not self.ask(refused.query or refused.question, k, filters=relaxed, generator="extractive").refused

        return in_the_way(refused, filters, answered)

    def warm(self) -> None:
        """Load what the first question would (the index, the embedding model, the tokenizer's
        dictionary, the answer models) by answering one question, so that it is answered at once.
        The answer is extractive: warming up never calls an LLM server (its generator is only made).
        The chat's examples are then checked, for the first page that asks for them."""
        probe = (self.examples(1, checked=False) or ["资料库里有什么？"])[0]
        self.generator()
        self.ask(probe, self.settings.k, generator="extractive")
        self.examples(wait=True)
