"""What the chat's 上传 tab shows is plain Chinese with the facts (limits, sizes, what to do),
while the CLI keeps its English: real files through the upload path (a real Assistant over a
temporary index, hash embedder), and a source check that every LoadError carries Chinese."""

from __future__ import annotations

import ast
import pickle
import re
import sys
from pathlib import Path

import pytest

from app.uploads import UploadResult, ingest_uploads, stage_one
from rag.ingest import loaders, ocr, scans
from rag.ingest.html_page import read_html
from rag.ingest.loaders import LoadError, discover, read_page, zh_reason
from tests.conftest import make_fake_bot
from tests.test_reliability import page, records

INGEST = Path(__file__).resolve().parents[1] / "rag" / "ingest"

# English the Chinese texts may keep: formats, units, encodings, and the names a user types
KEEP = {"MB", "PDF", "UTF", "GB18030", "OCR", "JSON", "JSONL", "Big5", "id", "text"}


def plain_chinese(text: str, keep: set[str] = frozenset()) -> str:
    """``text``, asserted to be Chinese: CJK in it, and no English words but file suffixes,
    units, format names, commands (`…`, pip install '…') to type and the user's own ``keep``."""
    assert re.search(r"[\u4e00-\u9fff]", text), text
    rest = re.sub(r"`[^`]*`|pip install '[^']*'|rapidocr-onnxruntime|“[^”]*”", " ", text)
    rest = re.sub(r"\.[a-z0-9]+\b", " ", rest)  # .txt, .jsonl(.xz/.gz), .pdf …
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9]*", rest)) - KEEP - keep
    assert not words, (words, text)
    return text


@pytest.fixture
def bot(tmp_path: Path):
    """An Assistant over an index holding one page, as the chat has; scan pages are read in
    this process (so patched limits hold)."""
    first = write(tmp_path / "pages", "a.txt", page("老街", 120, 300))
    bot = make_fake_bot(tmp_path / "idx", ocr_workers=1)
    assert len(bot.archive.ingest([first]).ingested) == 1
    yield bot
    bot.close()


def upload(bot, path: Path, keep: set[str] = frozenset(), **kw) -> UploadResult:
    (result,) = ingest_uploads(bot, [path], **kw)
    plain_chinese(result.detail, keep)
    return result


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


# ---- text pages -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, data, english, chinese",
    [
        ("empty.txt", b"  \n\t\n", "empty file", "文件是空的"),
        ("nul.txt", "本报讯 正文\x00中间有空字节".encode(), "binary file (NUL bytes)", "不是文本文件（含二进制内容）"),
        (
            "latin.txt",
            bytes([0xE9, 0xE8, 0xFF, 0xFE]) * 300,
            "cannot decode as UTF-8 or GB18030",
            "无法识别文字编码（既不是 UTF-8 也不是 GB18030）",
        ),
    ],
)
def test_unreadable_text_pages_are_explained_in_chinese(bot, tmp_path, name, data, english, chinese) -> None:
    path = write(tmp_path / "in", name, data)
    with pytest.raises(LoadError, match=re.escape(english)) as caught:  # the CLI's words stay
        read_page(path)
    assert caught.value.zh == chinese
    result = upload(bot, path)
    assert (result.status, result.detail) == ("未能读取", chinese)
    assert not list((bot.settings.index / "uploads").rglob(name))  # nothing kept of it


def test_big5_page_says_which_encoding_and_how_to_convert(bot, tmp_path) -> None:
    text = "臺北市政府今日公佈新的交通政策，將於下個月開始實施，市民可以搭乘捷運前往。" * 8
    result = upload(bot, write(tmp_path / "in", "big5.txt", text.encode("big5")))
    assert result.status == "未能读取"
    assert "Big5" in result.detail and "转换成 UTF-8" in result.detail
    assert "`iconv -f BIG5 -t UTF-8`" in result.detail and "%" in result.detail


