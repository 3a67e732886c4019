"""What the manifests leave open: a node defined by two manifests (reported, the first by path used, whatever
order they are given in) and a node with no schema (reported, not silently left without a table)."""

from __future__ import annotations

import re
from dataclasses import replace

from bridge.join.pipeline import join_lineage
from bridge.join.settings import JoinSettings
from bridge.model.dbt import DbtProject, Relation
from bridge.model.report import PROBLEM_CODES
from tests.conftest import REPO

MODEL = "model.finance.dim_securities"


def test_a_node_in_two_manifests_is_reported_and_the_first_by_path_wins(postgres_project: DbtProject) -> None:
    node = postgres_project.nodes[MODEL]
    elsewhere = replace(node, relation=Relation("other_db", "other_schema", "securities"))
    second = replace(postgres_project, manifest_path="z/manifest.json", nodes={MODEL: elsewhere})
    first = replace(postgres_project, manifest_path="a/manifest.json")
    graphs = [join_lineage(order, None, JoinSettings()) for order in ([first, second], [second, first])]
    assert graphs[0] == graphs[1]  # the order the manifests were given in does not matter
    [problem] = [p for p in graphs[0].problems if p.code == "duplicate-dbt-node"]
    assert (problem.severity, problem.location) == ("warning", f"node {MODEL}")
    assert "defined in a/manifest.json and z/manifest.json; the first (by path) is used" in problem.message
    names = {d.key.name for d in graphs[0].datasets}
    assert "bridge_dbt.marts.securities" in names and "other_db.other_schema.securities" not in names


def test_a_node_without_a_schema_is_reported(postgres_project: DbtProject) -> None:
    node = replace(postgres_project.nodes[MODEL], relation=None, location=None)
    project = replace(postgres_project, nodes={**postgres_project.nodes, MODEL: node})
    graph = join_lineage([project], None, JoinSettings())
    [problem] = [p for p in graph.problems if p.code == "node-without-relation"]
    assert problem.location == f"node {MODEL}" and "no warehouse table is emitted for it" in problem.message


def test_every_problem_code_the_bridge_reports_is_known() -> None:
    """`--fail-on` accepts exactly the codes of `PROBLEM_CODES`: every `Problem("...")` in bridge/ is one."""
    source = "\n".join(p.read_text() for p in (REPO / "bridge").rglob("*.py"))
    used = set(re.findall(r'Problem\(\s*"([a-z-]+)"', source))
    assert used == set(PROBLEM_CODES)
