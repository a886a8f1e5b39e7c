"""A document-based question set's evaluation corpus: every gold article plus seeded distractors."""

from __future__ import annotations

import json
import lzma
import random
from collections.abc import Collection
from pathlib import Path


def gold_ids(questions: Path) -> set[str]:
    """Every ``gold_doc_ids`` entry of a question file."""
    ids: set[str] = set()
    with questions.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                ids.update(json.loads(line).get("gold_doc_ids") or [])
    return ids


def subset_ids(path: Path) -> set[str]:
    """The ``id`` of every record of a JSONL file (an earlier subset)."""
    with path.open(encoding="utf-8") as fh:
        return {json.loads(line)["id"] for line in fh if line.strip()}


def write_subset(
    corpus: Path,
    gold: set[str],
    distractors: int,
    seed: int,
    out: Path,
    exclude: Collection[str] = frozenset(),
    with_gold: bool = True,
) -> dict:
    """Stream the corpus (.jsonl.xz) once; write the gold articles (unless ``with_gold`` is
    False), then a seeded reservoir sample of ``distractors`` other articles not in ``exclude``,
    to ``out``. Returns counts."""
    rng = random.Random(seed)
    sample: list[str] = []  # raw lines of the distractor reservoir
    found: list[str] = []
    seen = skipped = gold_seen = 0
    with lzma.open(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            doc_id = json.loads(line)["id"]
            if doc_id in gold:
                gold_seen += 1
                if with_gold:
                    found.append(line)
                continue
            if doc_id in exclude:
                skipped += 1
                continue
            seen += 1
            if len(sample) < distractors:
                sample.append(line)
            else:
                j = rng.randrange(seen)
                if j < distractors:
                    sample[j] = line
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for line in found + sample:
            fh.write(line if line.endswith("\n") else line + "\n")
    return {
        "out": str(out),
        "gold_articles": len(found),
        "gold_missing": len(gold) - len(found) if with_gold else 0,
        "excluded": skipped,
        "distractors": len(sample),
        "articles": len(found) + len(sample),
        "corpus_articles": seen + skipped + gold_seen,
    }
