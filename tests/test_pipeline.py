"""The real pipeline end to end: sample pages → index → search/ask through the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.ingest.pipeline import Ingestor
from rag.models import REFUSAL
from rag.settings import Settings
from rag.store import Index, make_manifest
from tests.conftest import ROOT, SAMPLE

runner = CliRunner()


def test_search_json_contract(sample_index: Path) -> None:
    result = runner.invoke(
        app, ["search", "鹭江引水工程输水管线多长", "--index", str(sample_index), "-k", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["query"] == "鹭江引水工程输水管线多长"
    assert [h["rank"] for h in data["hits"]] == [1, 2, 3]
    keys = {
        "rank",
        "score",
        "text",
        "chunk_id",
        "doc_id",
        "headline",
        "paper",
        "date",
        "page",
        "section",
        "source",
        "start",
        "end",
    }
    assert keys <= set(data["hits"][0])
    top = data["hits"][0]
    assert top["source"] == "page_02.txt" and top["paper"] == "青禾日报" and "46.5" in top["text"]


def test_ask_cites_the_passage(sample_index: Path) -> None:
    result = runner.invoke(app, ["ask", "鹭江引水工程柳溪段的输水管线有多长？", "--index", str(sample_index), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert not data["refused"] and "46.5" in data["answer"] and "[1]" in data["answer"]
    cite = data["citations"][0]
    assert cite["n"] == 1 and cite["source"] == "page_02.txt" and cite["quote"] in cite["text"]


def test_unanswerable_is_refused_with_closest_passages(sample_index: Path) -> None:
    result = runner.invoke(app, ["ask", "桐川县2023年的地区生产总值是多少？", "--index", str(sample_index), "--json"])
    data = json.loads(result.stdout)
    assert data["refused"] and data["answer"] == REFUSAL and data["hits"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["ingest", "no/such/dir"], "no such file"),
        (["search", "   "], "empty"),
        (["ask", "问" * 600], "limit"),
        (["search", "网格", "-k", "0"], "k must be"),
        (["search", "网格", "--retriever", "magic"], "unknown retriever"),
        (["stats", "--index", "no/such/index"], "no index"),
        (["eval", "no/such/questions.jsonl"], "not found"),
    ],
)
def test_bad_input_one_line_nonzero_exit(args, message, sample_index: Path) -> None:
    if "--index" not in args and args[0] in ("search", "ask"):
        args = [*args, "--index", str(sample_index)]
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_unknown_option_fails() -> None:
    result = runner.invoke(app, ["search", "网格", "--bogus"])
    assert result.exit_code == 2


def test_reingest_is_noop_and_changed_file_replaces(tmp_path: Path, fake_embedder) -> None:
    pages = tmp_path / "pages"
    shutil.copytree(SAMPLE, pages)
    manifest = make_manifest(fake_embedder.model_id, fake_embedder.dim, "test")
    index = Index.create_or_open(tmp_path / "idx", manifest)
    first = Ingestor(index, fake_embedder).run([pages])
    assert len(first.ingested) == 4 and not first.skipped
    before = index.stats()
    again = Ingestor(index, fake_embedder).run([pages])
    assert len(again.unchanged) == 4 and again.chunks == 0
    assert index.stats()["chunks"] == before["chunks"]
    page = pages / "page_02.txt"
    page.write_text(page.read_text("utf-8").replace("鹭江引水工程", "白鹭引水工程"), "utf-8")
    changed = Ingestor(index, fake_embedder).run([pages])
    assert len(changed.ingested) == 1 and len(changed.unchanged) == 3
    after = index.stats()
    assert after["articles"] == before["articles"] and after["chunks"] == before["chunks"]
    (pages / "bad.txt").write_bytes(b"\x00\x01binary")
    bad = Ingestor(index, fake_embedder).run([pages])
    assert [Path(p).name for p, _ in bad.skipped] == ["bad.txt"]
    assert index.stats()["chunks"] == before["chunks"]
    index.close()


def test_settings_precedence(tmp_path: Path, monkeypatch) -> None:
    cfg = tmp_path / "rag.toml"
    cfg.write_text('k = 7\nretriever = "bm25"\n', "utf-8")
    monkeypatch.setenv("RAG_K", "9")
    s = Settings.load(cfg)
    assert s.k == 9 and s.retriever == "bm25"
    assert Settings.load(cfg, k=3).k == 3
    with pytest.raises(ValueError, match="unknown setting"):
        Settings.load(cfg, colour="red")


def test_sample_segmentation_matches_ground_truth() -> None:
    truth = json.loads((ROOT / "sample" / "articles.json").read_text("utf-8"))
    from rag.ingest.loaders import discover
    from rag.ingest.segment import segment_page

    inputs, _ = discover([SAMPLE])
    found = []
    for item in inputs:
        for a in segment_page(item.path.read_text("utf-8"), item.path.name, item.meta):
            found.append((a.source, a.headline.replace(" ", ""), "".join(a.text.split())))
    starts = sum(any(t["file"] == f and t["body_start"] in text[:40] for f, _, text in found) for t in truth)
    heads = sum(any(t["file"] == f and t["headline"] == h for f, h, _ in found) for t in truth)
    # every article's text is kept; most boundaries and headlines are right (see sample/README.md)
    assert starts >= 0.7 * len(truth), (starts, len(truth))
    assert heads >= 0.6 * len(truth), (heads, len(truth))


def test_cli_filters_restrict_dates_and_papers(sample_index: Path) -> None:
    def dates(*args: str) -> list[str]:
        result = runner.invoke(
            app, ["search", "年货节 网格 工程", "--index", str(sample_index), "-k", "10", "--json", *args]
        )
        assert result.exit_code == 0, result.output
        return [h["date"] for h in json.loads(result.stdout)["hits"]]

    everything = dates()
    assert len(set(everything)) > 1
    assert dates("--until", "2024-01") and all(d <= "2024-01-31" for d in dates("--until", "2024-01"))
    assert dates("--since", "2024/3/1") and all(d >= "2024-03-01" for d in dates("--since", "2024/3/1"))
    assert dates("--paper", "不存在的报纸") == []
    result = runner.invoke(
        app, ["ask", "年货节什么时候开幕？", "--index", str(sample_index), "--until", "2024-01", "--json"]
    )
    assert result.exit_code == 0 and all(h["date"] <= "2024-01-31" for h in json.loads(result.stdout)["hits"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "2024-13"], "no such date"),
        (["--until", "yesterday"], "expected a date"),
        (["--since", "2024-03", "--until", "2024-01"], "is after"),
    ],
)
def test_cli_bad_filters(args, message, sample_index: Path) -> None:
    result = runner.invoke(app, ["search", "年货节", "--index", str(sample_index), *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_filter_dates_are_normalised() -> None:
    from rag.models import Filters

    assert Filters.parse("2023/1/7", "2023年1月") == Filters("2023-01-07", "2023-01")
    assert Filters.parse(" ", None, " 焦作日报 ") == Filters(paper="焦作日报")
    assert Filters.parse("2023-01-07", "2023-01").until == "2023-01"  # same month: fine


def test_a_word_learnt_later_recuts_earlier_chunks(tmp_path, fake_embedder, manifest) -> None:
    """花园口镇 seen once per file: a lexicon word only after the second file, and then the
    first file's chunks are re-cut so BM25 matches it there too (one BM25 build per run)."""
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("本报讯 惠济区花园口镇八堡村今年新修水渠三条，群众出行更方便了。", encoding="utf-8")
    second.write_text("本报讯 花园口镇组织志愿者清理河道，共清运垃圾二十余吨。", encoding="utf-8")
    index = Index.create_or_open(tmp_path / "idx", manifest)
    Ingestor(index, fake_embedder).run([first])
    assert "花园口镇" not in index.tokenizer.words and not index.bm25_behind
    Ingestor(index, fake_embedder).run([second])
    assert "花园口镇" in index.tokenizer.words
    tokens = [r[0].split() for r in index._conn.execute("SELECT tokens FROM chunks")]
    assert all("花园口镇" in t for t in tokens) and len(tokens) == 2
    assert index.manifest.get("tokens_stale", "0") == "0" and not index.bm25_behind
    index.close()
    with Index.open(tmp_path / "idx") as again:  # the lexicon is stored with the index
        assert "花园口镇" in again.tokenizer.words and "花园口镇" in again.bm25.vocab_dict


