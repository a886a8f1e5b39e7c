"""The façade every face uses (CLI, UI, evaluation): ingest, search, ask, stats."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from rag.chunking import CHUNKER_VERSION  # noqa: E402
from rag.models import Answer, Filters, Hit, Turn  # noqa: E402
from rag.settings import Settings  # noqa: E402

MAX_K = 100


@dataclass
class Retrieval:
    """What a search found, and how the question was read."""

    hits: list[Hit]
    query: str  # the standalone question when a follow-up was rewritten, else ""
    applied: list[str] = field(default_factory=list)  # filters read from the question


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
        self.on_wait = None  # told (a message) when a write waits for another process's writer

    # ---- resources -----------------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from rag.embeddings import load_embedder

            s = self.settings
            self._embedder = load_embedder(s.embedding_model, s.model_cache, s.embed_batch,
                                           s.query_encoder)
        return self._embedder

    @property
    def index(self):
        """The index, opened read-write and checked against the configured model."""
        if self._index is None:
            from rag.store import Index

            self._index = Index.open(
                self.settings.index,
                {"model_id": self.settings.embedding_model, "chunker_version": CHUNKER_VERSION},
                wait=self.settings.write_wait, on_wait=self.on_wait,
            )
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
        self._retrievers.clear()

    # ---- ingest --------------------------------------------------------------------------
    def ingest(self, paths: Sequence[Path], rebuild: bool = False, progress=None, on_wait=None):
        """Add files through a writer of its own (its own connection and write lock): questions
        on ``self.index`` go on meanwhile and see the new articles once they are committed.
        ``on_wait(message)`` is told when another writer holds the index."""
        from rag.embeddings import LEXICAL_ONLY, load_embedder
        from rag.ingest.pipeline import Ingestor
        from rag.store import Index
        from rag.store.schema import make_manifest

        from rag.store.health import check_folder

        path = self.settings.index
        check_folder(path)
        if rebuild:
            self.close()
        # a damaged index fails here, in one line, before the model loads
        lexical = not rebuild and Index.exists(path) and Index.peek(path).get("dim") == "0"
        # an index keeps the kind it was created with; --lexical-only loads no model at all
        embedder = load_embedder(LEXICAL_ONLY, self.settings.model_cache) if lexical else self.embedder
        manifest = make_manifest(embedder.model_id, embedder.dim, CHUNKER_VERSION,
                                 embedder.query_prefix, embedder.document_prefix)
        writer = Index.create_or_open(path, manifest, rebuild=rebuild,
                                      wait=self.settings.write_wait,
                                      on_wait=on_wait or self.on_wait)
        try:
            ingestor = Ingestor(writer, embedder, self.settings.chunk_min, self.settings.chunk_max,
                                progress)
            return ingestor.run(paths)
        finally:
            writer.close()

    def repair(self, on_wait=None) -> dict:
        """Re-embed chunks without vectors from SQLite's text, drop stray vectors, rebuild
        BM25 (``rag repair``); returns what was found and done."""
        from rag.ingest.pipeline import chunk_embedder
        from rag.store import Index

        self.close()
        s = self.settings  # the same model check as for questions: re-embedding needs it
        index = Index.open(s.index, {"model_id": s.embedding_model, "chunker_version": CHUNKER_VERSION},
                           wait=s.write_wait, on_wait=on_wait or self.on_wait)
        try:
            found = index.problems()
            # the model loads only if something has to be re-embedded
            embed = None if index.lexical_only else (lambda rows: chunk_embedder(self.embedder)(rows))
            done = index.repair(embed)
            return {"found": found, **done, "problems": index.problems()}
        finally:
            index.close()

    def delete(self, paths: Sequence[str]) -> int:
        """Remove sources given by path (as ingested) or by file name when that is unique.
        ValueError names any path the index does not hold (nothing is removed then)."""
        from rag.ingest.loaders import printable_path
        from rag.store import queries

        keys, unknown = [], []
        for p in paths:
            key = self.index.read(queries.find_source_path, printable_path(p),
                                  printable_path(Path(p).resolve()))
            if isinstance(key, str):
                keys.append(key)
            else:
                unknown.append(f"{p}" + (f" (matches {len(key)} sources: give the full path)"
                                         if key else ""))
        if unknown:
            raise ValueError(f"no such source in index {self.settings.index}: "
                             f"{', '.join(unknown)} (see `rag stats` or the 资料库 tab)")
        removed = 0
        with self.index.batch():
            for key in keys:
                removed += self.index.delete_source(key)
        return removed

    # ---- query ---------------------------------------------------------------------------
    def retriever(self, name: str | None = None):
        from rag.retrieval import make_retriever

        key = (name or self.settings.retriever).lower()
        if self.index.lexical_only and key != "bm25":
            if key == "dense":
                raise ValueError(f"index {self.settings.index} is lexical-only (built with "
                                 "--lexical-only): it has no vectors; use --retriever bm25")
            if key == "hybrid":
                key = "bm25"  # nothing to fuse with
        if key not in self._retrievers:
            embedder = None if key == "bm25" else self.embedder
            weights = {"dense": self.settings.rrf_weight_dense, "bm25": self.settings.rrf_weight_bm25}
            self._retrievers[key] = make_retriever(key, self.index, embedder,
                                                   rrf_k=self.settings.rrf_k, weights=weights)
        return self._retrievers[key]

    @property
    def reranker(self):
        """The configured second stage (None when ``settings.reranker`` is empty)."""
        if not hasattr(self, "_reranker"):
            from rag.retrieval.rerank import make_reranker

            self._reranker = make_reranker(self.settings.reranker)
        return self._reranker

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
        return self.retrieve(query, k, retriever, filters).hits

    def retrieve(self, question: str, k: int | None = None, retriever: str | None = None,
                 filters: Filters | None = None, history: Sequence[Turn] = (),
                 generator: str | None = None) -> Retrieval:
        """Rewrite a follow-up, normalise, apply filters the question states, search, and
        make the top k distinct.  Stated filters that leave nothing are dropped again."""
        from rag.retrieval.diversity import collapse
        from rag.retrieval.query import merge_filters, stated_filters
        from rag.text.normalize import normalize_query

        s = self.settings
        k = s.k if k is None else k
        question = self.check_question(question, k)
        self.index.refresh()  # another process may have committed (one manifest read)
        if (retriever or s.retriever).lower() != "bm25" and not self.index.lexical_only:
            self.index.require_vectors()  # a lost vectors.faiss fails loudly: `rag repair`
        standalone = self._rewrite(question, history, generator) if history else question
        query = normalize_query(standalone)
        applied: list[str] = []
        stated = None
        if s.question_filters:
            facets = self.index.facets()
            stated = stated_filters(query, facets["papers"], facets["sections"])
        merged, applied = merge_filters(filters, stated) if stated else (filters, [])
        spare = s.per_article > 0 or s.near_dup < 1 or self.reranker is not None
        fetch = max(3 * k, k + 20) if spare else k
        search = self.retriever(retriever).search
        while True:
            hits = search(query, fetch, merged)
            if applied and not hits and merged is not filters:  # the stated filters found nothing
                merged, applied = filters, [f"{a}（无结果，未限定）" for a in applied]
                continue
            if self.reranker is not None:
                hits = self.reranker.rerank(query, hits)
            if not spare:
                break
            distinct = collapse(hits, k, s.per_article, s.near_dup, s.merge_chars)
            # long articles fill the candidates with their chunks: look deeper for k articles
            if len(distinct) >= k or len(hits) < fetch or fetch >= 8 * max(k, 10):
                hits = distinct
                break
            fetch *= 2
        return Retrieval(hits, standalone if standalone != question else "", applied)

    def _rewrite(self, question: str, history: Sequence[Turn], generator: str | None) -> str:
        """An LLM generator rewrites follow-ups itself; the rules are the fallback."""
        from rag.text.followup import rewrite

        gen = self.generator(generator)
        if hasattr(gen, "rewrite_question"):
            try:
                return gen.rewrite_question(question, history) or rewrite(question, history)
            except Exception:  # noqa: BLE001 - a failing LLM must not stop the answer
                pass
        return rewrite(question, history)

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
               generator: str | None = None, depth: int = 0
               ) -> Iterator[Retrieval | str | Answer]:
        """Yield the ``Retrieval`` (rewritten query, filters read from the question, hits),
        then answer text as it is produced, then the final ``Answer`` with timings.

        The answer is generated from the top ``k`` passages. With ``depth`` > k
        (evaluation) ``depth`` passages are retrieved and all of them end up in
        ``Answer.hits``.
        """
        k = self.settings.k if k is None else k
        t0 = time.perf_counter()
        gen = self.generator(generator)
        found = self.retrieve(question, depth if depth > k > 0 else k, retriever, filters, history,
                              generator)
        hits = found.hits
        t1 = time.perf_counter()
        yield found
        for piece in gen.stream(found.query or question.strip(), hits[:k], history):
            if isinstance(piece, Answer):
                piece.question = question.strip()
                piece.query, piece.applied = found.query, found.applied
                if not getattr(gen, "verifies_citations", False):
                    _verify_in_place(piece, hits[:k])
                t2 = time.perf_counter()
                piece.timings.update({"retrieve": t1 - t0, "generate": t2 - t1, "total": t2 - t0})
                if len(hits) > k:
                    piece.hits = hits
            yield piece

    def stats(self) -> dict:
        """Counts, papers, dates and ``problems`` (damaged files with the fix; [] when healthy)."""
        self.index.refresh()
        return {**self.index.stats(), "problems": self.index.problems()}
