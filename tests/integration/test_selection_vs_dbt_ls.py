"""The bridge's evaluation of dbt's selection grammar agrees with real `dbt ls` on the bundled project.

dbt parses a copy of the project once (the Snowflake profile: no connection needed); every row of the table
is then listed by dbt (`dbt ls`, reusing that parse) and selected by `bridge.join.selection` from the manifest
that same parse wrote. The rows cover every method, graph operator, set operation, indirect-selection mode
and YAML selector the module documents.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bridge.join.selection import SelectionGraph, parse_cli, parse_selector
from bridge.read.dbt.manifest import read_manifest

REPO = Path(__file__).resolve().parents[2]
# The resource types the bridge reads from a manifest (dbt also lists unit tests, metrics, ...).
READ_TYPES = ["model", "seed", "snapshot", "test", "source", "exposure", "analysis"]

SELECT_ROWS: list[tuple[str, ...]] = [
    ("fct_index_performance",),
    ("+fct_index_performance",),
    ("fct_index_performance+",),
    ("1+fct_index_performance",),
    ("fct_index_performance+1",),
    ("2+fct_portfolio_rebalancing+1",),
    ("@int_index_returns",),
    ("+dim_employees",),
    ("dim_employees.v2",),
    ("dim_employees_v1",),
    ("fqn:finance.marts",),
    ("fqn:finance.marts.markets.*",),
    ("fqn:marts.hr",),
    ("finance.staging.fred.*",),
    ("stg_*",),
    ("fqn:*",),
    ("tag:markets",),
    ("tag:mark*",),
    ("tag:markets,tag:reference-data",),
    ("tag:staging tag:snapshot",),
    ("tag:staging", "tag:raw"),
    ("+fct_portfolio_rebalancing,tag:staging",),
    ("path:models/marts",),
    ("path:models/staging/*/",),
    ("path:models/marts/*/",),
    ("path:models/marts/",),
    ("models/staging/fred",),
    ("path:models/marts/*/fct_*.sql",),
    ("path:models/**/_hr__marts.yml",),
    ("path:seeds",),
    ("path:snapshots",),
    ("file:fct_index_performance.sql",),
    ("fct_index_performance.sql",),
    ("file:stg_*",),
    ("config.materialized:view",),
    ("config.materialized:ephemeral",),
    ("config.materialized:seed",),
    ("config.schema:marts",),
    ("config.meta.domain:markets",),
    ("config.enabled:true",),
    ("config.severity:error",),
    ("config.tags:pii",),
    ("config.tags.0:marts",),
    ("config.access:public",),
    ("resource_type:seed",),
    ("resource_type:snapshot",),
    ("resource_type:test",),
    ("resource_type:exposure",),
    ("resource_type:source",),
    ("package:finance",),
    ("package:this",),
    ("package:fin*",),
    ("source:*",),
    ("source:fred",),
    ("source:markets.index_prices",),
    ("source:finance.hr.*",),
    ("source:fred+",),
    ("+source:markets.securities+1",),
    ("exposure:*",),
    ("+exposure:finance_dashboard",),
    ("test_type:generic",),
    ("test_type:singular",),
    ("test_type:data",),
    ("test_name:not_null",),
    ("test_name:accepted_*",),
    ("test_name:relationships",),
    ("version:latest",),
    ("version:old",),
    ("version:none",),
    ("access:public",),
    ("access:protected",),
    ("group:markets",),
    ("group:fr*",),
    ("@dim_country",),
    ("dim_country+ +dim_country",),
    ("tag:", "dim_date"),
    ("dim_date,",),
]

# (select, exclude, indirect selection)
EXCLUDE_ROWS: list[tuple[tuple[str, ...], tuple[str, ...], str]] = [
    (("tag:marts",), ("tag:pii",), "eager"),
    (("+fct_index_performance",), ("resource_type:seed",), "eager"),
    (("path:models",), ("@dim_country",), "eager"),
    ((), ("path:models/staging",), "eager"),
    (("dim_securities",), (), "cautious"),
    (("dim_securities dim_country",), (), "cautious"),
    (("dim_securities",), (), "buildable"),
    (("+dim_securities",), (), "buildable"),
    (("dim_securities",), (), "empty"),
    (("tag:markets,+dim_securities",), ("test_name:unique",), "cautious"),
    (("tag:marts",), ("dim_country",), "cautious"),
    (("tag:marts",), ("dim_country",), "buildable"),
]

SELECTORS = ["markets_daily", "marts_without_pii"]


@pytest.fixture(scope="module")
def dbt_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """A parse of the bundled project by real dbt: (dbt's manifest object, the manifest.json it wrote)."""
    from dbt.cli.main import dbtRunner

    root = tmp_path_factory.mktemp("selection")
    shutil.copytree(REPO / "macros", root / "macros")
    ignored = shutil.ignore_patterns("artifacts", "target", "logs", "dbt_packages")
    shutil.copytree(REPO / "dbt_project", root / "dbt_project", ignore=ignored)
    (root / "profiles").mkdir()
    shutil.copy(REPO / "profiles.example.yml", root / "profiles" / "profiles.yml")
    common = ["--project-dir", str(root / "dbt_project"), "--profiles-dir", str(root / "profiles")]
    for args in (["deps"], ["parse", "--no-partial-parse"]):
        result = dbtRunner().invoke(
            [*args, *common, "--log-path", str(root / "logs"), "--log-level-file", "none", "--quiet"]
        )
        assert result.success, f"dbt {args[0]} failed: {result.exception}"
    return result.result, root / "dbt_project" / "target" / "manifest.json"


@pytest.fixture(scope="module")
def graph(dbt_project: tuple[Any, Path]) -> SelectionGraph:
    return SelectionGraph(read_manifest(dbt_project[1]))


def dbt_ls(dbt_project: tuple[Any, Path], *args: str) -> set[str]:
    from dbt.cli.main import dbtRunner

    manifest, path = dbt_project
    project_dir = path.parents[1]
    argv = ["ls", *args, "--resource-type", *READ_TYPES, "--output", "json", "--output-keys", "unique_id",
            "--project-dir", str(project_dir), "--profiles-dir", str(project_dir.parent / "profiles"),
            "--log-path", str(project_dir.parent / "logs"), "--log-level-file", "none", "--quiet"]  # fmt: skip
    result = dbtRunner(manifest=manifest).invoke(argv)
    assert result.success, f"dbt ls {' '.join(args)} failed: {result.exception}"
    return {json.loads(line)["unique_id"] for line in result.result}


def selected(graph: SelectionGraph, spec: Any) -> set[str]:
    return {uid for uid in graph.select(spec) if graph.nodes[uid].resource_type in READ_TYPES}


@pytest.mark.parametrize("select", SELECT_ROWS, ids=" ".join)
def test_select_agrees_with_dbt_ls(select: tuple[str, ...], graph: SelectionGraph, dbt_project: Any) -> None:
    expected = dbt_ls(dbt_project, "--select", *select)
    assert selected(graph, parse_cli(select, None)) == expected


@pytest.mark.parametrize(("select", "exclude", "indirect"), EXCLUDE_ROWS, ids=lambda v: " ".join(v) or "-")
def test_exclude_and_indirect_selection_agree_with_dbt_ls(
    select: tuple[str, ...], exclude: tuple[str, ...], indirect: Any, graph: SelectionGraph, dbt_project: Any
) -> None:
    args = [*(["--select", *select] if select else []), *(["--exclude", *exclude] if exclude else [])]
    expected = dbt_ls(dbt_project, *args, "--indirect-selection", indirect)
    assert selected(graph, parse_cli(select, exclude, indirect)) == expected


@pytest.mark.parametrize("name", SELECTORS)
def test_yaml_selectors_agree_with_dbt_ls(name: str, graph: SelectionGraph, dbt_project: Any) -> None:
    expected = dbt_ls(dbt_project, "--selector", name)
    assert expected, f"selector {name} selects nothing in dbt: the row tests nothing"
    assert selected(graph, parse_selector(name, graph.project.selectors)) == expected


# Rows where dbt itself selects nothing (a trailing comma, a list index in config.): the point is that we don't.
SELECTING_NOTHING = [("config.tags.0:marts",), ("dim_date,",)]


def test_the_table_selects_something_in_every_row(graph: SelectionGraph) -> None:
    """A row that selects nothing would agree with dbt for any evaluator: every other select row finds nodes."""
    empty = [row for row in SELECT_ROWS if not selected(graph, parse_cli(row, None))]
    assert empty == SELECTING_NOTHING
