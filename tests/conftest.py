"""Shared fixtures: a deterministic fake embedder and a small hand-written Chinese index."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.embeddings.fake import FAKE_HASH, HashEmbedder
from rag.models import Article, Chunk, Source
from rag.store import Index, make_manifest

FAKE_DIM = HashEmbedder.dim
CHUNKER_VERSION = "test-1"


FakeEmbedder = HashEmbedder  # the deterministic stand-in the fast suite builds indexes with


@dataclass
class Doc:
    source: str
    doc_id: str
    paper: str
    date: str
    page: str
    section: str
    headline: str
    text: str


DOCS = [
    Doc(
        "jiaozuo-2023.txt",
        "jz-0110-a08-1",
        "焦作日报",
        "2023-01-10",
        "A08",
        "温县新闻",
        "温县县委常委会召开议军会议",
        "1月9日，温县县委常委会召开议军会议，研究部署全县国防动员和民兵工作。"
        "会议强调，要把党管武装工作摆在重要位置，抓好民兵队伍建设。",
    ),
    Doc(
        "jiaozuo-2023.txt",
        "jz-0112-a02-1",
        "焦作日报",
        "2023-01-12",
        "A02",
        "要闻",
        "焦作市推进太行山生态保护",
        "焦作市启动太行山绿化提升工程，计划三年内新增造林面积五万亩。市林业局负责人介绍，工程覆盖修武、博爱等县。",
    ),
    Doc(
        "jiaozuo-2023.txt",
        "jz-1220-a03-1",
        "焦作日报",
        "2022-12-20",
        "A03",
        "武陟新闻",
        "武陟县举办怀药文化节",
        "武陟县举办第五届怀药文化节，铁棍山药等特产吸引大批游客。活动期间，县里还组织了农产品展销会。",
    ),
    Doc(
        "henan-2023.txt",
        "hn-0203-01-1",
        "河南日报",
        "2023-02-03",
        "01",
        "要闻",
        "郑州地铁新线开通",
        "郑州地铁六号线一期工程正式开通运营，全长约二十公里。沿线设站十二座，方便市民出行。",
    ),
    Doc(
        "henan-2023.txt",
        "hn-0315-05-1",
        "河南日报",
        "2023-03-15",
        "05",
        "经济",
        "河南小麦播种面积稳定",
        "今年河南小麦播种面积稳定在八千五百万亩以上。农业农村厅表示，将加强田间管理，确保夏粮丰收。",
    ),
    Doc(
        "henan-2023.txt",
        "hn-0120-02-1",
        "河南日报",
        "2023-01-20",
        "02",
        "时政",
        "全省民兵工作会议召开",
        "全省民兵工作会议在郑州召开，总结去年民兵工作。会议要求各地加强国防教育。",
    ),
]


def split_sentences(article: Article) -> list[Chunk]:
    """One chunk per sentence ending in 。, offsets into ``article.text``."""
    chunks, start = [], 0
    text = article.text
    for i, ch in enumerate(text):
        if ch == "。" or i == len(text) - 1:
            if text[start : i + 1].strip():
                chunks.append(
                    Chunk(article_id=0, text=text[start : i + 1], start=start, end=i + 1, position=len(chunks))
                )
            start = i + 1
    return chunks


def articles_for(source: str) -> list[Article]:
    return [
        Article(
            doc_id=d.doc_id,
            source=d.source,
            text=d.text,
            headline=d.headline,
            paper=d.paper,
            date=d.date,
            page=d.page,
            section=d.section,
            end=len(d.text),
        )
        for d in DOCS
        if d.source == source
    ]


def ingest_source(index: Index, embedder: FakeEmbedder, name: str) -> int:
    """Add one of the DOCS sources (not committed); returns its source id."""
    source = Source(path=f"/data/{name}", sha256=f"sha-{name}", size=1000, encoding="utf-8")
    sid = index.add_source(source)
    arts = articles_for(name)
    chunks = [split_sentences(a) for a in arts]
    texts = [c.text for cs in chunks for c in cs]
    index.add_articles(sid, arts, chunks, embedder.embed_documents(texts))
    return sid


def manifest_for(embedder: FakeEmbedder) -> dict[str, str]:
    return make_manifest(
        embedder.model_id, embedder.dim, CHUNKER_VERSION, embedder.query_prefix, embedder.document_prefix
    )


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def manifest(fake_embedder: FakeEmbedder) -> dict[str, str]:
    return manifest_for(fake_embedder)


@pytest.fixture
def index_path(tmp_path: Path) -> Path:
    return tmp_path / "index" / "test"


@pytest.fixture
def small_index(index_path: Path, fake_embedder: FakeEmbedder, manifest: dict) -> Index:
    """Both sources ingested and committed."""
    index = build_small(Index.create_or_open(index_path, manifest), fake_embedder)
    yield index
    index.close()


def milvus_target(tmp_path: Path, server: bool = False) -> tuple[str, str]:
    """(uri, collection prefix) for a Milvus test: a milvus-lite file under ``tmp_path``, or,
    with ``server``, the real server at RAG_TEST_MILVUS_URI (the test skips without it)."""
    pytest.importorskip("pymilvus", reason="the Milvus store needs pip install '.[milvus]'")
    if not server:
        return str(tmp_path / "milvus.db"), "rag_test"
    uri = os.environ.get("RAG_TEST_MILVUS_URI")
    if not uri:
        pytest.skip("RAG_TEST_MILVUS_URI names no Milvus server (e.g. http://127.0.0.1:19530)")
    return uri, f"rag_test_{os.getpid()}_{abs(hash(str(tmp_path))) % 10**6}"


def build_small(store, embedder: FakeEmbedder):
    """Both DOCS sources ingested into ``store`` and committed."""
    for name in ("jiaozuo-2023.txt", "henan-2023.txt"):
        ingest_source(store, embedder, name)
    store.commit_search_indexes()
    return store


@pytest.fixture(
    scope="module", params=["embedded", "milvus", pytest.param("milvus-server", marks=pytest.mark.milvus_server)]
)
def any_store(request, tmp_path_factory):
    """The small index in every store the contract has: the embedded folder, milvus-lite, and a
    real Milvus server when RAG_TEST_MILVUS_URI names one (built once a module: read only)."""
    folder = tmp_path_factory.mktemp("store")
    embedder = FakeEmbedder()
    if request.param == "embedded":
        store = Index.create_or_open(folder / "index", manifest_for(embedder))
    else:
        from rag.store.milvus import MilvusStore

        uri, prefix = milvus_target(folder, server=request.param == "milvus-server")
        store = MilvusStore.create_or_open(uri, prefix, manifest_for(embedder), rebuild=True)
    yield build_small(store, embedder)
    store.close()
    if request.param == "milvus-server":
        MilvusStore.remove(uri, prefix)


def make_fake_bot(index: Path, **settings):
    """An Assistant over ``index`` that embeds with the hash stand-in (``fake:hash``): the
    real pipeline (ingest, store, retrieval, answers) in milliseconds, no model loaded."""
    from rag.assistant import Assistant
    from rag.settings import Settings

    return Assistant(Settings.load(index=index, embedding_model=FAKE_HASH, **settings))


ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample" / "pages"


def _ingest_sample(path: Path, env: dict[str, str]) -> Path:
    """The sample archive ingested through the CLI."""
    from typer.testing import CliRunner

    from rag.cli import app

    result = CliRunner().invoke(app, ["ingest", str(SAMPLE), "--index", str(path), "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["files_ingested"] == 4 and report["chunks"] > 20
    return path


@pytest.fixture(scope="session")
def _sample_index_fake(tmp_path_factory) -> Path:
    return _ingest_sample(tmp_path_factory.mktemp("idx") / "sample", {"RAG_EMBEDDING_MODEL": FAKE_HASH})


@pytest.fixture
def sample_index(_sample_index_fake: Path, monkeypatch) -> Path:
    """The sample archive indexed with the hash stand-in (``fake:hash``, no model to load);
    the test runs with ``RAG_EMBEDDING_MODEL=fake:hash`` so the CLI and the façade open it."""
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", FAKE_HASH)
    return _sample_index_fake


@pytest.fixture(scope="session")
def sample_index_e5(tmp_path_factory) -> Path:
    """The sample archive ingested with the real embedding model (once per session; slow tests)."""
    return _ingest_sample(tmp_path_factory.mktemp("idx") / "sample-e5", {})


SHARED = ROOT.parent / "shared"


def copy_index(source: Path, target: Path) -> Path:
    """A copy of a built index folder. A session index may have a reader open elsewhere in the
    run, whose ``-wal``/``-shm`` files come and go as connections close; a folder at rest is
    self-contained (every commit is checkpointed into rag.sqlite), so those are left out."""
    import shutil

    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    return target


def need_shared(*parts: str) -> Path:
    """A path under ../shared; skips the test when it is absent (fails under CI=true)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"CI=true but {path} is missing")
        pytest.skip(f"{path} is absent: the seed pages and question sets live in ../shared")
    return path


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory) -> Path:
    """The five real seed pages ingested with the real model (once per session)."""
    from rag.assistant import Assistant
    from rag.settings import Settings

    seeds = need_shared("corpus", "seeds")
    path = tmp_path_factory.mktemp("seeds") / "idx"
    bot = Assistant(Settings.load(index=path))
    report = bot.archive.ingest([seeds])
    assert len(report.ingested) == 5 and not report.skipped
    bot.close()
    return path


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium through Playwright (a module's browser tests share it)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield b
        b.close()


# a fictional page in the raw OCR style, uploaded by the UI and concurrency tests
UPLOAD_PAGE = """青禾日报
A05│砚山新闻2024年6月4日 星期二

砚山镇首座光伏
养鱼塘并网发电

本报讯（记者单晓岚）6月2日，砚山镇
白石村的渔光互补项目正式并网发电。项目在
80亩鱼塘上方架设光伏板，装机容量2.4兆瓦，
年发电量约290万千瓦时，塘下继续养殖鲈鱼。
村党支部书记韩立春介绍，项目每年可为村集
体增收16万元。
"""
