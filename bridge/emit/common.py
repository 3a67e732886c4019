"""Aspects every entity kind shares: status, ownership, tags, domains."""

from __future__ import annotations

from collections.abc import Iterable

from datahub.emitter.mce_builder import make_domain_urn, make_tag_urn, make_user_urn
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import (
    AuditStampClass,
    DomainsClass,
    GlobalTagsClass,
    OwnerClass,
    OwnershipClass,
    StatusClass,
    SubTypesClass,
    TagAssociationClass,
)

# A fixed audit stamp: emitted output never depends on the wall clock (same inputs, same bytes).
STAMP = AuditStampClass(time=0, actor="urn:li:corpuser:datahub")


# Aspects that are the same for many entities are built once and shared (never mutated); they live as long
# as the process, so a sink may cache their serialised form by identity (`is_shared`).
_SHARED: dict[int, object] = {}
_SUBTYPES: dict[str, SubTypesClass] = {}


def _shared(aspect: StatusClass) -> StatusClass:
    _SHARED[id(aspect)] = aspect
    return aspect


STATUS_ACTIVE = _shared(StatusClass(removed=False))


def subtypes(name: str) -> SubTypesClass:
    found = _SUBTYPES.get(name)
    if found is None:
        found = _SUBTYPES[name] = SubTypesClass(typeNames=[name])
        _SHARED[id(found)] = found
    return found


def is_shared(aspect: object) -> bool:
    return id(aspect) in _SHARED


def mcp(urn: str, aspect: object) -> MetadataChangeProposalWrapper:
    return MetadataChangeProposalWrapper(entityUrn=urn, aspect=aspect)  # type: ignore[arg-type]


def owner_urn(owner: str) -> str:
    """`jane@example.com` and `jane` become corpuser URNs; a URN is kept as it is."""
    return owner if owner.startswith("urn:li:") else make_user_urn(owner)


def shared_aspects(
    urn: str, owners: Iterable[str], owner_type: str, tags: Iterable[str], domain: str | None
) -> list[MetadataChangeProposalWrapper]:
    aspects = [mcp(urn, STATUS_ACTIVE)]
    owner_list = [OwnerClass(owner=owner_urn(o), type=owner_type) for o in sorted(set(owners))]
    if owner_list:
        aspects.append(mcp(urn, OwnershipClass(owners=owner_list, lastModified=STAMP)))
    tag_list = [TagAssociationClass(tag=make_tag_urn(t)) for t in sorted(set(tags))]
    if tag_list:
        aspects.append(mcp(urn, GlobalTagsClass(tags=tag_list)))
    if domain:
        aspects.append(mcp(urn, DomainsClass(domains=[make_domain_urn(domain)])))
    return aspects
