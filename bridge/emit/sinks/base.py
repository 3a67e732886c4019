"""What every sink shares: the `Sink` protocol, what a sink delivered (`EmitResult`), and an MCP as the JSON
record DataHub's file sink writes (used by the file sink, the REST sink's size bound and the state hashes)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

import orjson
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import BrowsePathsV2Class, StatusClass, SubTypesClass

from bridge.emit.aspect_json import aspect_to_json


@dataclass
class EmitResult:
    """MCPs by aspect name that the sink wrote, or that the server acknowledged (never merely attempted)."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, proposal: MetadataChangeProposalWrapper) -> None:
        self.counts[proposal.aspectName or "unknown"] += 1


class Sink(Protocol):
    # What was delivered so far: after `emit` raised, what had been written or acknowledged before the failure.
    acknowledged: EmitResult

    def emit(self, proposals: Iterable[MetadataChangeProposalWrapper]) -> EmitResult: ...

    def close(self) -> None: ...


def file_record(proposal: MetadataChangeProposalWrapper, serialised: dict[Any, object]) -> dict[str, object]:
    """The record DataHub's file sink writes for an MCP (`to_obj(simplified_structure=True)`), without its
    serialise-to-string-and-parse-back round trip (tests/unit/emit holds the two equal)."""
    assert proposal.aspect is not None
    return {
        "entityType": proposal.entityType,
        "entityUrn": proposal.entityUrn,
        "changeType": proposal.changeType,
        "aspectName": proposal.aspectName,
        "aspect": {"json": aspect_json(proposal.aspect, serialised)},
    }


def aspect_json(aspect: Any, serialised: dict[Any, object]) -> object:
    """An aspect's JSON. The aspects thousands of entities carry with equal values (`status`, `subTypes`, an
    empty browse path) are serialised once per `serialised` (one sink run), keyed by their value."""
    key = _same_for_many(aspect)
    if key is None:
        return aspect_to_json(aspect)
    found = serialised.get(key)
    if found is None:
        found = serialised[key] = aspect_to_json(aspect)
    return found


def _same_for_many(aspect: Any) -> tuple[object, ...] | None:
    if isinstance(aspect, StatusClass):
        return ("status", aspect.removed)
    if isinstance(aspect, SubTypesClass):
        return ("subTypes", *aspect.typeNames)
    if isinstance(aspect, BrowsePathsV2Class) and not aspect.path:
        return ("browsePathsV2",)
    return None


def write_records(
    out: BinaryIO, proposals: Iterable[MetadataChangeProposalWrapper], result: EmitResult, first: bool = True
) -> bool:
    """Write records separated as in one JSON array (the caller writes the brackets); True if none."""
    serialised: dict[Any, object] = {}
    for proposal in proposals:
        out.write(b"\n" if first else b",\n")
        out.write(orjson.dumps(file_record(proposal, serialised), option=orjson.OPT_INDENT_2))
        result.add(proposal)
        first = False
    return first
