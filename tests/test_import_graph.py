"""The package's layering, read from the source (``ast``, nothing imported): a module never imports a
higher stage, and no two modules import each other, directly or around a circle.

Stages, lowest first (docs: a module never imports a higher stage): the shared base (``riskml``,
``riskml.config``, ``errors``, ``io``, ``commands``) < data (and the dataset importers) < features <
modeling < explain < scoring < spark (beside scoring: it may import scoring and below, scoring never
imports it) < reporting / backtest / collect / serving < cli. Every import counts: at the top of a module,
inside a function (a lazy import is still a dependency) and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "riskml"

# stage of each first-level name under riskml (a module or a package)
STAGES: dict[str, float] = {
    "": 0, "config": 0, "errors": 0, "io": 0, "commands": 0,
    "data": 1, "importers": 1,
    "features": 2,
    "modeling": 3,
    "explain": 4,
    "scoring": 5,
    "spark": 5.5,
    "reporting": 6, "backtest": 6, "collect": 6, "serving": 6,
    "cli": 7,
}
# single modules whose stage differs from their package's, with the reason
MODULE_STAGES: dict[str, tuple[float, str]] = {
    "riskml.data.contract": (0, "the ledger tables' contract: plain declarations (no riskml import) that the "
                                "config validates table names against and io reads and writes by"),
}
def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(imported riskml module, line) for every import statement of the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "riskml" or alias.name.startswith("riskml."):
                    yield _known(alias.name, modules), node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, path.name == "__init__.py", node)
            if target != "riskml" and not target.startswith("riskml."):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield (sub if sub in modules else _known(target, modules)), node.lineno


def _known(name: str, modules: dict[str, Path]) -> str:
    """The module itself, or its nearest enclosing package that exists."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def stage(module: str) -> float:
    if module in MODULE_STAGES:
        return MODULE_STAGES[module][0]
    parts = module.split(".")
    first = parts[1] if len(parts) > 1 else ""
    if first not in STAGES:
        raise AssertionError(f"{module}: no stage declared for riskml.{first}; add it to STAGES")
    return STAGES[first]


def import_graph() -> dict[str, dict[str, int]]:
    modules = all_modules()
    graph: dict[str, dict[str, int]] = {m: {} for m in modules}
    for name, path in modules.items():
        for target, line in imports_of(name, path, modules):
            if target != name:
                graph[name].setdefault(target, line)
    return graph


def upward_imports(graph: dict[str, dict[str, int]]) -> list[tuple[str, str, int]]:
    return [(m, t, line) for m, targets in graph.items() for t, line in targets.items() if stage(t) > stage(m)]


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


# ----------------------------------------------------------------------------- the checker, checked
def test_the_checker_reads_relative_lazy_and_type_checking_imports(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    pkg = tmp_path / "riskml"
    (pkg / "scoring").mkdir(parents=True)
    (pkg / "modeling").mkdir()
    for p in ("__init__.py", "scoring/__init__.py", "modeling/__init__.py", "config.py"):
        (pkg / p).write_text("")
    (pkg / "modeling" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nfrom . import b\nif TYPE_CHECKING:\n    from riskml.scoring import s\n")
    (pkg / "modeling" / "b.py").write_text("def f():\n    from .a import x\n    import riskml.config\n")
    (pkg / "scoring" / "s.py").write_text("from ..modeling.a import y\n")
    import sys

    me = sys.modules[__name__]
    monkeypatch.setattr(me, "SRC", tmp_path)
    monkeypatch.setattr(me, "PACKAGE", pkg)
    graph = import_graph()
    assert graph["riskml.modeling.a"] == {"riskml.modeling.b": 2, "riskml.scoring.s": 4}
    assert graph["riskml.modeling.b"] == {"riskml.modeling.a": 2, "riskml.config": 3}
    assert graph["riskml.scoring.s"] == {"riskml.modeling.a": 1}
    assert upward_imports(graph) == [("riskml.modeling.a", "riskml.scoring.s", 4)]
    assert cycles(graph) == [["riskml.modeling.a", "riskml.modeling.b", "riskml.scoring.s"]]


# ------------------------------------------------------------------------------------- the package
@pytest.fixture(scope="module")
def graph() -> dict[str, dict[str, int]]:
    return import_graph()


def test_every_module_has_a_stage() -> None:
    for module in all_modules():
        stage(module)


def test_no_module_imports_a_higher_stage(graph: dict[str, dict[str, int]]) -> None:
    found = [f"{m} (stage {stage(m):g}) imports {t} (stage {stage(t):g}) at line {line}"
             for m, t, line in upward_imports(graph)]
    assert not found, "upward imports:\n" + "\n".join(found)


def test_the_spark_package_never_imports_the_cli(graph: dict[str, dict[str, int]]) -> None:
    found = [(m, t) for m, targets in graph.items() if m.startswith("riskml.spark")
             for t in targets if t.startswith("riskml.cli")]
    assert not found


def test_no_import_cycles(graph: dict[str, dict[str, int]]) -> None:
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)
