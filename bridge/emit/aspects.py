"""Aspects every entity kind shares (status, ownership, tags, domains), built the way DataHub's own
connectors build them, and the options that shape emission.

Facts from acryl-datahub 1.7 that these follow:
- DataHub's dbt source writes `Ownership(owners=[Owner(user, DATAOWNER)])` with the default `lastModified`
  (time 0) and prefixes dbt tags with `dbt:` (its `tag_prefix` default), tags sorted.
- DataHub's Airflow plugin (through `datahub.api.entities.datajob.DataFlow`/`DataJob`) writes owners as
  `DEVELOPER` with source `SERVICE` and `lastModified` = time 0 by `urn:li:corpuser:airflow`, tags sorted.
Writing the same values means a sync and those connectors agree instead of overwriting each other.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from datahub.emitter.mce_builder import make_domain_urn, make_tag_urn, make_user_urn
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import (
    AuditStampClass,
    BrowsePathEntryClass,
    BrowsePathsV2Class,
    DomainsClass,
    GlobalTagsClass,
    OwnerClass,
    OwnershipClass,
    OwnershipSourceClass,
    OwnershipSourceTypeClass,
    OwnershipTypeClass,
    StatusClass,
    SubTypesClass,
    TagAssociationClass,
)

from bridge.emit.airflow_urls import AirflowUrls

# A fixed audit stamp: emitted output never depends on the wall clock (same inputs, same bytes).
STAMP = AuditStampClass(time=0, actor="urn:li:corpuser:datahub")
DBT_TAG_PREFIX = "dbt:"


@dataclass(frozen=True, slots=True)
class EmitOptions:
    """What shapes the MCPs besides the graph: links into Airflow, the dbt source's tag prefix, and whether dbt
    entities' column names are lower-cased (None: as the dbt source does by default, for Snowflake only)."""

    urls: AirflowUrls = field(default_factory=lambda: AirflowUrls(None, None))
    dbt_tag_prefix: str = DBT_TAG_PREFIX
    lowercase_columns: bool | None = None

    def lowercases_columns(self, adapter: str) -> bool:
        return self.lowercase_columns if self.lowercase_columns is not None else adapter.lower() == "snowflake"


# Aspects that are the same for many entities are built once and shared (never mutated); a serialiser
# computes their JSON once per sync, by value (`bridge.emit.sinks.aspect_json`).
STATUS_ACTIVE = StatusClass(removed=False)
STATUS_REMOVED = StatusClass(removed=True)
EMPTY_BROWSE_PATH = BrowsePathsV2Class(path=[])


@functools.cache
def subtypes(name: str) -> SubTypesClass:
    return SubTypesClass(typeNames=[name])


@functools.cache
def tag_urn(tag: str) -> str:
    """`pii` -> `urn:li:tag:pii` (a project has tens of tags on thousands of entities: each is made once)."""
    return make_tag_urn(tag)


def mcp(urn: str, aspect: Any) -> MetadataChangeProposalWrapper:
    return MetadataChangeProposalWrapper(entityUrn=urn, aspect=aspect)


def owner_urn(owner: str) -> str:
    """`jane@example.com` and `jane` become corpuser URNs; a URN (user or group) is kept as it is."""
    return owner if owner.startswith("urn:li:") else make_user_urn(owner)


def dataset_ownership(owners: Iterable[str]) -> OwnershipClass | None:
    """Owners as DataHub's dbt source writes them: DATAOWNER, sorted, default `lastModified`."""
    urns = sorted({owner_urn(o) for o in owners})
    listed = [OwnerClass(owner=urn, type=OwnershipTypeClass.DATAOWNER) for urn in urns]
    return OwnershipClass(owners=listed) if listed else None


def airflow_ownership(owners: Iterable[str]) -> OwnershipClass | None:
    """Owners as DataHub's Airflow plugin writes them: DEVELOPER from a SERVICE, stamped by `airflow`."""
    source = OwnershipSourceClass(type=OwnershipSourceTypeClass.SERVICE)
    urns = sorted({owner_urn(o) for o in owners})
    listed = [OwnerClass(owner=urn, type=OwnershipTypeClass.DEVELOPER, source=source) for urn in urns]
    stamp = AuditStampClass(time=0, actor=make_user_urn("airflow"))
    return OwnershipClass(owners=listed, lastModified=stamp) if listed else None


def global_tags(tags: Iterable[str], prefix: str = "") -> GlobalTagsClass | None:
    listed = [TagAssociationClass(tag=tag_urn(f"{prefix}{tag}")) for tag in sorted(set(tags))]
    return GlobalTagsClass(tags=listed) if listed else None


def domains(domain: str | None) -> DomainsClass | None:
    return DomainsClass(domains=[domain_urn(domain)]) if domain else None


def domain_urn(domain: str) -> str:
    """`fred` -> `urn:li:domain:fred`; a domain URN is kept as it is."""
    return make_domain_urn(domain)


def entity_browse_path(parents: Iterable[str]) -> BrowsePathsV2Class:
    """A browse path through parent entities, each entry's id being its URN (as DataHub's SDK writes them)."""
    return BrowsePathsV2Class(path=[BrowsePathEntryClass(id=urn, urn=urn) for urn in parents])


def present(urn: str, *aspects: object | None) -> list[MetadataChangeProposalWrapper]:
    """MCPs for the aspects that exist (None means: nothing to say, so nothing is written)."""
    return [mcp(urn, aspect) for aspect in aspects if aspect is not None]
