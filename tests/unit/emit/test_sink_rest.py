"""The REST sink's pure parts: batches that DataHub sends as one request each, Retry-After, the sink settings,
and the `oidc` settings section it shares with the Airflow API."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from datahub.cli.cli_utils import ensure_has_system_metadata
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.serialization_helper import pre_json_transform
from datahub.metadata.schema_classes import DatasetPropertiesClass, StatusClass

from bridge.config import OidcSettings, SinkConfig, build_config
from bridge.emit.mcps import graph_to_mcps
from bridge.emit.sinks.rest import batches, wire_size_bound
from bridge.errors import ConfigError
from bridge.http import retry_after
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


NOW = 1_792_567_660.0  # Wed, 21 Oct 2026 07:27:40 GMT


@pytest.mark.parametrize(("header", "seconds"), [("7", 7.0), ("0.5", 0.5), ("-3", 0.0), (None, None),
                                                  ("Wed, 21 Oct 2026 07:28:00 GMT", 20.0), ("soon", None)])  # fmt: skip
def test_retry_after_in_seconds_or_as_an_http_date(header: str | None, seconds: float | None) -> None:
    """The sink reads Retry-After with the retry loop it shares with the Airflow reader: an HTTP date counts
    from the clock it is given (it used to be ignored here, and the sink's own backoff applied)."""
    assert retry_after(header, now=NOW) == seconds


@pytest.mark.parametrize(
    ("sink", "message"),
    [
        ({"oidc_token_url": "https://idp/token"}, "need sink.oidc.client_id, sink.oidc.client_secret too"),
        ({"oidc_token_url": "https://idp/token", "oidc_client_id": "c", "oidc_client_secret": "s", "token": "t"},
         "either sink.token or the OIDC client credentials"),
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


OIDC = {"token_url": "https://idp.example.com/token", "client_id": "bridge", "client_secret": "cs-91f2",
        "scope": "metadata", "auth_method": "client_secret_basic"}  # fmt: skip
SINK = {"type": "datahub-rest", "server": "http://gms:8080"}


@pytest.mark.parametrize("section", ["airflow_api", "sink"])
def test_the_oidc_section_and_its_flat_keys_mean_the_same(section: str) -> None:
    """One `oidc` section for the Airflow API and the sink; the flat `oidc_*` keys still say the same."""
    base = SINK if section == "sink" else {"url": "https://airflow.example.com"}
    nested = getattr(build_config({section: {**base, "oidc": OIDC}}), section)
    flat = getattr(build_config({section: {**base, **{f"oidc_{k}": v for k, v in OIDC.items()}}}), section)
    assert nested == flat
    assert nested.oidc == OidcSettings.model_validate(OIDC)
    assert nested.oidc_token_url == OIDC["token_url"]
    assert (nested.oidc_client_id, nested.oidc_scope) == ("bridge", "metadata")
    assert nested.oidc_client_secret.get_secret_value() == "cs-91f2" and "cs-91f2" in nested.secrets()
    assert "cs-91f2" not in repr(nested) and "cs-91f2" not in nested.model_dump_json()


def test_the_original_keycloak_keys_fill_the_airflow_apis_oidc_section() -> None:
    config = build_config({"airflow_url": "https://airflow.example.com", "keycloak_server": "https://sso/auth",
                           "keycloak_realm": "data", "keycloak_client_id": "bridge",
                           "keycloak_client_secret": "cs-91f2"})  # fmt: skip
    assert config.airflow_api.auth == "oidc"
    assert config.airflow_api.oidc == OidcSettings(
        token_url="https://sso/auth/realms/data/protocol/openid-connect/token", client_id="bridge",
        client_secret="cs-91f2", auth_method="client_secret_post",
    )  # fmt: skip


def test_a_field_given_both_ways_must_say_the_same() -> None:
    same = build_config({"airflow_api": {"oidc_client_id": "bridge", "oidc": {"client_id": "bridge"}}})
    assert same.airflow_api.oidc_client_id == "bridge"
    with pytest.raises(ConfigError, match=r"airflow_api.oidc_client_secret and airflow_api.oidc.client_secret are "
                                          r"both set, to different values; keep one"):  # fmt: skip
        build_config({"airflow_api": {"oidc_client_secret": "a-secret", "oidc": {"client_secret": "b-secret"}}})


def test_client_credentials_in_the_section_mean_oidc_unless_auth_says_otherwise() -> None:
    assert build_config({"airflow_api": {"oidc": {"client_id": "bridge"}}}).airflow_api.auth == "oidc"
    given = {"auth": "basic", "username": "u", "oidc": {"client_id": "bridge"}}
    assert build_config({"airflow_api": given}).airflow_api.auth == "basic"


@pytest.mark.parametrize(
    ("oidc", "message"),
    [({"token_url": "https://idp/token"}, "need sink.oidc.client_id, sink.oidc.client_secret too"),
     ({"token_url": "ftp://idp/token"}, "sink.oidc.token_url: the token URL must be an http:// or https:// URL"),
     ({"token_url": "https://u:p@idp/token"}, "sink.oidc.token_url: holds credentials"),
     ({"auth_method": "client_secret_jwt"}, "sink.oidc.auth_method: Input should be 'client_secret_post' or "
                                            "'client_secret_basic'")],
)  # fmt: skip
def test_the_sinks_oidc_section_is_checked_as_its_flat_keys_were(oidc: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_config({"sink": {**SINK, "oidc": oidc}})


def test_a_token_beside_the_sinks_oidc_section_is_one_way_too_many() -> None:
    with pytest.raises(ConfigError, match=r"either sink\.token or the OIDC client credentials"):
        build_config({"sink": {**SINK, "token": "t", "oidc": OIDC}})
