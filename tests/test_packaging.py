"""Every data file the package reads ships in the wheel: each non-Python file under rag/ and
app/ is declared in pyproject's package-data (an undeclared one works in a checkout and is
missing from an install — as the reader's answer models were)."""

from __future__ import annotations

import subprocess
import tomllib
from fnmatch import fnmatch

from tests.conftest import ROOT


def test_every_data_file_in_the_package_is_declared() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]
    tracked = subprocess.run(
        ["git", "ls-files", "rag", "app"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    data = [f for f in tracked if not f.endswith(".py") and not f.rsplit("/", 1)[-1].startswith(".")]
    assert data  # the fitted models and the reader's weights at least

    def shipped(path: str) -> bool:
        for package, patterns in declared.items():
            folder = package.replace(".", "/") + "/"
            if path.startswith(folder) and any(fnmatch(path[len(folder) :], p) for p in patterns):
                return True
        return False

    assert [f for f in data if not shipped(f)] == []
