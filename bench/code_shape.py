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
from pathlib import Path

# Layers that must not import each other (they meet in the text layer below them).
SIDE_BY_SIDE = {("rag.retrieval", "rag.generation"), ("rag.generation", "rag.retrieval")}


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
