"""Upload staging: type and size limits, safe names, nothing written outside the folder."""

from __future__ import annotations

from pathlib import Path

from app.uploads import MIB, Staged, safe_name, stage_one


def test_safe_names() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\..\\windows\\evil.txt") == "evil.txt"
    assert safe_name("温县 新闻 0110.txt") == "温县_新闻_0110.txt"
    assert safe_name(".bashrc") == "bashrc"
    assert safe_name("a\x00b;rm -rf.txt") == "a_b_rm_-rf.txt"
    assert safe_name("///") == "upload.txt"
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
