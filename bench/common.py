"""What every benchmark prints about the machine it ran on, small timing helpers, and the
question sets the ranking benchmarks fit and report on."""

from __future__ import annotations

import os
import platform
import resource
from pathlib import Path


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        flags = ""
    for line in flags.splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "avx2": " avx2" in flags,
        "avx512_vnni": "avx512_vnni" in flags,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb() -> float:
    with open("/proc/self/status", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def percentiles_ms(seconds: list[float]) -> dict:
    """p50/p95 (the evaluation's linear-interpolated percentile) and max, in ms."""
    from rag.evaluation.scores import percentile

    ms = [1000 * s for s in seconds]
    return {
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "max_ms": round(max(ms), 2),
        "n": len(ms),
    }


ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
_ADV = ROOT / "eval" / "adversarial"
# the ranking benches' question sets: name, questions, index, role.  "folds": k-fold by question
# (every number printed for it held out); "train": fitted on only; "report": never fitted or
# tuned on (bench/fit_ranker.py scores it with the final model; bench/tune_fusion.py skips it)
RANKING_SETS = (
    ("crud_dev", SHARED / "eval" / "crud_dev.jsonl", ROOT / "index" / "crud6k", "folds"),
    ("dev", SHARED / "eval" / "dev.jsonl", ROOT / "index" / "seeds", "folds"),
    ("sample", ROOT / "eval" / "questions.jsonl", ROOT / "index" / "sample", "folds"),
    ("adv_seeds_tune", _ADV / "seeds.tune.jsonl", ROOT / "index" / "seeds", "train"),
    ("adv_crud_tune", _ADV / "crud.tune.jsonl", ROOT / "index" / "crud6k", "train"),
    ("adv_seeds_report", _ADV / "seeds.report.jsonl", ROOT / "index" / "seeds", "report"),
    ("adv_crud_report", _ADV / "crud.report.jsonl", ROOT / "index" / "crud6k", "report"),
)
