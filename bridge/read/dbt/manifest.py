"""Reading dbt's `manifest.json` (schema v7 to v12, plain or gzipped) into a `DbtProject`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from bridge.errors import ArtifactError
from bridge.model.dbt import (
    RELATION_TYPES,
    DbtColumn,
    DbtNode,
    DbtProject,
    Group,
    Owner,
    ProjectOrigin,
    Relation,
    TestInfo,
)
from bridge.read.artifact import checked_schema_version, decode, read_bytes
from bridge.read.dbt import schema
from bridge.read.dbt.relation import parse_relation_name, relation_from_parts

SUPPORTED_MANIFEST_VERSIONS = range(7, 13)
SUPPORTED_TEXT = "v7 (dbt 1.4) to v12 (dbt 1.8 and later)"


def read_manifest(path: str | Path, columns: bool = False) -> DbtProject:
    """The project a manifest describes. Raises `ArtifactError` naming the file on any problem.

    `columns`: read the columns the manifest documents too (descriptions, tags), for a catalog to meet;
    skipped otherwise, which keeps large manifests cheap.
    """
    path = Path(path)
    raw = read_bytes(path)
    version = checked_schema_version(path, raw, "manifest", SUPPORTED_MANIFEST_VERSIONS, SUPPORTED_TEXT)
    kind: type[schema.Manifest] = schema.ManifestWithColumns if columns else schema.Manifest
    manifest = decode(path, raw, "dbt manifest", kind)
    nodes = [*manifest.nodes.values(), *manifest.sources.values(), *manifest.exposures.values()]
    return build_project(
        str(path), manifest.metadata, version, nodes, manifest.groups.values(), selectors=manifest.selectors
    )


def build_project(
    origin: str,
    metadata: schema.Metadata,
    schema_version: int,
    nodes: Iterable[schema.Node],
    groups: Iterable[schema.GroupStruct],
    kind: ProjectOrigin = "manifest",
    selectors: dict[str, Any] | None = None,
) -> DbtProject:
    """A `DbtProject` from manifest-shaped nodes (a manifest's, or the entries of a bridge export)."""
    adapter_type = metadata.adapter_type or "snowflake"
    configs = ((n, schema.node_config(n)) for n in nodes)
    converted = {n.unique_id: _node(origin, n, config, adapter_type) for n, config in configs if config.enabled}
    return DbtProject(
        manifest_path=origin,
        project_name=metadata.project_name or _root_package(converted.values()),
        adapter_type=adapter_type,
        dbt_version=metadata.dbt_version,
        schema_version=schema_version,
        generated_at=metadata.generated_at,
        nodes=converted,
        groups={g.unique_id: _group(g) for g in groups},
        selectors=selectors or {},
        origin=kind,
        dbt_schema_version=metadata.dbt_schema_version,
    )


def resolve_relation(node: schema.Node, materialized: str | None, adapter_type: str) -> Relation | None:
    """`relation_name` first, then `database.schema.alias|identifier`; None for ephemeral or non-relations."""
    if node.resource_type not in RELATION_TYPES or materialized == "ephemeral":
        return None
    if node.relation_name:
        return parse_relation_name(node.relation_name, adapter_type)
    name = node.identifier if node.resource_type == "source" else node.alias
    return relation_from_parts(node.database, node.schema_name, name or node.name)


def _location(node: schema.Node) -> Relation | None:
    if node.resource_type not in RELATION_TYPES:
        return None
    return relation_from_parts(node.database, node.schema_name, node.alias or node.name)


def _node(origin: str, node: schema.Node, config: schema.NodeConfig, adapter_type: str) -> DbtNode:
    try:
        relation = resolve_relation(node, config.materialized, adapter_type)
    except ValueError as exc:
        raise ArtifactError(origin, f"node {node.unique_id}: {exc}", "Re-create it with dbt.") from exc
    return DbtNode(
        unique_id=node.unique_id,
        resource_type=node.resource_type,
        package_name=node.package_name,
        name=node.name,
        relation=relation,
        location=relation or _location(node),
        materialized=config.materialized,
        depends_on=tuple(node.depends_on.nodes),
        fqn=tuple(node.fqn),
        original_file_path=node.original_file_path,
        patch_path=node.patch_path,
        description=node.description or "",
        version=_text(node.version),
        latest_version=_text(node.latest_version),
        source_name=node.source_name,
        group=node.group or config.group,
        access=node.access,
        tags=(node.tags,) if isinstance(node.tags, str) else tuple(node.tags),
        meta={**config.meta, **node.meta},
        config_json=bytes(node.config_json),
        test=_test_info(node, config.severity),
        owner=_owner(node.owner) if node.owner else None,
        url=node.url,
        columns=_columns(node),
    )


def _columns(node: schema.Node) -> tuple[DbtColumn, ...]:
    """The columns a manifest documents (only read when asked for: `schema.NodeWithColumns`)."""
    documented = getattr(node, "columns", None)
    if not documented:
        return ()
    return tuple(
        DbtColumn(c.name or key, c.description or "", c.data_type, tuple(c.tags)) for key, c in documented.items()
    )


def _test_info(node: schema.Node, severity: str | None) -> TestInfo | None:
    if node.resource_type != "test":
        return None
    attached = node.attached_node or next(iter(node.depends_on.nodes), None)
    test = node.test_metadata or schema.TestMetadata()
    code = _sql(node.compiled_code) or _sql(node.raw_code)
    return TestInfo(test.name, node.column_name, attached, severity, test.namespace, test.kwargs, code)


def _sql(raw: msgspec.Raw) -> str | None:
    """SQL the decoder kept undecoded (a missing field is empty)."""
    return msgspec.json.decode(raw, type=str | None) if raw else None


def _owner(owner: schema.OwnerStruct) -> Owner:
    email = owner.email[0] if isinstance(owner.email, list) and owner.email else owner.email
    return Owner(owner.name, email if isinstance(email, str) else None)


def _group(group: schema.GroupStruct) -> Group:
    return Group(group.unique_id, group.name, _owner(group.owner))


def _text(version: schema.Version) -> str | None:
    """dbt writes model versions as numbers or strings; `2.0` and `2` are the same version."""
    if version is None:
        return None
    if isinstance(version, float) and version.is_integer():
        return str(int(version))
    return str(version)


def _root_package(nodes: object) -> str:
    """Older manifests name no project: the package that owns most models is the root project."""
    counts = Counter(n.package_name for n in nodes if n.resource_type == "model")  # type: ignore[attr-defined]
    return counts.most_common(1)[0][0] if counts else ""
