"""The façade every face uses (CLI, UI, evaluation): ingest, search, ask, stats.

One Assistant answers many threads at once (``rag serve``): questions read ``index``, which
each thread reads through its own SQLite connection and over one published generation of the
search files (rag.store.sharing); models and retrievers are made once, under a lock.  Writes
(ingest, retag, delete, reindex, repair) take turns on ``write_lock`` and go through a store
of their own; questions go on meanwhile and see a write once it is committed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from rag.assistant_archive import ArchiveMixin
from rag.chunking import CHUNKER_VERSION
from rag.models import Answer, Filters, Hit, InputError, Turn
from rag.retrieval.pipeline import Retrieval, RetrievalPipeline
from rag.settings import Settings

MAX_K = 100
OCR_CACHE = "ocr-cache"  # in the index folder: each scan or PDF page's OCR boxes (an ingest resumes from them)
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


class _Deferred:
    """An object made on first use (the embedding model, when ``rag repair`` must re-embed)."""

    def __init__(self, make: Callable[[], object]) -> None:
        self._make = make

    def __getattr__(self, name: str):
        return getattr(self._make(), name)


class Assistant(ArchiveMixin):
    """Owns the settings, the index and the (lazily loaded) embedding model."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.load()
        self._embedder = None
        self._index = None
        self._retrievers: dict[str, object] = {}
        self._generators: dict[str, object] = {}
        self._pipelines: dict[str, RetrievalPipeline] = {}
        self._making = threading.RLock()  # one thread makes what is made on first use
        self._turns: dict[int, threading.Lock] = {}  # generators that answer one question at a time
        self.write_lock = threading.Lock()  # one write of this process at a time
        self.on_wait: Callable[[str], None] | None = None  # told (a message) when a write waits for another writer

    # ---- resources -----------------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from rag.embeddings import load_embedder

            with self._making:
                if self._embedder is None:
                    s = self.settings
                    self._embedder = load_embedder(
                        s.embedding_model, s.model_cache, s.embed_batch, s.query_encoder, s.passage_encoder
                    )
        return self._embedder

    @property
    def location(self):
        """Where the index lives (rag.store.factory: the embedded folder or Milvus)."""
        from rag.store.factory import StoreLocation

        return StoreLocation.of(self.settings)

    def _open(self, checked: bool = True, on_wait=None):
        s = self.settings
        expected = {"model_id": s.embedding_model, "chunker_version": CHUNKER_VERSION} if checked else None
        return self.location.open(expected, wait=s.write_wait, on_wait=on_wait or self.on_wait)

    @property
    def index(self):
        """The index, opened read-write and checked against the configured model."""
        if self._index is None:
            with self._making:
                if self._index is None:
                    self._index = self._open()
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
        self._retrievers.clear()
        self._pipelines.clear()

    # ---- ingest --------------------------------------------------------------------------
    def ingest(self, paths: Sequence[Path], rebuild: bool = False, progress=None, on_wait=None):
        """Add files through a writer of its own (its own connection and write lock): questions
        on ``self.index`` go on meanwhile and see the new articles once they are committed.
        ``on_wait(message)`` is told when another writer holds the index."""
        with self.writing(on_wait):
            return self._ingest(paths, rebuild, progress, on_wait)

    def _ingest(self, paths: Sequence[Path], rebuild: bool, progress, on_wait):
        from rag.embeddings import LEXICAL_ONLY, load_embedder
        from rag.ingest.pipeline import Ingestor
        from rag.store.schema import make_manifest

        where = self.location
        where.check()
        if rebuild:
            self.close()
        # a damaged index fails here, in one line, before the model loads
        lexical = not rebuild and where.exists() and where.peek().get("dim") == "0"
        # an index keeps the kind it was created with; --lexical-only loads no model at all
        embedder = load_embedder(LEXICAL_ONLY, self.settings.model_cache) if lexical else self.embedder
        manifest = make_manifest(
            embedder.model_id, embedder.dim, CHUNKER_VERSION, embedder.query_prefix, embedder.document_prefix
        )
        writer = where.create_or_open(
            manifest, rebuild=rebuild, wait=self.settings.write_wait, on_wait=on_wait or self.on_wait
        )
        try:
            ingestor = Ingestor(
                writer,
                embedder,
                self.settings.chunk_min,
                self.settings.chunk_max,
                progress,
                ocr_cache=where.folder / OCR_CACHE,
                ocr_workers=self.settings.ocr_workers,
            )
            report = ingestor.run(paths)
            self._retag_from_sidecar(writer, report.ingested)
            return report
        finally:
            writer.close()

    def reindex(self) -> int:
        """Relearn the archive lexicon, re-cut every chunk, rebuild BM25 and fit the vector
        index to the archive's size (``rag reindex``); returns the lexicon's size."""
        with self.writing():
            self.close()
            with self._open(checked=False) as index:
                return index.relearn_lexicon()

    def repair(self, on_wait=None) -> dict:
        """Re-embed chunks without vectors from SQLite's text, drop stray vectors, rebuild
        BM25 (``rag repair``); returns what was found and done."""
        with self.writing(on_wait):
            self.close()
            index = self._open(on_wait=on_wait)  # the same model check as for questions: re-embedding needs it
            try:
                found = index.problems()
                # the model loads only if something has to be re-embedded
                done = index.repair(None if index.lexical_only else _Deferred(lambda: self.embedder))
                return {"found": found, **done, "problems": index.problems()}
            finally:
                index.close()

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
        if key not in self._retrievers:
            if key != "bm25":
                self.index.require_vectors()  # a lost vectors file: `rag repair`, before the model loads
            with self._making:
                if key not in self._retrievers:
                    embedder = None if key == "bm25" else self.embedder
                    weights = {"dense": self.settings.rrf_weight_dense, "bm25": self.settings.rrf_weight_bm25}
                    self._retrievers[key] = make_retriever(
                        key, self.index, embedder, rrf_k=self.settings.rrf_k, weights=weights
                    )
        return self._retrievers[key]

    @property
    def reranker(self):
        """The configured second stage (None when ``settings.reranker`` is empty)."""
        if not hasattr(self, "_reranker"):
            from rag.retrieval.rerank import make_reranker

            with self._making:
                if not hasattr(self, "_reranker"):
                    self._reranker = make_reranker(self.settings.reranker)
        return self._reranker

    def generator(self, name: str | None = None):
        from rag.generation import make_generator

        key = (name or self.settings.generator).lower()
        if key not in self._generators:
            with self._making:
                if key not in self._generators:
                    self._generators[key] = make_generator(key, self.settings)
        return self._generators[key]

    def check_question(self, question: str, k: int) -> str:
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
        if not 1 <= k <= MAX_K:
            raise InputError(f"k must be between 1 and {MAX_K}, got {k}", f"段落数 k 应在 1 到 {MAX_K} 之间，收到 {k}")
        return question

    def search(
        self, query: str, k: int | None = None, retriever: str | None = None, filters: Filters | None = None
    ) -> list[Hit]:
        return self.retrieve(query, k, retriever, filters).hits

    def explain(self, hit: Hit) -> dict[str, float]:
        """Why a hit ranks where it does: with the learned ranker each feature's contribution to
        its score (largest first); otherwise the scores each step gave it."""
        explain = getattr(self.reranker, "explain", None)
        parts = explain(hit) if explain else {}
        return parts or {k: v for k, v in hit.scores.items() if not k.startswith("feature:")}

    def pipeline(self, retriever: str | None = None) -> RetrievalPipeline:
        """The retrieve step for a first-stage retriever (rag.retrieval.pipeline)."""
        key = (retriever or self.settings.retriever).lower()
        if key not in self._pipelines:
            from rag.retrieval.pipeline import PipelineOptions, RetrievalPipeline

            with self._making:
                if key not in self._pipelines:
                    self._pipelines[key] = RetrievalPipeline(
                        self.index, self.retriever(key), self.reranker, PipelineOptions.from_settings(self.settings)
                    )
        return self._pipelines[key]

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
        question = self.check_question(question, k)
        standalone = self._rewrite(question, history, generator) if history else question
        found = self.pipeline(retriever).run(standalone, k, filters)
        found.query = standalone if standalone != question else ""
        return found

    def _rewrite(self, question: str, history: Sequence[Turn], generator: str | None) -> str:
        """An LLM generator rewrites follow-ups itself; the rules are the fallback."""
        from rag.text.followup import rewrite

        gen = self.generator(generator)
        if hasattr(gen, "rewrite_question"):
            try:
                with self._turn_of(gen):
                    return gen.rewrite_question(question, history) or rewrite(question, history)
            except Exception:  # noqa: BLE001 - a failing LLM must not stop the answer
                pass
        return rewrite(question, history)

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
        answer = None
        for piece in self.stream(question, k, history, filters, retriever, generator, depth):
            if isinstance(piece, Answer):
                answer = piece
        assert answer is not None
        return answer

    def stream(
        self,
        question: str,
        k: int | None = None,
        history: Sequence[Turn] = (),
        filters: Filters | None = None,
        retriever: str | None = None,
        generator: str | None = None,
        depth: int = 0,
    ) -> Iterator[Retrieval | str | Answer]:
        """Yield the ``Retrieval`` (rewritten query, filters read from the question, hits),
        then answer text as it is produced, then the final ``Answer`` with timings.

        The answer is generated from the top ``k`` articles' passages (each hit's best one or
        two, ``Hit.passages``; ``ISSUE_PASSAGES`` articles for a question about what an issue
        printed: its answer lists that issue's articles). With ``depth`` > k
        (evaluation) ``depth`` passages are retrieved and all of them end up in
        ``Answer.hits``.
        """
        from rag.text.followup import needs_context
        from rag.text.intent import read_intent

        k = self.settings.k if k is None else k
        t0 = time.perf_counter()
        if not history and (back := needs_context(question)):
            yield Retrieval([])  # "那温县呢？" opening a conversation: ask what it refers to
            yield Answer(question.strip(), back, refused=True, reason="需要上下文")
            return
        gen = self.generator(generator)
        reads = max(k, ISSUE_PASSAGES) if read_intent(question).kind == "paper_issue" else k
        fetch = max(reads, depth if depth > k > 0 else k)
        found = self.retrieve(question, fetch, retriever, filters, history, generator)
        hits = found.hits
        t1 = time.perf_counter()
        yield found
        read = [p for h in hits[:reads] for p in h.passages()]  # each article's best passages
        with self._turn_of(gen):  # (a Lock, not an RLock: it may be released in another thread)
            for piece in gen.stream(found.query or question.strip(), read, history):
                if isinstance(piece, Answer):
                    piece.question = question.strip()
                    piece.query, piece.applied = found.query, found.applied
                    if not getattr(gen, "verifies_citations", False):
                        _verify_in_place(piece, read)
                    t2 = time.perf_counter()
                    piece.timings.update({"retrieve": t1 - t0, "generate": t2 - t1, "total": t2 - t0})
                    piece.hits = hits  # the articles found (the passages read are under each: Hit.more)
                yield piece

    def _turn_of(self, gen):
        """A lock for a generator that must not answer two questions at once (a local model in
        this process: ``llamacpp``, or a plugin saying ``thread_safe = False``), else nothing."""
        if getattr(gen, "thread_safe", getattr(gen, "name", "") != "llamacpp"):
            return contextlib.nullcontext()
        with self._making:
            return self._turns.setdefault(id(gen), threading.Lock())

    def warm(self) -> None:
        """Load what the first question would (the index, the embedding model, the tokenizer's
        dictionary, the answer models) by answering one question, so that it is answered at once.
        The answer is extractive: warming up never calls an LLM server (its generator is only made)."""
        probe = (self.examples(1) or ["资料库里有什么？"])[0]
        self.generator()
        self.ask(probe, self.settings.k, generator="extractive")
