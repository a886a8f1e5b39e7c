"""Upload staging: type and size limits, safe names, nothing written outside the folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.uploads import MIB, Staged, Upload, ingest_uploads, safe_name, stage_one
from tests.conftest import SAMPLE, make_fake_bot


def test_safe_names() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\..\\windows\\evil.txt") == "evil.txt"
    assert safe_name("温县 新闻 0110.txt") == "温县_新闻_0110.txt"
    assert safe_name(".bashrc") == "bashrc"
    assert safe_name("a\x00b;rm -rf.txt") == "a_b_rm_-rf.txt"
    assert safe_name("///") == "upload.txt"
    assert safe_name(".txt") == "upload.txt" and safe_name("....x.txt") == "x.txt"  # Gradio's dot-file names
    assert safe_name("._.jsonl.gz") == "upload.jsonl.gz"
    long = safe_name("温县新闻" * 75 + ".txt")  # 300 characters: cut, its type kept (issue 33 item 16)
    assert len(long) == 120 and long.endswith(".txt") and long.startswith("温县新闻")
    packed = safe_name("报" * 200 + ".jsonl.gz")
    assert packed.endswith("报.jsonl.gz") and len(packed) == 120


def test_stage_enforces_type_size_and_folder(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    good = src / "第一版.txt"
    good.write_text("本报讯 测试。", encoding="utf-8")
    (src / "evil.exe").write_bytes(b"MZ")
    big = src / "big.jsonl"
    big.write_bytes(b"x" * 2048)
    folder = tmp_path / "index" / "uploads"
    folder.mkdir(parents=True)
    got = [stage_one(f, folder, max_bytes=1024) for f in (good, src / "evil.exe", big, src / "missing.txt")]
    staged, rejected = got[0], got[1:]
    assert isinstance(staged, Staged) and staged.path.name == "第一版.txt"
    assert staged.path.parent.parent == folder and staged.path.parent.name == staged.sha256[:16]
    assert [(r.name, r.status) for r in rejected] == [
        ("evil.exe", "已拒绝"),
        ("big.jsonl", "已拒绝"),
        ("missing.txt", "未能读取"),
    ]
    assert [p.name for p in folder.rglob("*") if p.is_file()] == ["第一版.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "index"]
    other = src / "sub" / "第一版.txt"  # the same name, other bytes: stored beside, not over
    other.parent.mkdir()
    other.write_text("本报讯 另一篇。", encoding="utf-8")
    second = stage_one(other, folder, max_bytes=1024)
    assert second.path != staged.path and staged.path.read_text(encoding="utf-8") == "本报讯 测试。"


def test_size_is_quoted_with_the_limit_people_were_told(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    big.write_bytes(b"x" * (3 * MIB + 1))
    refused = stage_one(big, tmp_path, max_bytes=2 * MIB)
    assert refused.detail == "3.0 MB，超过 2 MB 上限"


def _gradio_batch(tmp_path: Path, names: dict[str, bytes]) -> list[dict]:
    """Files as Gradio's upload route stores them (one folder each), as the event's file data."""
    batch = []
    for i, (shown, data) in enumerate(names.items()):
        folder = tmp_path / "gradio" / f"{i:040d}"
        folder.mkdir(parents=True)
        path = folder / (shown.replace("\\", "") or "tmp")
        path.write_bytes(data)
        batch.append({"path": str(path), "orig_name": shown, "meta": {"_type": "gradio.FileData"}})
    return batch


def test_a_batch_with_bad_names_and_types_adds_the_good_files(tmp_path: Path) -> None:
    """Issue 33 item 16: a dot-file name, a name with Windows folders and a disallowed type in
    one batch: each reported in Chinese, the good ones added, every temporary file removed."""
    bot = make_fake_bot(tmp_path / "idx")
    bot.archive.ingest([SAMPLE / "page_04.txt"])  # the archive being served
    page = (SAMPLE / "page_01.txt").read_bytes()
    batch = _gradio_batch(
        tmp_path,
        {
            ".txt": page,
            "..\\..\\第二版.txt": (SAMPLE / "page_02.txt").read_bytes(),
            "说明.docx": b"PK\x03\x04",
            "第三版.txt": (SAMPLE / "page_03.txt").read_bytes(),
        },
    )
    removed: list[Path] = []
    rows = ingest_uploads(bot, batch, discard=lambda p: (removed.append(p), p.unlink(missing_ok=True)))
    assert [(r.name, r.status) for r in rows] == [
        (".txt", "已添加"),
        ("..\\..\\第二版.txt", "已添加"),
        ("说明.docx", "已拒绝"),
        ("第三版.txt", "已添加"),
    ]
    assert "只接受" in rows[2].detail
    stored = sorted(p.name for p in (tmp_path / "idx" / "uploads").rglob("*") if p.is_file())
    assert stored == ["upload.txt", "第三版.txt", "第二版.txt"]
    assert sorted(removed) == sorted(Path(b["path"]) for b in batch)
    assert not [p for p in (tmp_path / "gradio").rglob("*") if p.is_file()]
    assert Upload.of(batch[0]).shown == ".txt" and Upload.of(str(SAMPLE / "page_01.txt")).shown == "page_01.txt"


def test_an_upload_the_index_cannot_take_is_reported_in_chinese_and_not_kept(tmp_path: Path) -> None:
    """vectors.faiss removed under a running app, then an upload: a Chinese row, no English
    store error, and nothing of the file left in uploads/ (issue 33 item 16)."""
    bot = make_fake_bot(tmp_path / "idx")
    bot.archive.ingest([SAMPLE / "page_01.txt"])
    bot.search("青禾", 1)  # the app is serving
    (tmp_path / "idx" / "vectors.faiss").unlink()
    batch = _gradio_batch(tmp_path, {"第二版.txt": (SAMPLE / "page_02.txt").read_bytes()})
    (row,) = ingest_uploads(bot, batch, discard=lambda p: p.unlink(missing_ok=True))
    assert row.status == "未能添加" and "资料库出了问题" in row.detail, row
    assert not any(ord(c) < 128 and c.isalpha() for c in row.detail.replace("rag stats", "")), row.detail
    assert not [p for p in (tmp_path / "idx" / "uploads").rglob("*") if p.is_file()]
    shutil.rmtree(tmp_path / "gradio")


def test_why_the_archive_could_not_take_a_file_is_said_by_its_kind() -> None:
    from app.uploads import store_problem_zh
    from rag.archive import IndexReadOnlyError, IndexStoreError, WriterBusyError

    assert "只读" in store_problem_zh(IndexReadOnlyError("/x is read-only"))
    assert "正忙" in store_problem_zh(WriterBusyError("busy"))
    assert "出了问题" in store_problem_zh(IndexStoreError("read-only, says a damaged file's message"))
