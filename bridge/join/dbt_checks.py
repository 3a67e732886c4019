"""What the manifests themselves leave open, decided and reported: a node that several manifests define, and a
node that should live in the warehouse but has no schema to say where.

A node defined by several manifests (the same project given twice, a package installed by two projects, two
targets of one project) is used from the first manifest in path order, whatever order they were given in;
the others' copies still serve their own project's lineage but make no dataset of their own.
"""

from __future__ import annotations

from bridge.model.dbt import RELATION_TYPES, DbtProject
from bridge.model.report import Problem


def node_owners(projects: list[DbtProject]) -> dict[str, DbtProject]:
    """unique_id -> the project whose copy of the node is used: the first manifest in path order."""
    owners: dict[str, DbtProject] = {}
    for project in sorted(projects, key=lambda p: p.manifest_path):
        for unique_id in project.nodes:
            owners.setdefault(unique_id, project)
    return owners


def duplicate_node_problems(projects: list[DbtProject], owners: dict[str, DbtProject]) -> list[Problem]:
    others: dict[str, list[str]] = {}
    for project in sorted(projects, key=lambda p: p.manifest_path):
        for unique_id in project.nodes:
            if owners[unique_id] is not project:
                others.setdefault(unique_id, []).append(project.manifest_path)
    return [
        Problem(
            "duplicate-dbt-node",
            "warning",
            f"node {unique_id}",
            f"defined in {owners[unique_id].manifest_path} and {', '.join(paths)}; the first (by path) is used",
        )
        for unique_id, paths in sorted(others.items())
    ]


def missing_relation_problems(projects: list[DbtProject]) -> list[Problem]:
    """Models, seeds, snapshots and sources that are not ephemeral yet have no schema in the manifest."""
    return [
        Problem(
            "node-without-relation",
            "warning",
            f"node {node.unique_id}",
            f"{project.manifest_path} gives it no schema (nor a relation_name), so no warehouse table is emitted "
            "for it; re-create the manifest with `dbt parse` for the target it runs in",
        )
        for project in projects
        for node in project.of_type(*sorted(RELATION_TYPES))
        if node.relation is None and not node.is_ephemeral
    ]
