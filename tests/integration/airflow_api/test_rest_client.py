"""The REST client against the replaying server: auth methods, token refresh, retries, pagination, TLS,
and no secret anywhere (messages, logs, reports, repr)."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest

from bridge.config import AirflowApiConfig, BridgeConfig
from bridge.errors import AirflowApiAuthError, AirflowApiError, AirflowApiUnavailableError
from bridge.http import retry_after, token_endpoint
from bridge.read.airflow_api.client import ApiClient, InsecureTlsWarning, open_client, retry_policy
from bridge.read.airflow_api.reader import read_airflow_api
from tests.fakes.airflow_api import FakeAirflow, Fault, serve

SECRETS = {"password": "pw-Zq81-never-shown", "client_secret": "cs-Hk22-never-shown", "token": "tk-Lm93-never-shown"}


@dataclass
class Clock:
    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeAirflow]:
    server = FakeAirflow(
        "af33",
        auth="oidc",
        password=SECRETS["password"],
        client_secret=SECRETS["client_secret"],
        static_token=SECRETS["token"],
        clock=clock,
    )
    with serve(server) as running:
        yield running


def config_for(fake: FakeAirflow, **settings: object) -> AirflowApiConfig:
    defaults: dict[str, object] = {
        "url": fake.url,
        "auth": fake.auth,
        "username": fake.username,
        "password": fake.password,
        "token": fake.static_token,
        "oidc_token_url": f"{fake.url}/oidc/token",
        "oidc_client_id": fake.client_id,
        "oidc_client_secret": fake.client_secret,
        "max_retries": 3,
    }
    return AirflowApiConfig.model_validate(defaults | settings)


def client_for(fake: FakeAirflow, clock: Clock, **settings: object) -> ApiClient:
    client = open_client(config_for(fake, **settings), sleep=clock.sleep, clock=clock)
    client.prefix = "/api/v2"
    return client


def dags_listing(count: int) -> list[dict[str, object]]:
    return [{"dag_id": f"dag_{i:03d}", "owners": [], "tags": []} for i in range(count)]


@pytest.mark.parametrize("method", ["none", "basic", "bearer", "airflow-jwt", "oidc"])
def test_every_auth_method_reads_the_recorded_airflow(method: str, clock: Clock) -> None:
    server = FakeAirflow("af33", auth=method, clock=clock)
    with serve(server) as fake:
        config = config_for(fake, auth=method)
        snapshot = read_airflow_api(config, client=client_for(fake, clock, auth=method))
    assert len(snapshot.dags) == 6
    assert server.token_requests == (1 if method in ("oidc", "airflow-jwt") else 0)


def test_a_wrong_password_is_an_auth_error_naming_method_and_url(clock: Clock) -> None:
    with serve(FakeAirflow("af33", auth="airflow-jwt", clock=clock)) as fake:
        client = client_for(fake, clock, auth="airflow-jwt", password="not-the-password")
        with pytest.raises(
            AirflowApiAuthError, match=r"airflow-jwt: token endpoint http://127\.0\.0\.1:\d+/auth/token"
        ):
            client.get("/dags")


def test_token_refreshed_after_expiry_mid_listing(fake: FakeAirflow, clock: Clock) -> None:
    fake.set_listing("/api/v2/dags", "dags", dags_listing(250))
    fake.after_request = lambda method, path: setattr(clock, "now", clock.now + 200)  # 300 s tokens
    client = client_for(fake, clock, page_size=100)
    assert len(client.listing("/dags", "dags")) == 250
    assert fake.token_requests == 2  # the second page would have gone out with a token about to expire


def test_a_revoked_token_is_fetched_again_once_on_401(fake: FakeAirflow, clock: Clock) -> None:
    fake.set_listing("/api/v2/dags", "dags", dags_listing(250))
    fake.after_request = lambda method, path: fake.revoke_tokens()
    client = client_for(fake, clock, page_size=100)
    assert len(client.listing("/dags", "dags")) == 250
    assert fake.token_requests == 3


def test_a_401_that_survives_refresh_names_method_and_url_and_no_secret(fake: FakeAirflow, clock: Clock) -> None:
    fake.reject_all_tokens = True
    client = client_for(fake, clock)
    with pytest.raises(AirflowApiAuthError) as raised:
        client.get("/dags")
    message = str(raised.value)
    assert "'oidc'" in message and f"{fake.url}/api/v2/dags" in message and "after fetching a new token" in message
    assert fake.token_requests == 2
    assert not any(secret in message for secret in SECRETS.values())


def test_429_then_success_honours_retry_after(fake: FakeAirflow, clock: Clock) -> None:
    fake.faults.append(Fault("/api/v2/dags", status=429, retry_after="7"))
    client = client_for(fake, clock)
    assert client.get("/dags")["total_entries"] == 6
    assert clock.sleeps == [7.0]


def test_500_until_retries_run_out(fake: FakeAirflow, clock: Clock) -> None:
    fake.faults.append(Fault("/api/v2/dags", status=500, times=99))
    client = client_for(fake, clock, max_retries=2)
    with pytest.raises(AirflowApiUnavailableError, match=r"GET .*/api/v2/dags: still failing after 3 attempts"):
        client.get("/dags")
    assert len(clock.sleeps) == 2 and [p for _, p, _ in fake.requests].count("/api/v2/dags") == 3


def test_other_4xx_are_not_retried(fake: FakeAirflow, clock: Clock) -> None:
    client = client_for(fake, clock)
    with pytest.raises(AirflowApiError, match="HTTP 404"):
        client.get("/dags/no_such_dag/details")
    assert clock.sleeps == [] and len([r for r in fake.requests if "no_such_dag" in r[1]]) == 1


def test_a_slow_answer_times_out_and_is_retried(fake: FakeAirflow, clock: Clock) -> None:
    fake.faults.append(Fault("/api/v2/version", delay_s=1.0))
    client = client_for(fake, clock, timeout=0.2)
    assert client.get("/version")["version"] == "3.3.2"
    assert len(clock.sleeps) == 1


def test_a_broken_json_body_names_the_url(fake: FakeAirflow, clock: Clock) -> None:
    fake.faults.append(Fault("/api/v2/dags", broken_json=True))
    with pytest.raises(AirflowApiError, match=r"GET .*/api/v2/dags: the answer is not valid JSON"):
        client_for(fake, clock).get("/dags")


def test_250_items_in_pages_of_100(fake: FakeAirflow, clock: Clock) -> None:
    fake.set_listing("/api/v2/dags", "dags", dags_listing(250))
    items = client_for(fake, clock, page_size=100).listing("/dags", "dags")
    assert [d["dag_id"] for d in items] == [f"dag_{i:03d}" for i in range(250)]
    assert [q for _, p, q in fake.requests if p == "/api/v2/dags"] == [
        "limit=100&offset=0",
        "limit=100&offset=100",
        "limit=100&offset=200",
    ]


def test_a_short_page_does_not_end_the_listing(fake: FakeAirflow, clock: Clock) -> None:
    fake.set_listing("/api/v2/dags", "dags", dags_listing(250))
    fake.max_page = 50  # the server caps pages below the asked limit
    assert len(client_for(fake, clock, page_size=100).listing("/dags", "dags")) == 250


def test_a_server_ignoring_offset_is_detected_not_looped_on(fake: FakeAirflow, clock: Clock) -> None:
    fake.set_listing("/api/v2/dags", "dags", dags_listing(250))
    fake.ignore_offset = True
    with pytest.raises(AirflowApiError, match="ignores `offset`"):
        client_for(fake, clock, page_size=100).listing("/dags", "dags")
    assert len(fake.requests) <= 3


def test_api_v1_is_chosen_for_airflow_2(clock: Clock) -> None:
    with serve(FakeAirflow("af211")) as fake:
        snapshot = read_airflow_api(config_for(fake, auth="none"))
        assert snapshot.airflow_version == "2.11.2"
        assert any(p == "/api/v2/version" for _, p, _ in fake.requests)
        assert all(p.startswith("/api/v1/") for _, p, _ in fake.requests if p != "/api/v2/version")


def test_tls_is_verified_by_default_and_a_ca_bundle_is_used(fake: FakeAirflow, tmp_path: Path) -> None:
    assert open_client(config_for(fake)).session.verify is True
    bundle = tmp_path / "ca.pem"
    assert open_client(config_for(fake, ca_bundle=str(bundle))).session.verify == str(bundle)


def test_turning_tls_off_works_but_warns(fake: FakeAirflow) -> None:
    with pytest.warns(InsecureTlsWarning, match="not verified"):
        client = open_client(config_for(fake, verify_ssl=False))
    assert client.session.verify is False and client.warnings


def test_backoff_grows_and_retry_after_accepts_dates() -> None:
    assert retry_after("12") == 12.0 and retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after(None) is None and retry_after("soon") is None
    policy, rng = retry_policy(AirflowApiConfig()), random.Random(7)
    assert all(0 <= policy.delay(n, None, rng) <= min(30.0, 0.5 * 2 ** (n - 1)) for n in range(1, 10))


def test_keycloak_realm_url_becomes_its_token_endpoint() -> None:
    assert token_endpoint("https://sso.example.com/realms/data") == (
        "https://sso.example.com/realms/data/protocol/openid-connect/token"
    )
    assert token_endpoint("https://idp.example.com/oauth2/token") == "https://idp.example.com/oauth2/token"


@pytest.mark.parametrize("method", ["basic", "bearer", "airflow-jwt", "oidc"])
def test_no_secret_in_logs_errors_reports_or_repr(
    method: str, clock: Clock, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    server = FakeAirflow(
        "af33",
        auth=method,
        password=SECRETS["password"],
        client_secret=SECRETS["client_secret"],
        static_token=SECRETS["token"],
        clock=clock,
    )
    texts: list[str] = []
    with serve(server) as fake:
        config = config_for(fake, auth=method)
        snapshot = read_airflow_api(config, since="2000-01-01T00:00:00Z", client=client_for(fake, clock, auth=method))
        texts += [repr(config), str(config), repr(BridgeConfig(airflow_api=config)), repr(snapshot)]
        texts.append(orjson.dumps(BridgeConfig(airflow_api=config).model_dump(mode="json")).decode())
        server.reject_all_tokens, server.faults = True, [Fault("/api/v2/dags", status=500, times=99)]
        for settings in ({"password": "wrong-" + SECRETS["password"]}, {}):
            try:
                read_airflow_api(config_for(fake, auth=method, max_retries=1, **settings))
            except AirflowApiError as exc:
                texts.append(str(exc))
    texts += [record.getMessage() for record in caplog.records]
    forms = set(SECRETS.values()) | {f"wrong-{SECRETS['password']}"}
    leaked = [text for text in texts for secret in forms if secret in text]
    assert leaked == []
    assert len(texts) > 6
