"""The REST sink's pure parts: batches that DataHub sends as one request each, Retry-After, the sink settings."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from datahub.cli.cli_utils import ensure_has_system_metadata
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.serialization_helper import pre_json_transform
from datahub.metadata.schema_classes import DatasetPropertiesClass, StatusClass

from bridge.config import SinkConfig, build_config
from bridge.emit.mcps import graph_to_mcps
from bridge.emit.sink_rest import batches, parse_retry_after, wire_size_bound
from bridge.errors import ConfigError
from bridge.join.pipeline import join_lineage
from bridge.join.settings import JoinSettings
from bridge.model.dbt import DbtProject
from tests.unit.join.test_pipeline import snapshot


def awkward_mcp() -> MetadataChangeProposalWrapper:
    """The characters that grow most when DataHub writes an aspect as escaped JSON inside JSON."""
    text = 'é"\\\x01😀 ü' * 500
    urn = "urn:li:dataset:(urn:li:dataPlatform:dbt,schéma.tåble,PROD)"
    return MetadataChangeProposalWrapper(
        entityUrn=urn, aspect=DatasetPropertiesClass(description=text, customProperties={"ключ": text})
    )


def test_the_size_bound_is_at_least_what_datahub_measures(postgres_project: DbtProject) -> None:
    graph = join_lineage([postgres_project], snapshot(), JoinSettings())
    for proposal in [*graph_to_mcps(graph), awkward_mcp()]:
        bound = wire_size_bound(proposal, {})  # before emit_mcps adds its system metadata, as in the sink
        ensure_has_system_metadata(proposal)
        measured = len(json.dumps(pre_json_transform(proposal.to_obj())))  # DataHub's own chunking measure
        assert bound >= measured, (proposal.entityUrn, proposal.aspectName)


def status_mcps(count: int) -> Iterator[MetadataChangeProposalWrapper]:
    for number in range(count):
        yield MetadataChangeProposalWrapper(
            entityUrn=f"urn:li:dataset:(urn:li:dataPlatform:dbt,a.t{number:03},PROD)", aspect=StatusClass(False)
        )


def test_batches_keep_order_and_both_limits() -> None:
    proposals = [*status_mcps(25), awkward_mcp(), *status_mcps(3)]
    max_bytes = 12 * wire_size_bound(proposals[0], {})
    found = list(batches(proposals, 10, max_bytes))
    assert [p for batch in found for p in batch] == proposals
    assert [len(batch) for batch in found] == [10, 10, 5, 1, 3]  # the big one alone, still sent
    for batch in found:
        assert len(batch) == 1 or sum(wire_size_bound(p, {}) for p in batch) <= max_bytes


def test_batches_stream() -> None:
    """Only one batch is held: the second is not read before the first has been sent."""
    taken: list[int] = []

    def source() -> Iterator[MetadataChangeProposalWrapper]:
        for number, proposal in enumerate(status_mcps(10)):
            taken.append(number)
            yield proposal

    first = next(batches(source(), 3, 10**9))
    assert len(first) == 3 and len(taken) == 4  # the fourth closed the first batch


@pytest.mark.parametrize(("header", "seconds"), [("7", 7.0), ("0.5", 0.5), ("-3", 0.0), (None, None),
                                                  ("Wed, 21 Oct 2026 07:28:00 GMT", None)])  # fmt: skip
def test_retry_after_in_seconds(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


@pytest.mark.parametrize(
    ("sink", "message"),
    [
        ({"oidc_token_url": "https://idp/token"}, "need sink.oidc_client_id, sink.oidc_client_secret too"),
        ({"oidc_token_url": "https://idp/token", "oidc_client_id": "c", "oidc_client_secret": "s", "token": "t"},
         "either sink.token or the sink.oidc_"),
        ({"batch_size": 0}, "sink.batch_size: Input should be greater than or equal to 1"),
        ({"timeout": 0}, "sink.timeout: Input should be greater than 0"),
    ],
)  # fmt: skip
def test_contradictory_sink_settings_are_config_errors(sink: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_config({"sink": {"type": "datahub-rest", "server": "http://gms:8080", **sink}})


def test_sink_secrets_never_print() -> None:
    config = SinkConfig(type="datahub-rest", server="http://gms:8080", oidc_token_url="https://idp/token",
                        oidc_client_id="bridge", oidc_client_secret="client-secret-e1f0")  # fmt: skip
    for text in (repr(config), str(config), config.model_dump_json()):
        assert "client-secret-e1f0" not in text
    assert "token-77aa" not in repr(SinkConfig(type="datahub-rest", token="token-77aa"))
