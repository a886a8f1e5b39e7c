"""GB/T 7714-2015 references for cited articles, the Markdown records, and `rag ask --cite`."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from rag.citation_style import STYLES, answer_markdown, authors, conversation_markdown, gbt7714
from rag.cli import app
from rag.ingest.bylines import as_printed
from rag.ingest.segment import segment_page
from rag.models import Answer, Article, Chunk, Citation, Hit
from tests.conftest import SAMPLE, need_shared

runner = CliRunner()
QUESTION = "鹭江引水工程柳溪段的输水管线有多长？"


def article(**fields: str) -> Article:
    base = {
        "headline": "柳溪县首届乡村年货节开幕",
        "paper": "柳溪日报",
        "date": "2023-01-10",
        "page": "A08",
        "byline": "记者 李明",
    }
    return Article(doc_id="d1", source="page.txt", text="正文。", **{**base, **fields})


def cited(n: int, art: Article, quote: str = "", passage: str = "年货节开幕。") -> Citation:
    chunk = Chunk(article_id=1, text=passage, start=0, end=len(passage), position=0)
    return Citation(n=n, hit=Hit(chunk=chunk, article=art, score=1.0, rank=n), quote=quote)


def test_gbt7714_newspaper_entry() -> None:
    assert gbt7714(article()) == "李明. 柳溪县首届乡村年货节开幕[N]. 柳溪日报, 2023-01-10(A08)."
    assert STYLES["gbt7714"] is gbt7714


@pytest.mark.parametrize(
    "byline, names",
    [
        ("记者 李明 通讯员 王芳", ["李明", "王芳"]),
        ("本报记者 张三", ["张三"]),
        ("本报记者宁采薇 通讯员杭明珠", ["宁采薇", "杭明珠"]),
        ("（记者 秦若川 通讯员 柯雨桐）", ["秦若川", "柯雨桐"]),
        ("实习生 赵六 文/图", ["赵六"]),
        ("文／张三、李四", ["张三", "李四"]),
        ("张三摄", ["张三"]),
        ("葛思远 俞小满", ["葛思远", "俞小满"]),
        ("新华社记者 John Smith", ["John Smith"]),
        ("", []),
    ],
)
def test_authors_from_byline(byline: str, names: list[str]) -> None:
    assert authors(byline) == names


def test_gbt7714_several_authors() -> None:
    two = gbt7714(article(byline="记者 李明 通讯员 王芳"))
    assert two == "李明, 王芳. 柳溪县首届乡村年货节开幕[N]. 柳溪日报, 2023-01-10(A08)."
    three = gbt7714(article(byline="李明 王芳 张三"))
    assert three.startswith("李明, 王芳, 张三. 柳溪县")


def test_gbt7714_more_than_three_authors_keeps_three_then_deng() -> None:
    ref = gbt7714(article(byline="记者 李明 王芳 通讯员 张三 李四"))
    assert ref.startswith("李明, 王芳, 张三, 等. 柳溪县首届乡村年货节开幕[N].")
    assert "李四" not in ref


def test_gbt7714_without_author_starts_with_the_title() -> None:
    assert gbt7714(article(byline="")) == "柳溪县首届乡村年货节开幕[N]. 柳溪日报, 2023-01-10(A08)."
    assert gbt7714(article(byline="本报讯")).startswith("柳溪县")


def test_gbt7714_editorial_is_the_papers_commentator() -> None:
    assert gbt7714(article(byline="本报评论员")).startswith("柳溪日报评论员. 柳溪县")


@pytest.mark.parametrize(
    "fields, want",
    [
        ({"paper": ""}, "李明. 柳溪县首届乡村年货节开幕[N]. [出版者不详], 2023-01-10(A08)."),
        ({"date": ""}, "李明. 柳溪县首届乡村年货节开幕[N]. 柳溪日报, [出版日期不详](A08)."),
        ({"page": ""}, "李明. 柳溪县首届乡村年货节开幕[N]. 柳溪日报, 2023-01-10."),
        ({"date": "", "page": ""}, "李明. 柳溪县首届乡村年货节开幕[N]. 柳溪日报, [出版日期不详]."),
        ({"paper": "", "date": ""}, "李明. 柳溪县首届乡村年货节开幕[N]. [出版者不详], [出版日期不详](A08)."),
        ({"date": "2023-01"}, "李明. 柳溪县首届乡村年货节开幕[N]. 柳溪日报, 2023-01(A08)."),
        ({"page": "3"}, "李明. 柳溪县首届乡村年货节开幕[N]. 柳溪日报, 2023-01-10(3)."),
        ({"page": "第3版"}, "李明. 柳溪县首届乡村年货节开幕[N]. 柳溪日报, 2023-01-10(3)."),
        ({"page": "03版"}, "李明. 柳溪县首届乡村年货节开幕[N]. 柳溪日报, 2023-01-10(03)."),
        ({"headline": ""}, "李明. 无标题[N]. 柳溪日报, 2023-01-10(A08)."),
    ],
)
def test_gbt7714_unknown_parts(fields: dict[str, str], want: str) -> None:
    assert gbt7714(article(**fields)) == want


@pytest.mark.parametrize(
    "headline, want",
    [
        ("年货节为何这么火？", "李明. 年货节为何这么火？[N]. 柳溪日报, 2023-01-10(A08)."),
        ("年货节开幕了！", "李明. 年货节开幕了！[N]. 柳溪日报, 2023-01-10(A08)."),
        ("年货节开幕。", "李明. 年货节开幕[N]. 柳溪日报, 2023-01-10(A08)."),
        ("年货节\n 开幕 ", "李明. 年货节 开幕[N]. 柳溪日报, 2023-01-10(A08)."),
    ],
)
def test_gbt7714_title_punctuation(headline: str, want: str) -> None:
    ref = gbt7714(article(headline=headline))
    assert ref == want and ".." not in ref and "。[N]" not in ref


def test_answer_markdown_lists_the_sources_in_citation_order() -> None:
    second = article(headline="鹭江引水工程柳溪段主体完工", byline="", page="")
    answer = Answer(
        question="q", text="年货节开幕了[1]，工程完工[2]。", citations=[cited(1, article()), cited(2, second)]
    )
    assert answer_markdown(answer) == (
        "年货节开幕了[1]，工程完工[2]。\n\n"
        "[1] 李明. 柳溪县首届乡村年货节开幕[N]. 柳溪日报, 2023-01-10(A08).\n\n"
        "[2] 鹭江引水工程柳溪段主体完工[N]. 柳溪日报, 2023-01-10.\n"
    )
    assert answer_markdown(Answer(question="q", text="资料中没有。")) == "资料中没有。\n"
    with pytest.raises(ValueError, match="gbt7714"):
        answer_markdown(answer, style="apa")


def test_conversation_markdown_turns_sources_and_quotes() -> None:
    first = Answer(question="q1", text="1月10日开幕[1]。", citations=[cited(1, article(), quote="年货节1月10日开幕")])
    doc = conversation_markdown([("年货节什么时候开幕？", first), ("那在哪里？", "在县城广场。")])
    assert doc == (
        "# 报刊问答 对话记录\n\n"
        "## 问：年货节什么时候开幕？\n\n"
        "1月10日开幕[1]。\n\n"
        "**来源**\n\n"
        "[1] 李明. 柳溪县首届乡村年货节开幕[N]. 柳溪日报, 2023-01-10(A08).\n\n"
        "> 年货节1月10日开幕\n\n"
        "## 问：那在哪里？\n\n"
        "在县城广场。\n"
    )


def test_conversation_markdown_quotes_the_passage_without_a_quote_and_escapes() -> None:
    passage = "# 不是标题\n\n- 不是列表\n1. 不是编号\n<!-- 不是注释 --> *不* 强调\n---\n46.5公里\n-5℃"
    answer = Answer(question="q", text="# 答案[1]", citations=[cited(1, article(headline="*号*"), passage=passage)])
    doc = conversation_markdown([("问题\n# 第二行", answer)], title="记录")
    assert doc.startswith("# 记录\n\n## 问：问题 # 第二行\n\n\\# 答案[1]\n\n**来源**\n\n")  # one line: no heading
    assert "[1] 李明. \\*号\\*[N]." in doc
    quote = doc.split("[N]. 柳溪日报, 2023-01-10(A08).\n\n", 1)[1]
    assert quote == (
        "> \\# 不是标题\n>\n> \\- 不是列表\n> 1\\. 不是编号\n"
        "> \\<!-- 不是注释 --> \\*不\\* 强调\n> \\---\n> 46.5公里\n> -5℃\n"
    )
    assert all(line.startswith(("# ", "## ")) for line in doc.splitlines() if line.startswith("#"))


def test_ask_cite_gbt7714_lists_references(sample_index: Path) -> None:
    result = runner.invoke(
        app, ["ask", QUESTION, "--index", str(sample_index), "--no-stream", "--cite", "gbt7714"], env={"COLUMNS": "60"}
    )
    assert result.exit_code == 0, result.output
    sources = result.stdout.split("来源：", 1)[1]
    # one line however narrow the terminal (the headline as the index holds it: two printed lines)
    assert "  [1] 单晓岚. 鹭江引水工程 柳溪段主体完工[N]. 青禾日报, 2024-03-12(A03).\n" in sources
    assert "「" in sources and "《" not in sources  # the quote stays; the default label is replaced


def test_ask_cite_gbt7714_json_adds_a_reference(sample_index: Path) -> None:
    plain = json.loads(runner.invoke(app, ["ask", QUESTION, "--index", str(sample_index), "--json"]).stdout)
    assert "reference" not in plain["citations"][0]
    result = runner.invoke(app, ["ask", QUESTION, "--index", str(sample_index), "--json", "--cite", "gbt7714"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["citations"] and all(
        c["reference"].endswith("[N]. 青禾日报, 2024-03-12(A03).") for c in data["citations"]
    )
    assert {k: v for k, v in data["citations"][0].items() if k != "reference"} == plain["citations"][0]


def test_ask_cite_rejects_an_unknown_style(sample_index: Path) -> None:
    result = runner.invoke(app, ["ask", QUESTION, "--index", str(sample_index), "--cite", "apa"])
    assert result.exit_code == 2 and "gbt7714" in result.output


def test_gbt7714_names_each_author_of_a_real_byline() -> None:
    """（白靖杰 黄福兴） on a real page is two people, though cleaning drops OCR spaces (issue 35)."""
    seeds = need_shared("corpus", "seeds")
    found = {
        a.headline: a
        for name in ("002_d414a8ee10d38a41.txt", "004_cd28cbcedefb48dc.txt")
        for a in segment_page((seeds / name).read_text("utf-8"), name)
    }
    assert gbt7714(found["温县县委常委会（扩大）会议召开"]) == (
        "白靖杰, 黄福兴. 温县县委常委会（扩大）会议召开[N]. 焦作日报, 2023-01-10(A08)."
    )
    assert gbt7714(found["温县县委理论学习中心组 召开集体学习会议"]).startswith("黄福兴, 白靖杰. ")
    assert gbt7714(found["奏响军地共建交响曲"]).startswith("张汉杰, 刘建军, 张琦. ")  # 记者 … 通讯员 刘建军 张琦
    own = {a.headline: a for a in segment_page((SAMPLE / "page_01.txt").read_text("utf-8"), "page_01.txt")}
    assert authors(own["柳溪县委常委会部署岁末年初工作"].byline) == ["葛思远", "俞小满"]


def test_a_space_inside_one_name_does_not_make_two_authors() -> None:
    def lines(*printed: str) -> list[SimpleNamespace]:
        return [SimpleNamespace(printed=p) for p in printed]

    assert as_printed("白靖杰", lines("会议还研究讨论了其他事项。", "（白 靖杰）")) == "白靖杰"
    assert as_printed("（白靖杰黄福兴）", lines("（白靖杰  黄福兴）")) == "（白靖杰  黄福兴）"
    assert as_printed("（白靖杰）", lines("（白靖杰）")) == "（白靖杰）"


def test_an_answer_says_how_sure_it_is_in_words() -> None:
    from app.render import SURE, answer_html, confidence_words

    assert confidence_words(None) == ""
    assert confidence_words(SURE) == "把握一般" and confidence_words(0.93) == "把握一般"
    assert confidence_words(SURE - 0.01) == "把握较低，请核对原文"
    shown = answer_html("672个[1]。", 0, copyable=True, confidence=0.3)
    assert '<span class="confidence"' in shown and "把握较低" in shown and shown.index("把握") < shown.index("复制")
    assert "把握" not in answer_html("672个[1]。", 0, copyable=False, confidence=0.3)  # still streaming