def test_opening_takes_the_tuned_lexicon_from_its_file(tmp_path, fake_embedder, manifest) -> None:
    """The last commit stores the tuned dictionary (lexicon.marshal) for its generation; an
    opener cuts exactly as a tokenizer tuned from the lexicon table does, and a file from
    another generation, or a damaged one, is ignored (the lexicon is tuned again)."""
    from rag.store.words import LEXICON_STATE
    from rag.text.tokenize import JiebaTokenizer, make_tokenizer

    pages = [tmp_path / f"{n}.txt" for n in "ab"]
    pages[0].write_text("本报讯 惠济区花园口镇八堡村新修水渠，“万人助万企”活动走进花园口镇。", encoding="utf-8")
    pages[1].write_text("本报讯 花园口镇组织志愿者清理河道，“万人助万企”服务队到场。", encoding="utf-8")
    index = Index.create_or_open(tmp_path / "idx", manifest)
    Ingestor(index, fake_embedder).run(pages)
    tuned = make_tokenizer(index.manifest["tokenizer"], index.tokenizer.words)
    index.close()
    state_file = tmp_path / "idx" / LEXICON_STATE
    assert state_file.is_file()
    text = "花园口镇的“万人助万企”活动"
    with Index.open(tmp_path / "idx") as again:
        assert again.tokenizer.words == tuned.words and {"花园口镇", "万人助万企"} <= tuned.words
        assert again.tokenizer(text) == tuned(text) and "花园口镇" in again.tokenizer(text)
        again.tokenizer.add_words(["八堡村"])  # a private dictionary: the file's state is copied, not shared
    with Index.open(tmp_path / "idx") as third:
        assert "八堡村" not in third.tokenizer.words
    stale = JiebaTokenizer.from_state({"mode": "search", "words": ["花园"], "freq": {"花园": 1}, "total": 1})
    assert stale.words == {"花园"}
    import marshal

    state = marshal.loads(state_file.read_bytes())
    state_file.write_bytes(marshal.dumps({**state, "words": ["别的词"], "generation": "another#1"}))
    with Index.open(tmp_path / "idx") as again:
        assert again.tokenizer.words == tuned.words  # another generation: tuned from the table
    state_file.write_bytes(b"\x00not marshal")
    with Index.open(tmp_path / "idx") as again:
        assert again.tokenizer(text) == tuned(text)


