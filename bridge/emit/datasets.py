"""Dataset aspects: properties, subtype, lineage, siblings, and the shared ones, as DataHub's dbt source."""

from __future__ import annotations

from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import (
    DatasetLineageTypeClass,
    DatasetPropertiesClass,
    OwnershipTypeClass,
    SiblingsClass,
    UpstreamClass,
    UpstreamLineageClass,
)

from bridge.emit.common import STAMP, mcp, shared_aspects, subtypes
from bridge.emit.urns import urn_of
from bridge.model.graph import Dataset


def dataset_mcps(dataset: Dataset) -> list[MetadataChangeProposalWrapper]:
    urn = urn_of(dataset.key)
    properties = DatasetPropertiesClass(
        name=dataset.display_name,
        description=dataset.description or None,
        customProperties=dict(sorted(dataset.properties.items())),
        externalUrl=dataset.external_url,
    )
    aspects = [mcp(urn, properties), mcp(urn, subtypes(dataset.subtype))]
    if dataset.upstreams:
        upstreams = [
            UpstreamClass(dataset=urn_of(key), type=DatasetLineageTypeClass.TRANSFORMED, auditStamp=STAMP)
            for key in dataset.upstreams
        ]
        aspects.append(mcp(urn, UpstreamLineageClass(upstreams=upstreams)))
    if dataset.sibling is not None:
        aspects.append(mcp(urn, SiblingsClass(siblings=[urn_of(dataset.sibling)], primary=dataset.is_primary_sibling)))
    owners_type = OwnershipTypeClass.DATAOWNER
    return aspects + shared_aspects(urn, dataset.owners, owners_type, dataset.tags, dataset.domain)
