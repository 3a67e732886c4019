"""No import cycle in `bridge/`: the modules form layers (model, read, join, emit, commands). Imports inside
functions count too: a lazy import still ties two modules together."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter

from tests.conftest import REPO


def bridge_imports() -> dict[str, set[str]]:
    """Each bridge module -> the bridge modules it imports anywhere in its body."""
    paths = {_module_name(p): p for p in (REPO / "bridge").rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in paths and t != name}
    return graph


def _module_name(path: object) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts  # type: ignore[attr-defined]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_bridge_has_no_import_cycle() -> None:
    graph = bridge_imports()
    assert len(graph) > 50 and graph["bridge.sync"], "the import graph was not read"
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as cycle:
        raise AssertionError(f"import cycle: {' -> '.join(cycle.args[1])}") from None
