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
    """The projects without the exports of projects a manifest also describes (the first manifest by path, as
    `node_owners` chooses), and what those disagree on: nodes placed elsewhere, nodes only one of them has."""
    manifests: dict[str, DbtProject] = {}
    for project in sorted(projects, key=lambda p: p.manifest_path):
        if project.origin == "manifest":
            manifests.setdefault(project.project_name, project)
    kept, problems = [], []
    for project in projects:
        manifest = manifests.get(project.project_name) if project.origin == "export" else None
        if manifest is None:
            kept.append(project)
            continue
        differences = _differences(project, manifest)
        if differences:
            problems.append(
                Problem(
                    "dbt-export-mismatch",
                    "warning",
                    f"project {project.project_name}",
                    f"{project.manifest_path} and {manifest.manifest_path} differ: {'; '.join(differences)}. The "
                    "manifest is used; give the two for the same target and the same state of the project",
                )
            )
    return kept, problems


def _differences(export: DbtProject, manifest: DbtProject) -> list[str]:
    moved = [uid for uid, node in sorted(export.nodes.items())
             if uid in manifest.nodes and node.relation != manifest.nodes[uid].relation]  # fmt: skip
    only_export = sorted(set(export.nodes) - set(manifest.nodes))
    only_manifest = sorted(set(manifest.nodes) - set(export.nodes))
    found = []
    if moved:
        uid = moved[0]
        found.append(f"{len(moved)} node(s) placed elsewhere (e.g. {uid}: {export.nodes[uid].relation} against "
                     f"{manifest.nodes[uid].relation})")  # fmt: skip
    if only_export:
        found.append(f"{len(only_export)} node(s) only the export has, left out (e.g. {only_export[0]})")
    if only_manifest:
        found.append(f"{len(only_manifest)} node(s) only the manifest has (e.g. {only_manifest[0]})")
    return found


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
