"""What the dbt-ls comparison (tests/integration/test_selection_vs_dbt_ls.py) cannot show on the bundled
project, which installs no package with models: `path:` globs the root project's folders, so a package's
node is selected only where the root project has the same path, as dbt does."""

from __future__ import annotations

from bridge.join.selection import SelectionGraph, parse_cli
from bridge.model.dbt import DbtNode, DbtProject


def node(uid: str, package: str, path: str) -> DbtNode:
    return DbtNode(uid, "model", package, uid.rsplit(".", 1)[-1], None, fqn=(package, uid.rsplit(".", 1)[-1]),
                   original_file_path=path)  # fmt: skip


def test_path_selects_package_nodes_only_where_the_root_project_has_that_path() -> None:
    nodes = [
        node("model.shop.orders", "shop", "models/staging/orders.sql"),
        node("model.vendor.pkg_model", "vendor", "models/vendor/pkg_model.sql"),
        node("model.vendor.staged", "vendor", "models/staging/staged.sql"),
    ]
    project = DbtProject("m.json", "shop", "postgres", "1.11", 12, "", {n.unique_id: n for n in nodes})
    graph = SelectionGraph(project)
    assert graph.select(parse_cli(["path:models/vendor"], None)) == set()
    assert graph.select(parse_cli(["path:models/staging"], None)) == {"model.shop.orders", "model.vendor.staged"}
    assert graph.select(parse_cli(["path:models/*/"], None)) == {"model.shop.orders", "model.vendor.staged"}
    assert graph.select(parse_cli(["path:models/staging/*.sql"], None)) == {"model.shop.orders"}
