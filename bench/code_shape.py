"""The shape of the code base: import cycles, long modules, long functions (JSON on stdout).

    python bench/code_shape.py [--root .] [--packages rag app]

Import edges are module-level and function-level ``import``/``from … import`` statements between
modules of the named packages (an import inside a function still couples two rooms). Cycles are
the strongly connected components with more than one module. Used for the house issue's
before/after figures.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Sequence
from pathlib import Path

# Layers that must not import each other (they meet in the text layer below them).
SIDE_BY_SIDE = {("rag.retrieval", "rag.generation"), ("rag.generation", "rag.retrieval")}
# The house's layers, bottom first (docs/architecture.md): a module imports its own layer and
# those below it, never one above.  A module is placed by its longest listed prefix.
LAYERS = (
    ("rag", "rag.text", "rag.models", "rag.settings", "rag.logistic", "rag.chunking", "rag.regions"),
    ("rag.store",),
    ("rag.embeddings",),
    ("rag.ingest",),
    ("rag.reader",),
    ("rag.retrieval", "rag.generation"),
    ("rag.store_handle", "rag.archive", "rag.assistant", "rag.examples", "rag.filter_check", "rag.source_metadata"),
    ("rag.citation_style", "rag.evaluation", "rag.cli", "app"),
)
# The faces (the CLI and the chat UI) reach the house through the façade and the data model only.
FACES = ("rag.cli", "app")
FACE_MAY_IMPORT = (
    *FACES,
    "rag.assistant",
    "rag.archive",
    "rag.models",
    "rag.settings",
    "rag.regions",
    "rag.citation_style",
    "rag.filter_check",
    "rag.evaluation",
)


def _placed(module: str, places: Sequence[str]) -> str | None:
    """The longest of ``places`` that ``module`` is or lies under."""
    found = [p for p in places if module == p or module.startswith(p + ".")]
    return max(found, key=len) if found else None


def layer_of(module: str) -> int | None:
    best = [(len(p), i) for i, names in enumerate(LAYERS) if (p := _placed(module, names))]
    return max(best)[1] if best else None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``a -> b`` for every import of a module in a higher layer."""
    out = []
    for a, deps in graph.items():
        for b in deps:
            la, lb = layer_of(a), layer_of(b)
            if la is not None and lb is not None and lb > la:
                out.append(f"{a} -> {b}")
    return sorted(out)


def face_imports(graph: dict[str, set[str]]) -> list[str]:
    """``a -> b`` for every import by a face of something other than the façade and models."""
    return sorted(
        f"{a} -> {b}"
        for a, deps in graph.items()
        if _placed(a, FACES)
        for b in deps
        if b != "rag" and not _placed(b, FACE_MAY_IMPORT)  # (the package itself: ensure_offline)
    )


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(tree: ast.AST, name: str, is_package: bool, known: set[str]) -> set[str]:
    """Modules of ``known`` that ``name`` imports (relative imports resolved)."""
    found: set[str] = set()
    base = name.split(".") if is_package else name.split(".")[:-1]
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                stem = base[: len(base) - node.level + 1]
                mod = ".".join([*stem, mod] if mod else stem)
            # ``from pkg import module`` depends on that module; ``from pkg import name`` on pkg
            subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in known]
            targets = subs if len(subs) == len(node.names) else [mod, *subs]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of size > 1 (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    p.add_argument("--packages", nargs="+", default=["rag", "app"])
    args = p.parse_args(argv)
    files = [f for pkg in args.packages for f in sorted((args.root / pkg).rglob("*.py"))]
    names = {module_name(f, args.root): f for f in files}
    known = set(names)
    graph: dict[str, set[str]] = {}
    long_modules: list[dict] = []
    functions: list[tuple[int, str]] = []
    for name, f in names.items():
        text = f.read_text(encoding="utf-8")
        tree = ast.parse(text)
        graph[name] = imports_of(tree, name, f.name == "__init__.py", known)
        lines = len(text.splitlines())
        if lines > 400:
            long_modules.append({"module": name, "lines": lines})
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append((node.end_lineno - node.lineno + 1, f"{name}.{node.name}"))
    functions.sort(reverse=True)

    def room(module: str) -> str:
        parts = module.split(".")
        return ".".join(parts[:2]) if parts[0] == "rag" and len(parts) > 1 else parts[0]

    leaks = sorted(f"{a} -> {b}" for a, deps in graph.items() for b in deps if (room(a), room(b)) in SIDE_BY_SIDE)
    print(
        json.dumps(
            {
                "modules": len(names),
                "lines": sum(len(f.read_text(encoding="utf-8").splitlines()) for f in files),
                "import_cycles": cycles(graph),
                "side_by_side_imports": leaks,
                "upward_imports": upward_imports(graph),
                "face_imports": face_imports(graph),
                "modules_over_400_lines": long_modules,
                "longest_functions": [{"function": n, "lines": k} for k, n in functions[:5]],
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
