"""The parts of dbt's artifacts the bridge reads, as msgspec structs.

Decoding into these structs skips every field they do not declare (macros, docs, compiled SQL, ...), so
a manifest costs memory in proportion to what we keep, not to the file. Every field is optional or
defaulted so that the same structs read manifest schemas v7 (dbt 1.4) to v12.
"""

from __future__ import annotations

from typing import Any

import msgspec

Version = str | int | float | None


class Metadata(msgspec.Struct):
    dbt_schema_version: str = ""
    dbt_version: str = ""
    generated_at: str = ""
    adapter_type: str | None = None
    project_name: str | None = None
    invocation_id: str | None = None


class OwnerStruct(msgspec.Struct):
    name: str | None = None
    email: str | list[str] | None = None


class DependsOn(msgspec.Struct):
    nodes: list[str] = msgspec.field(default_factory=list)


class NodeConfig(msgspec.Struct):
    materialized: str | None = None
    enabled: bool = True
    meta: dict[str, Any] = msgspec.field(default_factory=dict)
    group: str | None = None
    severity: str | None = None


class TestMetadata(msgspec.Struct):
    name: str | None = None
    namespace: str | None = None
    kwargs: dict[str, Any] = msgspec.field(default_factory=dict)


class Node(msgspec.Struct, kw_only=True):
    unique_id: str
    resource_type: str
    package_name: str = ""
    name: str
    database: str | None = None
    schema_name: str | None = msgspec.field(default=None, name="schema")
    alias: str | None = None
    identifier: str | None = None
    relation_name: str | None = None
    # The node's whole config, kept undecoded: `NodeConfig` reads it once (`node_config`); dbt's
    # `config.<key>:` selector method reads any key of it.
    config_json: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw, name="config")
    depends_on: DependsOn = msgspec.field(default_factory=DependsOn)
    fqn: list[str] = msgspec.field(default_factory=list)
    original_file_path: str = ""
    patch_path: str | None = None
    description: str | None = ""
    version: Version = None
    latest_version: Version = None
    source_name: str | None = None
    group: str | None = None
    access: str | None = None
    tags: list[str] | str = msgspec.field(default_factory=list)
    meta: dict[str, Any] = msgspec.field(default_factory=dict)
    test_metadata: TestMetadata | None = None
    column_name: str | None = None
    attached_node: str | None = None
    owner: OwnerStruct | None = None
    url: str | None = None
    # SQL is kept undecoded (a view into the file, skipped like any undeclared field) and decoded for tests
    # only: a data test's SQL is what DataHub shows as its assertion's logic.
    raw_code: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    compiled_code: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


def node_config(node: Node) -> NodeConfig:
    """The config fields the bridge reads, decoded from the node's config JSON (empty when it has none)."""
    return msgspec.json.decode(node.config_json, type=NodeConfig) if node.config_json else NodeConfig()


class ColumnStruct(msgspec.Struct):
    name: str | None = None
    description: str | None = ""
    data_type: str | None = None
    tags: list[str] = msgspec.field(default_factory=list)


class NodeWithColumns(Node, kw_only=True):
    """A node with the columns the manifest documents: decoded only when a catalog is to be met."""

    columns: dict[str, ColumnStruct] = msgspec.field(default_factory=dict)


class GroupStruct(msgspec.Struct):
    unique_id: str
    name: str
    owner: OwnerStruct = msgspec.field(default_factory=OwnerStruct)


class Manifest(msgspec.Struct):
    metadata: Metadata
    nodes: dict[str, Node] = msgspec.field(default_factory=dict)
    sources: dict[str, Node] = msgspec.field(default_factory=dict)
    exposures: dict[str, Node] = msgspec.field(default_factory=dict)
    groups: dict[str, GroupStruct] = msgspec.field(default_factory=dict)
    # YAML selectors (selectors.yml) by name: `{"name", "definition", "default", "description"}`, as written.
    selectors: dict[str, Any] = msgspec.field(default_factory=dict)


class ManifestWithColumns(Manifest):
    nodes: dict[str, NodeWithColumns] = msgspec.field(default_factory=dict)  # type: ignore[assignment]
    sources: dict[str, NodeWithColumns] = msgspec.field(default_factory=dict)  # type: ignore[assignment]
    exposures: dict[str, NodeWithColumns] = msgspec.field(default_factory=dict)  # type: ignore[assignment]


class TimingStruct(msgspec.Struct):
    name: str = ""
    started_at: str | None = None
    completed_at: str | None = None


class RunResultStruct(msgspec.Struct):
    unique_id: str
    status: str
    execution_time: float = 0.0
    timing: list[TimingStruct] = msgspec.field(default_factory=list)
    message: str | None = None
    failures: int | None = None


class RunResultsFile(msgspec.Struct):
    metadata: Metadata
    results: list[RunResultStruct] = msgspec.field(default_factory=list)
    args: dict[str, Any] = msgspec.field(default_factory=dict)


class FreshnessCriterionStruct(msgspec.Struct):
    count: int | None = None
    period: str | None = None


class FreshnessCriteria(msgspec.Struct):
    warn_after: FreshnessCriterionStruct | None = None
    error_after: FreshnessCriterionStruct | None = None


class SourceFreshnessStruct(msgspec.Struct):
    """One source in sources.json; a `runtime error` has only unique_id, status and error."""

    unique_id: str
    status: str
    max_loaded_at: str | None = None
    snapshotted_at: str | None = None
    max_loaded_at_time_ago_in_s: float = 0.0
    criteria: FreshnessCriteria = msgspec.field(default_factory=FreshnessCriteria)
    execution_time: float = 0.0
    timing: list[TimingStruct] = msgspec.field(default_factory=list)
    error: str | int | None = None


class SourcesFile(msgspec.Struct):
    metadata: Metadata
    results: list[SourceFreshnessStruct] = msgspec.field(default_factory=list)


class CatalogColumnStruct(msgspec.Struct):
    name: str
    type: str = ""
    index: int = 0
    comment: str | None = None


class CatalogTableMeta(msgspec.Struct):
    type: str | None = None
    owner: str | None = None


class CatalogEntry(msgspec.Struct):
    unique_id: str | None = None
    metadata: CatalogTableMeta = msgspec.field(default_factory=CatalogTableMeta)
    columns: dict[str, CatalogColumnStruct] = msgspec.field(default_factory=dict)


class CatalogFile(msgspec.Struct):
    metadata: Metadata
    nodes: dict[str, CatalogEntry] = msgspec.field(default_factory=dict)
    sources: dict[str, CatalogEntry] = msgspec.field(default_factory=dict)
