"""Upload staging: type and size limits, safe names, nothing written outside the folder."""

from __future__ import annotations

from pathlib import Path

from app.uploads import safe_name, stage


def test_safe_names() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\..\\windows\\evil.txt") == "evil.txt"
    assert safe_name("温县 新闻 0110.txt") == "温县_新闻_0110.txt"
    assert safe_name(".bashrc") == "bashrc"
    assert safe_name("a\x00b;rm -rf.txt") == "a_b_rm_-rf.txt"
    assert safe_name("///") == "upload.txt"


def test_stage_enforces_type_size_and_folder(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    good = src / "第一版.txt"
    good.write_text("本报讯 测试。", encoding="utf-8")
    (src / "evil.exe").write_bytes(b"MZ")
    big = src / "big.jsonl"
    big.write_bytes(b"x" * 2048)
    folder = tmp_path / "index" / "uploads"
    staged, rejected = stage([good, src / "evil.exe", big, src / "missing.txt"], folder,
                             max_bytes=1024)
    assert [(n, p.name) for n, p in staged] == [("第一版.txt", "第一版.txt")]
    assert {r.name: r.status for r in rejected} == {
        "evil.exe": "已拒绝", "big.jsonl": "已拒绝", "missing.txt": "未能读取"}
    assert sorted(p.name for p in folder.iterdir()) == ["第一版.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "index"]
    staged, rejected = stage([good] * 3, folder, max_files=2)
    assert len(staged) == 2 and rejected[0].detail.startswith("一次最多")
