"""dbt nodes -> datasets: the dbt entity (platform `dbt`) and its warehouse table, siblings, with lineage.

Names follow DataHub's dbt source (see bridge/emit/urns.py): the dbt entity is named where dbt places the
node (sources by logical name), the warehouse table by its physical relation. Lineage: a dbt entity's
upstreams are its `depends_on` nodes' dbt entities (ephemeral ones included); a warehouse table's upstreams
are the warehouse tables it is built from, passing through ephemeral models.
"""

from __future__ import annotations

from collections.abc import Mapping

from bridge.join.settings import JoinSettings
from bridge.model.dbt import RELATION_TYPES, DbtNode, DbtProject, Relation
from bridge.model.graph import Dataset, DatasetKey

_SUBTYPES = {"model": "Model", "seed": "Seed", "snapshot": "Snapshot", "source": "Source"}
_ADAPTER_PLATFORMS = {"spark": "databricks", "sqlserver": "mssql", "fabric": "mssql"}


def warehouse_platform(adapter_type: str) -> str:
    return _ADAPTER_PLATFORMS.get(adapter_type.lower(), adapter_type.lower())


def _name(parts: tuple[str, ...], settings: JoinSettings) -> str:
    name = ".".join(parts)
    return name.lower() if settings.lowercase_urns else name


def dbt_key(node: DbtNode, settings: JoinSettings) -> DatasetKey:
    location = node.location or Relation(None, node.package_name, node.name)
    name = node.name if node.resource_type == "source" else location.identifier
    parts = (*((location.database,) if location.database else ()), location.schema, name)
    return DatasetKey("dbt", _name(parts, settings), settings.dbt_platform_instance, settings.env)


def warehouse_key(relation: Relation, adapter_type: str, settings: JoinSettings) -> DatasetKey:
    platform = warehouse_platform(adapter_type)
    return DatasetKey(platform, _name(relation.parts, settings), settings.platform_instance, settings.env)


def materialized_upstreams(node: DbtNode, nodes: Mapping[str, DbtNode]) -> list[DbtNode]:
    """The nodes with a relation that `node` reads, passing through ephemeral models."""
    found: dict[str, DbtNode] = {}
    pending, seen = list(node.depends_on), set()
    while pending:
        uid = pending.pop()
        if uid in seen or uid not in nodes:
            continue
        seen.add(uid)
        upstream = nodes[uid]
        if upstream.relation is not None:
            found[uid] = upstream
        elif upstream.is_ephemeral:
            pending.extend(upstream.depends_on)
    return [found[uid] for uid in sorted(found)]


def project_datasets(
    project: DbtProject, settings: JoinSettings, owned_by: Mapping[str, DbtProject] | None = None
) -> list[Dataset]:
    """One dbt dataset per model, seed, snapshot and source; one warehouse dataset per relation. A node whose
    `owned_by` project is another (it defines the node too, and wins) makes no dataset here."""
    settings = settings.for_project(project)
    nodes = project.nodes
    datasets: list[Dataset] = []
    for node in project.of_type(*sorted(RELATION_TYPES)):
        if owned_by is not None and owned_by.get(node.unique_id, project) is not project:
            continue
        datasets.append(_dbt_dataset(node, nodes, project.adapter_type, settings))
        if node.relation is not None:
            datasets.append(_warehouse_dataset(node, nodes, project.adapter_type, settings))
    return datasets


def _properties(node: DbtNode, adapter_type: str) -> dict[str, str]:
    props = {
        "dbt_unique_id": node.unique_id,
        "dbt_package_name": node.package_name,
        "dbt_file_path": node.original_file_path,
        "dbt_adapter": adapter_type,
    }
    optional = {
        "materialization": node.materialized,
        "relation": node.relation.dotted if node.relation else None,
        "version": node.version,
        "group": node.group,
        "access": node.access,
    }
    return props | {k: v for k, v in optional.items() if v}


def _dbt_dataset(node: DbtNode, nodes: Mapping[str, DbtNode], adapter: str, settings: JoinSettings) -> Dataset:
    upstreams = sorted({dbt_key(nodes[uid], settings) for uid in node.depends_on if _is_dataset(nodes.get(uid))})
    sibling = warehouse_key(node.relation, adapter, settings) if node.relation else None
    return Dataset(
        key=dbt_key(node, settings),
        display_name=node.display_name,
        subtype=_SUBTYPES[node.resource_type],
        description=node.description,
        dbt_unique_id=node.unique_id,
        upstreams=tuple(upstreams),
        sibling=sibling,
        is_primary_sibling=True,
        tags=tuple(sorted(set(node.tags))),
        properties=_properties(node, adapter),
    )


def _warehouse_dataset(node: DbtNode, nodes: Mapping[str, DbtNode], adapter: str, settings: JoinSettings) -> Dataset:
    assert node.relation is not None
    read = materialized_upstreams(node, nodes)
    upstreams = {warehouse_key(n.relation, adapter, settings) for n in read if n.relation}
    subtype = "View" if node.materialized == "view" else "Table"
    return Dataset(
        key=warehouse_key(node.relation, adapter, settings),
        display_name=node.relation.identifier,
        subtype=subtype,
        description=node.description,
        dbt_unique_id=node.unique_id,
        upstreams=tuple(sorted(upstreams)),
        sibling=dbt_key(node, settings),
        is_primary_sibling=False,
        tags=tuple(sorted(set(node.tags))),
    )


def _is_dataset(node: DbtNode | None) -> bool:
    return node is not None and node.resource_type in RELATION_TYPES
