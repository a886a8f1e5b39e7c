"""OCR cleaning, decoding and chunking on hand-made inputs."""

from __future__ import annotations

import gzip
import itertools
import json
import lzma

import pytest

from rag.chunking import chunk_spans, sentences
from rag.ingest.cleaning import (
    PHOTO_CREDIT,
    PageHeader,
    clean_line,
    furniture_kind,
    photo_end,
    read_header_line,
)
from rag.ingest.loaders import LoadError, decode_bytes, discover
from rag.ingest.records import read_records


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("扶 群 众 发 放", "扶群众发放"),
        ("现 抛 撒 垃 圾 ，请 尽 快 安 排 清", "现抛撒垃圾，请尽快安排清"),
        ("2022 年 11 月底，侦破“食药环”", "2022年11月底，侦破“食药环”"),
        ("６３１４ 个爱心健", "6314个爱心健"),
        ("“摄像头+AI 技术”", "“摄像头+AI技术”"),
        ("New York Times 报道", "New York Times报道"),
        ("version 2 3", "version 2 3"),
        ("增长１２．３％", "增长12.3%"),
        ("\ufeff  本报讯 1 月 7 日下午  ", "本报讯1月7日下午"),
    ],
)
def test_clean_line(raw: str, clean: str) -> None:
    assert clean_line(raw) == clean


def test_page_header_lines() -> None:
    header = PageHeader()
    lines = [
        "JIAOZUO DAILY",
        "A08│温县新闻2023年1月10日 星期二",
        "■新闻热线：8797000│■编辑：刘振毅│校对：姬祥│组版：牛成文",
        "A08│孟州新闻2023年1月10日 星期二",
    ]
    kinds = [furniture_kind(clean_line(x)) for x in lines]
    assert kinds == ["paper", "page", "furniture", "page"]
    for kind, line in zip(kinds, lines):
        read_header_line(header, kind, clean_line(line))
    assert (header.paper, header.date, header.page) == ("焦作日报", "2023-01-10", "A08")
    assert header.sections == ["温县新闻", "孟州新闻"]
    assert furniture_kind("会议传达学习了习近平总书记在中央农村工作会议上") is None


def test_decode_utf8_bom_and_gb18030() -> None:
    text = "本报讯 温县召开会议。"
    assert decode_bytes(("\ufeff" + text).encode("utf-8")) == (text, "utf-8")
    assert decode_bytes(text.encode("gbk")) == (text, "gb18030")
    with pytest.raises(LoadError, match="binary"):
        decode_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(LoadError, match="empty"):
        decode_bytes(b"  \n ")
    with pytest.raises(LoadError, match="decode"):
        decode_bytes(bytes(range(128, 256)) * 4)


def test_records_streamed_from_xz_and_gz_with_broken_line(tmp_path) -> None:
    rows = [
        {"id": "a1", "text": "第一篇文章。", "title": "标题一", "date": "2023-07-01 08:00", "source": "新华网"},
        {"id": "a2", "text": "第二篇文章。"},
    ]
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{broken\n"
    for name, opener in (("n.jsonl.xz", lzma.open), ("n.jsonl.gz", gzip.open)):
        path = tmp_path / name
        with opener(path, "wt", encoding="utf-8") as fh:
            fh.write(body)
        errors: list[str] = []
        recs = list(read_records(path, errors))
        assert [r.id for r in recs] == ["a1", "a2"]
        assert recs[0].date == "2023-07-01" and recs[0].title == "标题一"
        assert errors and errors[0].startswith("line 3")


def test_discover_reports_missing_and_unsupported(tmp_path) -> None:
    (tmp_path / "a.txt").write_text("本报讯 一。", "utf-8")
    (tmp_path / "a.txt.meta.json").write_text('{"paper": "青禾日报", "page": "A01"}', "utf-8")
    (tmp_path / "b.pdfx").write_text("x", "utf-8")
    inputs, skipped = discover([tmp_path, tmp_path / "missing.txt", tmp_path / "b.pdfx"])
    assert [i.path.name for i in inputs] == ["a.txt"]
    assert inputs[0].meta == {"paper": "青禾日报", "page": "A01"}
    reasons = dict((p.name, r) for p, r in skipped)
    assert "no such file" in reasons["missing.txt"]
    assert "unsupported" in reasons["b.pdfx"]


def test_sentences_keep_closing_quotes() -> None:
    text = "他说：“我们会做好。”会议结束。还有吗？"
    assert [text[s.start : s.end] for s in sentences(text)] == ["他说：“我们会做好。”", "会议结束。", "还有吗？"]


def test_chunks_are_sentence_aligned_with_one_sentence_overlap() -> None:
    sents = [f"第{i}句话讲的是一件具体的事情，内容足够长以便测试分块的边界情况。" for i in range(30)]
    text = "".join(sents)
    spans = chunk_spans(text, 200, 400)
    assert len(spans) > 3
    for a, b in itertools.pairwise(spans):
        assert b.start < a.end, "consecutive chunks overlap"
        assert text[b.start : a.end] in sents, "the overlap is exactly one sentence"
    for s in spans[:-1]:
        assert 150 <= s.end - s.start <= 400
        assert text[s.end - 1] == "。"
    assert spans[0].start == 0 and spans[-1].end == len(text)


def test_overlong_sentence_is_cut() -> None:
    text = "长" * 1000 + "。"
    spans = chunk_spans(text, 200, 400)
    assert max(s.end - s.start for s in spans) <= 400
    assert spans[-1].end == len(text)


def test_a_page_line_whose_thin_bar_ocr_dropped_is_still_the_page_header() -> None:
    header = PageHeader()
    line = "A08温县新闻2023年1月10日星期二"  # A08│… as OCR reads it
    assert furniture_kind(line) == "page"
    read_header_line(header, "page", line)
    assert (header.page, header.date, header.sections) == ("A08", "2023-01-10", ["温县新闻"])
    assert furniture_kind("G20峰会于2023年9月9日在新德里举行") is None  # text goes on after the date


@pytest.mark.parametrize(
    "line, credit",
    [
        ("周小满 摄", True),
        ("本报记者 宋知远 摄", True),
        ("（记者 苗青禾 通讯员 柯一鸣 摄）", True),
        ("林晚舟/摄", True),
        ("游客在草莓基地采摘草莓。 记者 苗青禾 摄", False),  # a caption with its credit, not a credit line
        ("村民们用手机拍摄", False),
        ("无人机航摄", False),
    ],
)
def test_photo_credit_lines(line: str, credit: bool) -> None:
    assert bool(PHOTO_CREDIT.match(clean_line(line))) is credit


def test_a_line_ending_in_a_photo_credit_ends_a_caption() -> None:
    assert photo_end(clean_line("3月4日，游客在砚山镇草莓基地采摘草莓。 记者 苗青禾 摄"))
    assert photo_end(clean_line("张春禾 摄"))
    assert not photo_end(clean_line("活动现场，摄影爱好者们纷纷举起相机拍摄"))
    assert not photo_end(clean_line("县里组织摄影家协会会员进村入户拍摄。"))