def test_a_new_word_recuts_only_the_chunks_that_hold_it(tmp_path, fake_embedder, manifest) -> None:
    """An upload into a big archive re-cuts the chunks holding its new words, not the archive."""
    from rag.store import writes
    from rag.store.words import STALE_WORDS_MAX, stale_words

    pages = [tmp_path / f"{n}.txt" for n in "abc"]
    pages[0].write_text("本报讯 惠济区花园口镇八堡村今年新修水渠三条，群众出行更方便了。", encoding="utf-8")
    pages[1].write_text("本报讯 郑州市区今天气温回升，市民纷纷外出踏青赏花。", encoding="utf-8")
    pages[2].write_text("本报讯 花园口镇组织志愿者清理河道，共清运垃圾二十余吨。", encoding="utf-8")
    index = Index.create_or_open(tmp_path / "idx", manifest)
    Ingestor(index, fake_embedder).run(pages[:2])
    Ingestor(index, fake_embedder).run(pages[2:])
    assert "花园口镇" in index.tokenizer.words and index.manifest.get("tokens_stale_words", "") == ""
    with index.batch(bm25=False):
        index.begin()
        assert writes.retokenize(index._conn, index.tokenizer, ["花园口镇"]) == 2  # not the 郑州 chunk
        assert writes.retokenize(index._conn, index.tokenizer, []) == 0
        assert writes.retokenize(index._conn, index.tokenizer) == 3
    index.close()
    assert stale_words({}, ["花园口镇"]) == {"tokens_stale": "1", "tokens_stale_words": '["花园口镇"]'}
    pending = {"tokens_stale": "1", "tokens_stale_words": '["八堡村"]'}
    assert stale_words(pending, ["花园口镇"])["tokens_stale_words"] == '["八堡村", "花园口镇"]'
    assert stale_words(pending, ["ＡＢ镇"])["tokens_stale_words"] == '"*"'  # folding could matter: all
    many = [f"第{i}号村" for i in range(STALE_WORDS_MAX + 1)]
    assert stale_words({}, many)["tokens_stale_words"] == '"*"'
    assert stale_words({"tokens_stale": "1", "tokens_stale_words": '"*"'}, ["镇"])["tokens_stale_words"] == '"*"'


def test_ingest_help_names_every_format_it_reads() -> None:
    """Issue 34 item 6: `rag ingest --help` lists every suffix the loaders accept, not only .txt and JSONL."""
    from typer.testing import CliRunner

    from rag.cli import app
    from rag.ingest.loaders import KIND_OF, RECORD_SUFFIXES

    shown = CliRunner().invoke(app, ["ingest", "--help"], env={"COLUMNS": "400"})
    assert shown.exit_code == 0
    text = " ".join(shown.output.split())
    for suffix in [*KIND_OF, *(s for s in RECORD_SUFFIXES if s.startswith(".jsonl"))]:
        assert suffix in text, suffix
