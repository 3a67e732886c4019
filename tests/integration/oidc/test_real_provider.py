"""OIDC client credentials against a real OpenID Connect provider (npm's oidc-provider, OpenID Certified, on
127.0.0.1): the Airflow REST reader and the DataHub REST sink each get their tokens from it, with
`client_secret_basic` and with `client_secret_post`. The local Airflow and GMS let a request in only when its
bearer token verifies against the provider's JWKS (signature, issuer, audience, expiry). Tokens live 2 s:
once a token has expired on the provider's clock, the server refuses it and the client fetches a new one
(the 401 path); when the refresh time has come on the client's injected clock, it fetches one before the
request. Without the provider these tests fail (conftest)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import StatusClass

from bridge.config import AirflowApiConfig, SinkConfig
from bridge.emit.sinks.rest import RestSink
from bridge.errors import AirflowApiAuthError, SinkTerminalError
from bridge.read.airflow_api.client import ApiClient, open_client
from tests.fakes.airflow_api import FakeAirflow
from tests.fakes.airflow_api import serve as serve_airflow
from tests.fakes.gms import FakeGms
from tests.fakes.gms import serve as serve_gms
from tests.servers.oidc.provider import AUDIENCE, SCOPE, AuthMethod, RunningProvider

METHODS: list[AuthMethod] = ["client_secret_basic", "client_secret_post"]


@dataclass
class Clock:
    """The clients' token clock: it moves only when a test moves it."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


def status_mcps(count: int = 3) -> Iterator[MetadataChangeProposalWrapper]:
    for number in range(count):
        urn = f"urn:li:dataset:(urn:li:dataPlatform:postgres,db.schema.t{number},PROD)"
        yield MetadataChangeProposalWrapper(entityUrn=urn, aspect=StatusClass(removed=False))


def claims(token: str) -> dict[str, Any]:
    found: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return found


def wait_until_expired(token: str) -> None:
    """Sleep until the provider's token has expired (its `exp`, whole seconds): at most its 2 s life."""
    time.sleep(max(0.0, claims(token)["exp"] - time.time()) + 0.05)


def reader(airflow: FakeAirflow, oidc: dict[str, object], clock: Clock) -> ApiClient:
    config = AirflowApiConfig.model_validate({"url": airflow.url, "auth": "oidc", "oidc": oidc, "max_retries": 0})
    client = open_client(config, clock=clock)
    client.prefix = "/api/v2"
    return client


def sink(gms: FakeGms, oidc: dict[str, object], clock: Clock) -> RestSink:
    config = SinkConfig.model_validate({"type": "datahub-rest", "server": gms.url, "oidc": oidc, "max_retries": 0})
    return RestSink(config, clock=clock)


@pytest.mark.parametrize("method", METHODS)
def test_reader_and_sink_get_tokens_from_a_real_provider_and_refresh_them(
    oidc_provider: RunningProvider, method: AuthMethod
) -> None:
    clock = Clock()
    api_check, gms_check = oidc_provider.jwks_check(), oidc_provider.jwks_check()
    with (
        serve_airflow(FakeAirflow("af33", auth="oidc", token_check=api_check)) as airflow,
        serve_gms(FakeGms(token_check=gms_check)) as gms,
    ):
        api = reader(airflow, oidc_provider.settings(method), clock)
        datahub = sink(gms, oidc_provider.settings(method, scope=SCOPE), clock)
        try:
            assert api.get("/dags")["total_entries"] == 6
            datahub.emit(status_mcps())
            wait_until_expired(api_check.accepted[0])  # the clients' clock stands still: they do not know
            assert api.get("/dags")["total_entries"] == 6  # refused with 401, a new token, let in
            datahub.emit(status_mcps())
            clock.now += 1.5  # past half the 2 s life on the clients' clock: a new token before the request
            assert api.get("/dags")["total_entries"] == 6
            datahub.emit(status_mcps())
        finally:
            datahub.close()

    a1, a2, a3 = api_check.accepted
    assert api_check.refused == [a1] and len({a1, a2, a3}) == 3
    g1, _, g2, g3 = gms_check.accepted  # GET /config and the first batch with one token
    assert gms_check.accepted == [g1, g1, g2, g3] and gms_check.refused == [g1] and len({g1, g2, g3}) == 3
    assert [r.status for r in gms.requests] == [200, 200, 401, 200, 200]
    client_id = oidc_provider.clients[method].client_id
    for token in (a1, a2, a3, g1, g2, g3):
        assert claims(token)["client_id"] == client_id and claims(token)["aud"] == AUDIENCE
        assert claims(token)["client_auth_method"] == method  # how the client authenticated, as the provider saw
    assert {claims(t).get("scope") for t in (g1, g2, g3)} == {SCOPE}  # the sink asked for the scope
    assert {claims(t).get("scope") for t in (a1, a2, a3)} == {None}  # the reader did not


@pytest.mark.parametrize("method", METHODS)
def test_a_client_that_authenticates_the_other_way_is_refused(
    oidc_provider: RunningProvider, method: AuthMethod
) -> None:
    """The provider lets each client authenticate only the way it was registered: the setting is what the
    client sends, for the reader and the sink alike."""
    other: AuthMethod = "client_secret_post" if method == "client_secret_basic" else "client_secret_basic"
    settings = {**oidc_provider.settings(method), "auth_method": other}
    client_id = oidc_provider.clients[method].client_id
    with serve_airflow(FakeAirflow("af33", auth="oidc")) as airflow, serve_gms(FakeGms(tokens=set())) as gms:
        refused = f"token endpoint {oidc_provider.token_url} refused the request (HTTP 401)"
        with pytest.raises(AirflowApiAuthError, match=re.escape(refused)):
            reader(airflow, settings, Clock()).get("/dags")
        expected = f"OIDC {refused} for client '{client_id}'"
        with pytest.raises(SinkTerminalError, match=re.escape(expected)):
            sink(gms, settings, Clock())
    assert gms.requests == [] and [p for _, p, _ in airflow.requests] == []
