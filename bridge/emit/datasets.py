"""Dataset aspects, for the datasets the bridge is the source of and for those it only links.

The bridge is the source of dbt entities (platform `dbt`, as DataHub's dbt source) and of Airflow assets
that no other connector knows (platform `airflow`): for those it writes everything it knows, including the
descriptive aspects (`datasetProperties`, `subTypes`, `status`, `browsePathsV2`). Warehouse tables and
other platforms' datasets belong to their own connectors (Snowflake, S3, ...), whose `datasetProperties`,
`subTypes`, `status` and container-based browse paths are richer than ours and would be overwritten by an
upsert (and would overwrite ours back). There the bridge writes only what it adds: siblings, lineage,
domains, owners, tags, plus the key aspect that makes the entity exist, as DataHub's Airflow plugin does
for its inlets and outlets (`materialize_iolets`).
"""

from __future__ import annotations

from datahub.emitter.mce_builder import make_data_platform_urn, make_dataplatform_instance_urn
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import (
    BrowsePathEntryClass,
    BrowsePathsV2Class,
    DataPlatformInstanceClass,
    DatasetKeyClass,
    DatasetLineageTypeClass,
    DatasetPropertiesClass,
    GlobalTagsClass,
    MySqlDDLClass,
    NullTypeClass,
    SchemaFieldClass,
    SchemaFieldDataTypeClass,
    SchemaMetadataClass,
    SiblingsClass,
    TagAssociationClass,
    UpstreamClass,
    UpstreamLineageClass,
)

from bridge.emit.aspects import (
    STAMP,
    STATUS_ACTIVE,
    EmitOptions,
    dataset_ownership,
    domains,
    global_tags,
    present,
    subtypes,
    tag_urn,
)
from bridge.emit.urns import is_owned_dataset_platform, urn_of
from bridge.model.graph import Dataset, DatasetKey


def dataset_mcps(dataset: Dataset, options: EmitOptions) -> list[MetadataChangeProposalWrapper]:
    owned = is_owned_dataset_platform(dataset.key.platform)
    own_aspects = _descriptive(dataset) if owned else [_key(dataset.key)]
    tag_prefix = options.dbt_tag_prefix if dataset.key.platform == "dbt" else ""
    return present(
        urn_of(dataset.key),
        *own_aspects,
        _schema(dataset, tag_prefix, options) if dataset.columns else None,
        _lineage(dataset),
        _siblings(dataset),
        dataset_ownership(dataset.owners),
        global_tags(dataset.tags, tag_prefix),
        domains(dataset.domain),
    )


def _descriptive(dataset: Dataset) -> list[object | None]:
    properties = DatasetPropertiesClass(
        name=dataset.display_name,
        description=dataset.description or None,
        customProperties=dict(sorted(dataset.properties.items())),
        externalUrl=dataset.external_url,
    )
    return [properties, subtypes(dataset.subtype), STATUS_ACTIVE, _browse_path(dataset.key), _instance(dataset.key)]


_NULL_TYPE = NullTypeClass()  # type: ignore[no-untyped-call]


def _schema(dataset: Dataset, tag_prefix: str, options: EmitOptions) -> SchemaMetadataClass:
    """A dbt entity's columns as DataHub's dbt source writes them (`get_schema_metadata`): in the table's
    order, the name lower-cased where the dbt source lower-cases it (`EmitOptions.lowercases_columns`), the
    catalog's type as native type, DataHub's type by its SQL type rules for the adapter (a null type when
    none applies), schemaName the node's unique id, nothing about nullability known."""
    from datahub.ingestion.source.sql.sql_types import resolve_sql_type

    adapter = dataset.properties.get("dbt_adapter", "")
    lower = options.lowercases_columns(adapter)
    fields = [
        SchemaFieldClass(
            fieldPath=column.name.lower() if lower else column.name,
            nativeDataType=column.native_type,
            type=SchemaFieldDataTypeClass(type=resolve_sql_type(column.native_type, adapter) or _NULL_TYPE),
            description=column.description or None,
            nullable=False,
            recursive=False,
            globalTags=GlobalTagsClass(tags=[TagAssociationClass(tag_urn(tag_prefix + tag)) for tag in column.tags])
            if column.tags
            else None,
        )
        for column in dataset.columns
    ]
    return SchemaMetadataClass(
        schemaName=dataset.dbt_unique_id or dataset.key.name,
        platform=make_data_platform_urn(dataset.key.platform),
        version=0,
        hash="",
        platformSchema=MySqlDDLClass(tableSchema=""),
        fields=fields,
    )


def _key(key: DatasetKey) -> DatasetKeyClass:
    """The key aspect, equal to the URN's parts: a platform instance is part of the name there."""
    name = f"{key.platform_instance}.{key.name}" if key.platform_instance else key.name
    return DatasetKeyClass(platform=make_data_platform_urn(key.platform), name=name, origin=key.env)


def _browse_path(key: DatasetKey) -> BrowsePathsV2Class:
    """`db.schema.table` browses as db > schema (what DataHub derives for a dataset without containers),
    under its platform instance when it has one (what DataHub's ingestion prepends)."""
    folders = key.name.split(".")[:-1] if key.platform == "dbt" else []
    entries = [BrowsePathEntryClass(id=folder) for folder in folders]
    if key.platform_instance:
        instance = make_dataplatform_instance_urn(key.platform, key.platform_instance)
        entries.insert(0, BrowsePathEntryClass(id=instance, urn=instance))
    return BrowsePathsV2Class(path=entries)


def _instance(key: DatasetKey) -> DataPlatformInstanceClass | None:
    if not key.platform_instance:
        return None
    instance = make_dataplatform_instance_urn(key.platform, key.platform_instance)
    return DataPlatformInstanceClass(platform=make_data_platform_urn(key.platform), instance=instance)


def _lineage(dataset: Dataset) -> UpstreamLineageClass | None:
    if not dataset.upstreams:
        return None
    upstreams = [
        UpstreamClass(dataset=urn_of(key), type=DatasetLineageTypeClass.TRANSFORMED, auditStamp=STAMP)
        for key in sorted(set(dataset.upstreams))
    ]
    return UpstreamLineageClass(upstreams=upstreams)


def _siblings(dataset: Dataset) -> SiblingsClass | None:
    """Explicit siblings on both sides (the dbt node primary), so offline sinks get them too: DataHub's
    server-side sibling hook only pairs them on a live server."""
    if dataset.sibling is None:
        return None
    return SiblingsClass(siblings=[urn_of(dataset.sibling)], primary=dataset.is_primary_sibling)
