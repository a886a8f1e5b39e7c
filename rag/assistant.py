"""The façade every face uses (CLI, UI, evaluation): ingest, search, ask, stats."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from rag.chunking import CHUNKER_VERSION  # noqa: E402
from rag.models import Answer, Filters, Hit, Turn  # noqa: E402
from rag.settings import Settings  # noqa: E402

MAX_K = 100


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


class Assistant:
    """Owns the settings, the index and the (lazily loaded) embedding model."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.load()
        self._embedder = None
        self._index = None
        self._retrievers: dict[str, object] = {}
        self._generators: dict[str, object] = {}

    # ---- resources -----------------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from rag.embeddings import load_embedder

            self._embedder = load_embedder(
                self.settings.embedding_model, self.settings.model_cache, self.settings.embed_batch
            )
        return self._embedder

    def manifest(self) -> dict[str, str]:
        from rag.store.schema import make_manifest

        e = self.embedder
        return make_manifest(e.model_id, e.dim, CHUNKER_VERSION, e.query_prefix, e.document_prefix)

    @property
    def index(self):
        """The index, opened read-write and checked against the configured model."""
        if self._index is None:
            from rag.store import Index

            self._index = Index.open(
                self.settings.index,
                {"model_id": self.settings.embedding_model, "chunker_version": CHUNKER_VERSION},
            )
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
        self._retrievers.clear()

    # ---- ingest --------------------------------------------------------------------------
    def ingest(self, paths: Sequence[Path], rebuild: bool = False, progress=None):
        from rag.ingest.pipeline import Ingestor
        from rag.store import Index

        self.close()
        index = Index.create_or_open(self.settings.index, self.manifest(), rebuild=rebuild)
        self._index = index
        ingestor = Ingestor(index, self.embedder, self.settings.chunk_min, self.settings.chunk_max,
                            progress)
        return ingestor.run(paths)

    def delete(self, paths: Sequence[str]) -> int:
        removed = 0
        with self.index.batch():
            for p in paths:
                removed += self.index.delete_source(str(Path(p).resolve()))
        return removed

    # ---- query ---------------------------------------------------------------------------
    def retriever(self, name: str | None = None):
        from rag.retrieval import make_retriever

        key = (name or self.settings.retriever).lower()
        if key not in self._retrievers:
            embedder = None if key == "bm25" else self.embedder
            self._retrievers[key] = make_retriever(key, self.index, embedder, rrf_k=self.settings.rrf_k)
        return self._retrievers[key]

    def generator(self, name: str | None = None):
        from rag.generation import make_generator

        key = (name or self.settings.generator).lower()
        if key not in self._generators:
            self._generators[key] = make_generator(key, self.settings)
        return self._generators[key]

    def check_question(self, question: str, k: int) -> str:
        question = " ".join((question or "").split())
        question = "".join(c for c in question if c.isprintable())
        if not question:
            raise ValueError("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise ValueError(
                f"the question is {len(question)} characters long; the limit is "
                f"{self.settings.max_question_chars}"
            )
        if not 1 <= k <= MAX_K:
            raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
        return question

    def search(self, query: str, k: int | None = None, retriever: str | None = None,
               filters: Filters | None = None) -> list[Hit]:
        k = self.settings.k if k is None else k
        query = self.check_question(query, k)
        return self.retriever(retriever).search(query, k, filters)

    def ask(self, question: str, k: int | None = None, history: Sequence[Turn] = (),
            filters: Filters | None = None, retriever: str | None = None,
            generator: str | None = None, depth: int = 0) -> Answer:
        answer = None
        for piece in self.stream(question, k, history, filters, retriever, generator, depth):
            if isinstance(piece, Answer):
                answer = piece
        assert answer is not None
        return answer

    def stream(self, question: str, k: int | None = None, history: Sequence[Turn] = (),
               filters: Filters | None = None, retriever: str | None = None,
               generator: str | None = None, depth: int = 0) -> Iterator[str | Answer]:
        """Yield answer text as it is produced, then the final ``Answer`` with timings.

        The answer is generated from the top ``k`` passages. With ``depth`` > k
        (evaluation) ``depth`` passages are retrieved and all of them end up in
        ``Answer.hits``.
        """
        k = self.settings.k if k is None else k
        t0 = time.perf_counter()
        hits = self.search(question, max(k, depth), retriever, filters)
        t1 = time.perf_counter()
        gen = self.generator(generator)
        for piece in gen.stream(question.strip(), hits[:k], history):
            if isinstance(piece, Answer):
                if not getattr(gen, "verifies_citations", False):
                    _verify_in_place(piece, hits[:k])
                t2 = time.perf_counter()
                piece.timings.update({"retrieve": t1 - t0, "generate": t2 - t1, "total": t2 - t0})
                if len(hits) > k:
                    piece.hits = hits
            yield piece

    def stats(self) -> dict:
        return self.index.stats()
