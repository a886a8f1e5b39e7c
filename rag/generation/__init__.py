"""Answer generators: ``make_generator("extractive")``."""

from __future__ import annotations

from rag.generation.base import Generator
from rag.generation.extractive import ExtractiveGenerator

GENERATORS = ("extractive",)


def make_generator(name: str = "extractive", **options) -> Generator:
    """Build a generator by name; ``options`` go to its constructor (e.g. ``min_support``)."""
    key = (name or "").strip().lower()
    if key not in GENERATORS:
        raise ValueError(f"unknown generator {name!r}; valid: {', '.join(GENERATORS)}")
    return ExtractiveGenerator(**options)


__all__ = ["GENERATORS", "ExtractiveGenerator", "Generator", "make_generator"]