def test_page_over_the_loader_limit_quotes_size_and_limit(bot, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(loaders, "PAGE_MAX_BYTES", 2_000_000)
    path = write(tmp_path / "in", "huge.txt", "本报讯。".encode() * 250_000)  # 3.0 MB
    result = upload(bot, path)
    assert result.status == "未能读取"
    assert result.detail.startswith("文件太大（3.0 MB，一版文字的上限是 2 MB）"), result.detail
    assert "JSONL" in result.detail


def test_upload_over_the_size_limit_and_of_a_wrong_type_is_refused(bot, tmp_path) -> None:
    big = write(tmp_path / "in", "big.jsonl", b"x" * (3 * 1024 * 1024 + 1))
    result = upload(bot, big, max_bytes=2 * 1024 * 1024)
    assert (result.status, result.detail) == ("已拒绝", "3.0 MB，超过 2 MB 上限")
    docx = write(tmp_path / "in", "notes.docx", b"PK\x03\x04")
    result = upload(bot, docx)
    assert result.status == "已拒绝" and result.detail.startswith("只接受 .txt、.jsonl")
    assert ".pdf" in result.detail and ".html" in result.detail
    missing = stage_one(tmp_path / "in" / "missing.txt", tmp_path / "up", 1024)
    assert (missing.status, missing.detail) == ("未能读取", "无法读取：文件不存在")


def test_discover_gives_chinese_for_missing_unsupported_and_sidecar(tmp_path) -> None:
    write(tmp_path, "b.docx", "x")
    write(tmp_path, "a.txt", "本报讯 一。")
    write(tmp_path, "a.txt.meta.json", "[1, 2]")
    _, skipped = discover([tmp_path, tmp_path / "missing.txt"])
    reasons = {p.name: r for p, r in skipped}
    zh = {r: r.zh for r in reasons.values()}  # each reason carries its Chinese
    assert "unsupported file type" in reasons["b.docx"] and "no such file" in reasons["missing.txt"]
    assert plain_chinese(zh[reasons["b.docx"]]).startswith("不支持的文件类型（只接受 .txt、.jsonl(.xz/.gz)、.png")
    assert zh[reasons["missing.txt"]] == "找不到这个文件或文件夹"
    assert plain_chinese(zh[reasons["a.txt.meta.json"]]) == "附带的元数据文件（.meta.json）已忽略：不是合法的 JSON 对象"


# ---- records --------------------------------------------------------------------------------
def test_bad_record_lines_are_noted_in_chinese(bot, tmp_path) -> None:
    body = records(1) + '{"id": "x"}\n{broken\n[1, 2]\n{"text": 5}\n'
    result = upload(bot, write(tmp_path / "in", "mixed.jsonl", body))
    assert result.status == "已添加"
    assert result.detail.startswith("1 篇文章，")
    for said in (
        "第 2 行：缺少正文字段 “text”",
        "第 3 行：不是合法的 JSON（第 2 个字符处出错）",
        "第 4 行：不是 JSON 对象（而是列表）",
        "第 5 行：正文字段 “text” 不是字符串（而是数字）",
    ):
        assert said in result.detail, result.detail


def test_records_all_skipped_say_so_and_why(bot, tmp_path) -> None:
    assert upload(bot, write(tmp_path / "in", "a.jsonl", records(2))).status == "已添加"
    again = records(2).replace("工作简报", "工作通报")  # other bytes, the same ids
    result = upload(bot, write(tmp_path / "in", "b.jsonl", again), keep={"brief"})  # the ids
    assert result.status == "未能读取"
    assert result.detail.startswith("全部 2 条记录都被跳过了（跳过了 2 条记录，它们的 id 已在资料库中"), result.detail
    assert "brief-0, brief-1" in result.detail
    nothing = upload(bot, write(tmp_path / "in", "c.jsonl", "{broken\n"))
    assert nothing.detail == "没有找到文字（第 1 行：不是合法的 JSON（第 2 个字符处出错））"


def test_damaged_compressed_records_keep_what_was_read_and_say_why(bot, tmp_path) -> None:
    import gzip

    packed = gzip.compress(records(300).encode())
    cut = write(tmp_path / "in", "cut.jsonl.gz", packed[: len(packed) // 2])
    result = upload(bot, cut)
    assert result.status == "已添加" and "读到中途停止了（无法读取记录：压缩文件不完整" in result.detail, result.detail
    garbled = write(tmp_path / "in", "garbled.jsonl.gz", packed[:40] + b"\xff" * 64 + packed[104:])
    result = upload(bot, garbled)  # zlib's own error: reported, not a crash
    assert "无法读取记录：压缩数据已损坏" in result.detail, result.detail
    latin = write(tmp_path / "in", "latin.jsonl", b'{"text": "\xd6\xd0\xce\xc4"}\n')  # GBK, not UTF-8
    assert upload(bot, latin).detail == "无法读取记录：不是 UTF-8 编码"


# ---- scans and PDFs (no OCR run: each is refused before a page is read) ----------------------
def _png(path: Path, size: tuple[int, int]) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, 255).save(path)
    return path


def test_damaged_png_and_encrypted_pdf(bot, tmp_path) -> None:
    from reportlab.pdfgen import canvas

    junk = write(tmp_path / "in", "junk.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    result = upload(bot, junk)
    assert (result.status, result.detail) == ("未能读取", "不是可读的图片（文件已损坏或是其他格式）")
    locked = tmp_path / "in" / "locked.pdf"
    c = canvas.Canvas(str(locked), encrypt="secret")
    c.drawString(72, 720, "locked")
    c.save()
    result = upload(bot, locked)
    assert result.status == "未能读取"
    assert result.detail == "PDF 已加密（有密码）：请先解密，例如 `qpdf --decrypt IN.pdf OUT.pdf`"
    broken = write(tmp_path / "in", "broken.pdf", b"%PDF-1.4\n garbage")
    assert upload(bot, broken).detail == "不是可读的 PDF（文件已损坏或不是 PDF）"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # 1.5 MP under a 1 MP limit: meant
def test_page_and_pixel_limits_quote_the_numbers(bot, tmp_path, monkeypatch) -> None:
    from PIL import Image

    monkeypatch.setattr(scans, "MAX_PAGES", 1)
    tiff = tmp_path / "in" / "two.tif"
    tiff.parent.mkdir(parents=True)
    first, second = Image.new("L", (50, 50), 255), Image.new("L", (50, 50), 255)
    first.save(tiff, save_all=True, append_images=[second])
    assert upload(bot, tiff).detail == "共 2 页，超过每个文件 1 页的上限：请拆分"
    monkeypatch.setattr(scans, "MAX_PAGES", 300)
    monkeypatch.setattr(scans, "MAX_PIXELS", 1_000_000)
    bomb = upload(bot, _png(tmp_path / "in" / "bomb.png", (3000, 1000)))
    assert bomb.detail == "图片太大（3 百万像素，每页上限 1 百万像素）"
    wide = upload(bot, _png(tmp_path / "in" / "wide.png", (1500, 1000)))
    assert wide.detail == "第 1 页有 1500×1000 像素，超过每页 1 百万像素的上限"


def test_ocr_not_installed_names_the_pip_command(bot, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(ocr, "_engine", None)
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # import fails as if not installed
    result = upload(bot, _png(tmp_path / "in" / "scan.png", (200, 100)))
    assert result.status == "未能读取"
    assert "pip install 'baokan-rag[ocr]'" in result.detail and result.detail.startswith("识别扫描件需要先安装")


# ---- HTML pages -------------------------------------------------------------------------------
def test_html_without_an_article_and_over_the_limit(bot, tmp_path) -> None:
    empty = write(tmp_path / "in", "nav.html", "<html><body><nav>首页 上一版</nav><p>Hello world</p></body></html>")
    with pytest.raises(LoadError, match="no article text found"):
        read_html(empty)
    assert upload(bot, empty).detail == "网页里没有找到正文"
    nul = write(tmp_path / "in", "nul.html", b"<html>\x00\x01")
    assert upload(bot, nul).detail == "不是网页（含二进制内容）"
    with pytest.raises(LoadError) as caught:
        read_html(write(tmp_path / "in", "big.html", b"<p>" + b"x" * 3000), max_bytes=1000)
    assert plain_chinese(caught.value.zh) == "文件太大，不像一个网页（0.003 MB，网页的上限是 0.001 MB）"


# ---- the mechanism ---------------------------------------------------------------------------
def test_zh_reason_survives_pickling_and_wraps_other_errors() -> None:
    err = pickle.loads(pickle.dumps(LoadError("empty file", zh="文件是空的")))  # from an OCR worker
    assert (str(err), err.zh, zh_reason(err)) == ("empty file", "文件是空的", "文件是空的")
    assert LoadError("x").zh is None and zh_reason(LoadError("x")) == "无法读取：x"
    assert zh_reason(PermissionError(13, "Permission denied")) == "无法读取：没有读取权限"
    assert zh_reason(ValueError("odd")) == "无法读取：odd"


def _calls(name: str):
    for path in sorted(INGEST.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                yield path.name, node


@pytest.mark.parametrize("name", ["LoadError", "RecordError"])
def test_every_load_error_in_the_ingest_has_chinese(name) -> None:
    """A new ``raise LoadError("…")`` without ``zh=`` would show English in the upload tab."""
    calls = list(_calls(name))
    assert len(calls) >= (20 if name == "LoadError" else 8)
    missing = [f"{file}:{node.lineno}" for file, node in calls if not any(k.arg == "zh" for k in node.keywords)]
    assert not missing, f"{name}(…) without zh=: {missing}"
    for file, node in calls:
        zh = next(k.value for k in node.keywords if k.arg == "zh")
        if isinstance(zh, (ast.Constant, ast.JoinedStr)):  # a literal: Chinese in it
            assert re.search(r"[\u4e00-\u9fff]", ast.unparse(zh)), f"{file}:{node.lineno}"
