"""The whole retrieve step as one object: normalise → stated filters → first stage → rerank →
collapse → fallback.  The façade (rag.assistant), the evaluation (through the façade) and the
benchmarks (bench/tune_fusion.py, bench/query_latency.py) all retrieve through it.

* **normalise**: width, script and OCR spacing — the question's retrieval form, read once by
  the façade (``Question.query``, rag.text.asked);
* **stated filters**: a paper, section or publication date the question names
  (rag.retrieval.query), merged under the caller's explicit filters;
* **first stage**: any ``Retriever`` (dense, BM25, hybrid), over-fetching when later steps
  drop hits (3k, at least k + 20, or as deep as the reranker reads: 100 for the learned one);
* **rerank**: the optional second stage (rag.retrieval.rerank);
* **collapse**: at most ``per_article`` hits of one article (1: k hits are k articles), each
  holding up to ``passages`` of its article's best passages, no near-duplicate stories
  (rag.retrieval.diversity); when long articles crowd the candidates the fetch doubles, up
  to 8 × max(k, 10);
* **fallback**: stated filters that leave nothing are dropped again, and the line shown to
  the user says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.models import Filters, Retrieval
from rag.retrieval.base import Reranker, Retriever
from rag.retrieval.diversity import collapse
from rag.retrieval.query import UNUSED, merge_filters, stated_filters
from rag.settings import Settings
from rag.store.contract import SearchStore
from rag.text.asked import Question


@dataclass(frozen=True)
class PipelineOptions:
    """The pipeline's settings; every default is the one in rag.settings.Settings."""

    question_filters: bool = Settings.question_filters  # read paper / section / date filters from the question
    per_article: int = Settings.per_article  # passages of one article in the top k (≤ 0: no limit)
    near_dup: float = Settings.near_dup  # 4-gram containment that makes two passages one story (≥ 1: off)
    merge_chars: int = Settings.merge_chars  # neighbouring chunks of one article merged up to this length
    passages: int = Settings.passages  # passages of an article one hit holds (Hit.more)

    @classmethod
    def from_settings(cls, settings: Settings) -> PipelineOptions:
        s = settings
        return cls(s.question_filters, s.per_article, s.near_dup, s.merge_chars, s.passages)


class RetrievalPipeline:
    def __init__(
        self,
        store: SearchStore,
        first_stage: Retriever,
        reranker: Reranker | None = None,
        options: PipelineOptions | None = None,
    ) -> None:
        self.store, self.first_stage, self.reranker = store, first_stage, reranker
        self.options = options or PipelineOptions()

    def run(self, question: Question, k: int, filters: Filters | None = None) -> Retrieval:
        """The top ``k`` distinct hits for a standalone question (see the module doc)."""
        o = self.options
        self.store.refresh()  # another process may have committed (one manifest read)
        if self.first_stage.name != "bm25":
            self.store.require_vectors()  # a lost vectors file fails loudly: `rag repair`
        asked = question.query  # the normalised form: what retrieval matches
        query = asked.text
        merged, applied = filters, list[str]()
        if o.question_filters:
            facets = self.store.facets()
            stated = stated_filters(query, facets["papers"], facets["sections"])
            if stated:
                merged, applied = merge_filters(filters, stated)
        spare = o.per_article > 0 or o.near_dup < 1 or self.reranker is not None
        fetch = max(3 * k, k + 20, self.reranker.depth if self.reranker else 0) if spare else k
        while True:
            hits = self.first_stage.search(query, fetch, merged)
            if applied and not hits and merged is not filters:  # the stated filters found nothing
                merged, applied = filters, [a + UNUSED for a in applied]
                continue
            if self.reranker is not None:
                hits = self.reranker.rerank(asked, hits)
            if not spare:
                break
            distinct = collapse(hits, k, o.per_article, o.near_dup, o.merge_chars, o.passages)
            # long articles fill the candidates with their chunks: look deeper for k articles
            if len(distinct) >= k or len(hits) < fetch or fetch >= 8 * max(k, 10):
                hits = distinct
                break
            fetch *= 2
        return Retrieval(hits, "", applied)
