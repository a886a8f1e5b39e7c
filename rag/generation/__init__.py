"""Answer generators by name: built-ins plus any registered under the ``baokan_rag.generators``
entry-point group (an entry point names a factory ``factory(settings) -> Generator``)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata

from rag.generation.base import BaseGenerator, Generator
from rag.generation.extractive import ExtractiveGenerator
from rag.generation.llm import GeneratorConfigError, LLMError

ENTRY_POINT_GROUP = "baokan_rag.generators"
# what the façade reads from every generator (rag.generation.base.Generator)
CAPABILITIES = ("name", "verifies_citations", "thread_safe", "answer", "stream", "rewrite_question")
Factory = Callable[..., Generator]


def _openai(settings) -> Generator:
    from rag.generation.openai_compat import OpenAIGenerator

    return OpenAIGenerator.from_settings(settings)


def _llamacpp(settings) -> Generator:
    from rag.generation.llamacpp import LlamaCppGenerator

    return LlamaCppGenerator.from_settings(settings)


BUILTIN: dict[str, Factory] = {
    "extractive": lambda settings: ExtractiveGenerator(reader=settings.reader),
    "openai": _openai,
    "llamacpp": _llamacpp,
}


def registry() -> dict[str, Factory]:
    """Built-in factories plus those of installed plugins (a plugin cannot shadow a built-in)."""
    found: dict[str, Factory] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name.lower(), ep.load)
    return {**{k: (lambda s, load=v: load()(s)) for k, v in found.items()}, **BUILTIN}


def available() -> list[str]:
    return sorted(registry())


def make_generator(name: str = "extractive", settings=None) -> Generator:
    """Build a generator by name from ``settings`` (defaults when None)."""
    from rag.settings import Settings

    key = (name or "").strip().lower()
    factories = registry()
    if key not in factories:
        raise ValueError(f"unknown generator {name!r}; valid: {', '.join(sorted(factories))}")
    made = factories[key](settings or Settings())
    lacking = [c for c in CAPABILITIES if not hasattr(made, c)]
    if lacking:
        raise ValueError(
            f"generator {name!r} ({type(made).__name__}) lacks {', '.join(lacking)}: "
            "subclass rag.generation.BaseGenerator for the defaults (docs/generators.md)"
        )
    return made


GENERATORS = tuple(BUILTIN)

__all__ = [
    "CAPABILITIES",
    "ENTRY_POINT_GROUP",
    "GENERATORS",
    "BaseGenerator",
    "ExtractiveGenerator",
    "Generator",
    "GeneratorConfigError",
    "LLMError",
    "available",
    "make_generator",
    "registry",
]
