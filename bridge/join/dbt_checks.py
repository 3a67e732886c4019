"""What the manifests themselves leave open, decided and reported: a project given both as a manifest and as
the dbt package's export, a node that several manifests define, and a node that should live in the
warehouse but has no schema to say where.

A project given as a manifest and as an export is one project: the manifest describes it (it is dbt's own
artifact), and where the export places nodes elsewhere (the two were made for different targets) that is
reported, since then one of them is not what runs.

A node defined by several manifests (the same project given twice, a package installed by two projects, two
targets of one project) is used from the first manifest in path order, whatever order they were given in;
the others' copies still serve their own project's lineage but make no dataset of their own.
"""

from __future__ import annotations

from bridge.model.dbt import RELATION_TYPES, DbtProject
from bridge.model.report import Problem


def one_per_project(projects: list[DbtProject]) -> tuple[list[DbtProject], list[Problem]]:
    """The projects without the exports of projects a manifest also describes, and what those disagree on."""
    manifests = {p.project_name: p for p in sorted(projects, key=lambda p: p.manifest_path) if p.origin == "manifest"}
    kept, problems = [], []
    for project in projects:
        manifest = manifests.get(project.project_name) if project.origin == "export" else None
        if manifest is None:
            kept.append(project)
            continue
        moved = [
            (uid, node.relation, manifest.nodes[uid].relation)
            for uid, node in sorted(project.nodes.items())
            if uid in manifest.nodes and node.relation != manifest.nodes[uid].relation
        ]
        if moved:
            uid, exported, manifested = moved[0]
            problems.append(
                Problem(
                    "dbt-export-mismatch",
                    "warning",
                    f"project {project.project_name}",
                    f"{project.manifest_path} places {len(moved)} node(s) elsewhere than {manifest.manifest_path} "
                    f"(e.g. {uid}: {exported} against {manifested}); the manifest is used. Give the two for the "
                    "same target",
                )
            )
    return kept, problems


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
