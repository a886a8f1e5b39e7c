"""The façade's declared seams: one source of defaults (a library caller building the pieces
itself gets what the app gets), the typed answer stream, and a third-party generator plugged in
through the entry point, answering through `rag ask` and the served `/ask` API."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.embeddings import FAKE_HASH, load_embedder
from rag.generation import ExtractiveGenerator
from rag.models import AnswerStream
from rag.retrieval import make_retriever
from rag.retrieval.pipeline import RetrievalPipeline
from rag.retrieval.rerank import make_reranker
from rag.settings import Settings
from rag.store import Index
from rag.text.asked import read_question
from tests.conftest import make_fake_bot

QUESTIONS = ("鹭江引水工程柳溪段的输水管线有多长？", "柳溪县的县委书记和县长分别是谁？", "白鹭区设置了多少个三级网格？")


def test_the_library_path_and_the_app_path_give_the_same_hits_and_answer(sample_index: Path) -> None:
    """Pieces built bench-style, each with its own defaults, behave as the app built from Settings."""
    bot = make_fake_bot(sample_index)
    index = Index.open(sample_index)
    embedder = load_embedder(FAKE_HASH, Settings().model_cache)
    pipeline = RetrievalPipeline(index, make_retriever("hybrid", index, embedder), make_reranker("answer-type"))
    generator = ExtractiveGenerator()
    try:
        for question in QUESTIONS:
            served = bot.ask(question)
            asked = read_question(question)
            found = pipeline.run(asked, Settings().k)
            library = generator.answer(asked, [p for h in found.hits for p in h.passages()])
            assert [(h.chunk.id, h.rank, len(h.more)) for h in found.hits] == [
                (h.chunk.id, h.rank, len(h.more)) for h in served.hits
            ]
            assert (library.text, library.refused) == (served.text, served.refused)
            assert [c.quote for c in library.citations] == [c.quote for c in served.citations]
    finally:
        index.close()
        bot.close()


def test_the_answer_stream_is_typed(sample_index: Path) -> None:
    bot = make_fake_bot(sample_index)
    try:
        stream = bot.stream("鹭江引水工程柳溪段的输水管线有多长？")
        assert isinstance(stream, AnswerStream) and stream.retrieval.hits  # retrieved before any text
        pieces = list(stream.tokens())
        answer = stream.answer()
        assert pieces and "".join(pieces) == answer.text and "46.5" in answer.text
        assert answer.hits == stream.retrieval.hits and {"retrieve", "generate", "total"} <= set(answer.timings)
        opening = bot.stream("那温县呢？")  # a follow-up opening a conversation: no retrieval, a question back
        assert opening.retrieval.hits == [] and list(opening.tokens()) == [] and opening.answer().refused
    finally:
        bot.close()


PLUGIN = '''
from rag.generation import BaseGenerator
from rag.models import Answer, Citation


class FirstSentence(BaseGenerator):
    """Quotes the first sentence of the best passage; says what kind of question it read."""

    name = "first-sentence"

    def answer(self, question, hits, history=()):
        if not hits:
            return Answer(question=question.text, text="没有资料。", refused=True, reason="没有段落")
        hit = hits[0]
        sentence = hit.chunk.text.split("。")[0] + "。"
        return Answer(
            question=question.text,
            text=f"{sentence}[1]",
            short=question.intent.kind,
            citations=[Citation(n=1, hit=hit, quote=sentence)],
            hits=list(hits),
        )


def factory(settings):
    return FirstSentence()
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch) -> Path:
    """A third-party package installed on the path: a module and its dist-info with the entry point."""
    folder = tmp_path / "site"
    (folder / "first_sentence_rag-0.1.dist-info").mkdir(parents=True)
    (folder / "first_sentence_rag.py").write_text(PLUGIN, encoding="utf-8")
    info = folder / "first_sentence_rag-0.1.dist-info"
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: first-sentence-rag\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[baokan_rag.generators]\nfirst-sentence = first_sentence_rag:factory\n")
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_a_plugin_generator_answers_through_rag_ask(sample_index: Path, plugin: Path) -> None:
    question = "鹭江引水工程柳溪段的输水管线有多长？"
    args = ["ask", question, "--index", str(sample_index), "--generator", "first-sentence"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    top = answer["hits"][0]["text"]
    # the façade checked its citations (rag.generation.verify: a marker per claim, before the full stop)
    assert re.sub(r"\[\d+\]", "", answer["answer"]) == top.split("。")[0] + "。" and "[1]" in answer["answer"]
    assert answer["short"] == "quantity"  # it was handed the Question the façade read
    assert answer["citations"][0]["quote"] in top
    streamed = CliRunner().invoke(app, args)  # the streaming path: BaseGenerator.stream from its answer
    assert streamed.exit_code == 0, streamed.output
    shown = "".join(streamed.stdout.split())  # (rich wraps long lines)
    assert "".join(top.split("。")[0].split()) in shown and "来源" in shown


def test_a_plugin_generator_answers_through_the_served_ask_api(sample_index: Path, plugin: Path) -> None:
    from gradio_client import Client
    from serving import served  # bench/serving.py (bench is on the test path)

    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(plugin), os.environ.get("PYTHONPATH", "")])),
        "RAG_GENERATOR": "first-sentence",
        "RAG_EMBEDDING_MODEL": FAKE_HASH,
    }
    question = "白鹭区设置了多少个三级网格？"
    with served(sample_index, env=env) as url:
        answer = Client(url, verbose=False).predict(question, 5, "", "", "", "", api_name="/ask")
    top = answer["hits"][0]["text"]
    assert re.sub(r"\[\d+\]", "", answer["answer"]) == top.split("。")[0] + "。" and answer["short"] == "quantity"
