"""The house: stages import one way only, and no group of modules imports itself in a circle.

The import-linter contracts in ``pyproject.toml`` (run by ``lint-imports`` in CI) keep
the layers; this test adds what a layer contract cannot see: a cycle inside one stage,
counting every import (module level, inside functions, and under ``TYPE_CHECKING``).
"""

from __future__ import annotations

from pathlib import Path

import grimp

SRC = Path(__file__).resolve().parents[1] / "src" / "stepchart"


def _sccs(nodes: set[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
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
            if len(comp) > 1 or v in edges.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def _graph() -> tuple[set[str], dict[str, set[str]]]:
    graph = grimp.build_graph("stepchart", exclude_type_checking_imports=False, cache_dir=None)
    nodes = set(graph.modules)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) & nodes for m in nodes}
    return nodes, edges


def test_the_tarjan_walk_finds_a_cycle() -> None:
    assert _sccs({"a", "b", "c"}, {"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]
    assert _sccs({"a", "b"}, {"a": {"b"}}) == []


def test_no_module_cycle_counting_every_import() -> None:
    nodes, edges = _graph()
    assert "stepchart.engine.core" in nodes  # the graph is the real package
    assert _sccs(nodes, edges) == []


def test_every_subpackage_says_its_job_and_no_module_is_over_400_lines() -> None:
    too_long = []
    for path in sorted(SRC.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > 400:
            too_long.append(f"{path.relative_to(SRC)} ({lines})")
        if path.name == "__init__.py":
            import ast

            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
            assert doc and len(doc.splitlines()[0]) > 10, f"{path.relative_to(SRC)} needs a one-line docstring"
    assert too_long == []
