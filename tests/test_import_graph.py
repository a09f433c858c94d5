"""The package's import graph has no cycle, counting imports inside functions too.

A cycle means two modules each need the other: neither can be read, tested or moved alone,
and a module-level import added later turns it into an ImportError. The graph is read from
the source (every ``import`` and ``from ... import``, wherever it stands), one node a module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import lrkit
from lrkit.tasks import task as task_module

SRC = Path(lrkit.__file__).resolve().parent.parent


def _modules(src: Path) -> dict[str, Path]:
    out = {}
    for path in src.rglob("*.py"):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _targets(node: ast.AST, package: str, modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:  # relative: climb from the importing module's package
        parts = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join(parts + ([base] if base else []))
    # ``from pkg import mod`` depends on pkg.mod when that is a module, else on pkg itself
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]


def import_graph(src: Path = SRC, root: str = "lrkit") -> dict[str, set[str]]:
    """Module -> the modules of ``root`` it imports anywhere in its source."""
    modules = _modules(src)
    graph: dict[str, set[str]] = {name: set() for name in modules if name.startswith(root)}
    for name in graph:
        path = modules[name]
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(node, package, modules):
                while target and target not in modules:  # a name inside a module
                    target = target.rpartition(".")[0]
                if target in graph and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iterative).

    >>> cycles({"a": ["b"], "b": ["a"], "c": ["a"]})
    [['a', 'b']]
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
    return found


def test_the_finder_sees_a_cycle_and_a_clean_chain() -> None:
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert cycles({"a": ["b"], "b": ["c"], "c": []}) == []


def test_the_finder_reads_an_import_inside_a_function(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("def f():\n    from pkg.high import g\n    return g\n")
    (pkg / "high.py").write_text("from pkg import low\n")
    assert cycles(import_graph(tmp_path, "pkg")) == [["pkg.high", "pkg.low"]]


def test_lrkit_has_no_import_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 100  # the walk found the package, not an empty folder
    # (auto's Executor uses compare's backends: compare receives lrkit.auto as
    # Context.search instead of importing it, so no cycle closes there)
    assert cycles(graph) == []


def test_task_from_framework_finds_the_integrations_builders() -> None:
    # Task.from_* look their builders up by name (an import would close tasks <->
    # integrations); the names must stay the builders that exist.
    from lrkit.integrations import tasks as builders

    for name in ("task_from_lightning", "task_from_trainer", "task_from_keras"):
        assert task_module._framework_builder(name) is getattr(builders, name)
