"""The REST client against the replaying server: auth methods, token refresh, retries, pagination, TLS,
and no secret anywhere (messages, logs, reports, repr)."""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Callable, Iterator
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
    # each next page from the last item of the one before (the overlap that sees a listing move), one item
    # longer, so as many requests as without the overlap
    assert [q for _, p, q in fake.requests if p == "/api/v2/dags"] == [
        "limit=100&offset=0",
        "limit=101&offset=99",
        "limit=101&offset=199",
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


def recorded_dags(fake: FakeAirflow) -> list[dict[str, object]]:
    return list(fake.routes[("GET", "/api/v2/dags")]["dags"])


def change_dags_after_first_page(fake: FakeAirflow, change: Callable[[list[dict[str, object]]], list]) -> None:
    """The recorded DAG listing changed by `change` once its first page was answered."""
    answered = {"pages": 0}

    def after(method: str, path: str) -> None:
        if path == "/api/v2/dags":
            answered["pages"] += 1
            if answered["pages"] == 1:
                fake.set_listing("/api/v2/dags", "dags", change(recorded_dags(fake)))

    fake.after_request = after


def test_an_item_leaving_before_the_cursor_skips_no_other(fake: FakeAirflow, clock: Clock) -> None:
    """A DAG deleted after the first page was read shifts the rest one place up: the overlap sees it."""
    listed = [d["dag_id"] for d in recorded_dags(fake)]
    change_dags_after_first_page(fake, lambda dags: dags[1:])
    client = client_for(fake, clock, page_size=2)
    read = [d["dag_id"] for d in client.listing("/dags", "dags")]
    assert sorted(read) == sorted(listed) and len(read) == len(set(read))  # the deleted one was read before
    assert client.warnings == []


def test_a_page_of_items_inserted_ahead_is_no_ignored_offset(fake: FakeAirflow, clock: Clock) -> None:
    listed = [d["dag_id"] for d in recorded_dags(fake)]
    change_dags_after_first_page(fake, lambda dags: [{**dags[0], "dag_id": f"a_new_{n}"} for n in (1, 2)] + dags)
    client = client_for(fake, clock, page_size=2)
    read = [d["dag_id"] for d in client.listing("/dags", "dags")]
    assert sorted(read) == sorted([*listed, "a_new_1", "a_new_2"]) and len(read) == len(set(read))
    assert client.warnings == []


def test_a_listing_that_keeps_moving_is_read_on_after_three_rereads_and_said(fake: FakeAirflow, clock: Clock) -> None:
    """Each answer puts a new DAG in front: re-reading cannot catch up, so the read goes on, with a warning."""
    fake.set_listing("/api/v2/dags", "dags", dags_listing(20))
    added = itertools.count()

    def one_more_in_front(method: str, path: str) -> None:
        dags = [{"dag_id": f"a_{next(added):03d}", "owners": [], "tags": []}, *fake.routes[("GET", path)]["dags"]]
        fake.set_listing(path, "dags", dags)

    fake.after_request = one_more_in_front
    client = client_for(fake, clock, page_size=5)
    read = [d["dag_id"] for d in client.listing("/dags", "dags")]
    assert len(read) == len(set(read)) and {f"dag_{i:03d}" for i in range(20)} <= set(read)
    [said] = client.warnings
    assert f"GET {fake.url}/api/v2/dags: the listing changed between its pages" in said and "3 times" in said
    offsets = [q for _, p, q in fake.requests if p == "/api/v2/dags"]
    assert offsets[:2] == ["limit=5&offset=0", "limit=6&offset=4"] and offsets.count("limit=5&offset=0") == 4


def test_a_batch_run_listing_losing_a_run_between_pages_skips_no_other() -> None:
    """The recorded runs of Airflow 3.3, a run already read deleted before the second page (POST listing)."""
    fake, route = FakeAirflow("af33"), ("POST", "/api/v2/dags/~/dagRuns/list")
    runs = fake.routes[route]["dag_runs"]
    answered = {"pages": 0}

    def delete_the_second_run(method: str, path: str) -> None:
        if (method, path) == route:
            answered["pages"] += 1
            if answered["pages"] == 1:
                fake.set_listing(route[1], "dag_runs", runs[:1] + runs[2:], method="POST")

    fake.after_request = delete_the_second_run
    with serve(fake):
        snapshot = read_airflow_api(AirflowApiConfig(url=fake.url, page_size=5), since="2000-01-01T00:00:00Z")
    assert {(r.dag_id, r.run_id) for r in snapshot.dag_runs} == {(r["dag_id"], r["dag_run_id"]) for r in runs}
    assert not [p for p in snapshot.problems if p.code == "rest-client"]


@pytest.mark.parametrize("release", ["af211", "af33"])
@pytest.mark.parametrize("dag_details", [True, False], ids=["details", "tasks"])
def test_a_dag_deleted_after_the_listing_is_left_out_as_gone(release: str, dag_details: bool) -> None:
    prefix = "/api/v1" if release == "af211" else "/api/v2"
    fake = FakeAirflow(release)
    url_path = f"{prefix}/dags/finance_fred/{'details' if dag_details else 'tasks'}"
    fake.faults.append(Fault(url_path, status=404))
    with serve(fake):
        config = AirflowApiConfig(url=fake.url, dag_details=dag_details)
        snapshot = read_airflow_api(config, since="2000-01-01T00:00:00Z")
    remaining = ["finance_dbt", "finance_marts_pipeline", "finance_reporting", "ingest_fred", "ingest_markets"]
    assert sorted(snapshot.dags) == remaining
    assert "finance_fred" not in {r.dag_id for r in snapshot.dag_runs} and snapshot.dag_runs
    [gone] = [p for p in snapshot.problems if p.code == "dag-gone"]
    assert (gone.severity, gone.location) == ("warning", "dag finance_fred")
    assert f"GET {fake.url}{url_path}" in gone.message and "404" in gone.message


@pytest.mark.parametrize("with_ids", [True, False], ids=["by-id", "by-fields"])
def test_airflow_2_events_read_twice_across_a_page_boundary_are_kept_once(with_ids: bool) -> None:
    """Airflow 2 orders its event listing by timestamp only: events of one time may swap between two pages."""
    fake, path = FakeAirflow("af211"), "/api/v1/datasets/events"
    events = [
        e if with_ids else {k: v for k, v in e.items() if k != "id"}
        for e in fake.routes[("GET", path)]["dataset_events"]
    ]
    fake.set_listing(path, "dataset_events", events)
    answered = {"pages": 0}

    def swap_across_the_boundary(method: str, asked: str) -> None:
        if asked == path:
            answered["pages"] += 1
            if answered["pages"] == 1:  # the first page's last and the next one's first trade places
                fake.set_listing(path, "dataset_events", [*events[:4], events[5], events[4], *events[6:]])

    fake.after_request = swap_across_the_boundary
    with serve(fake):
        snapshot = read_airflow_api(AirflowApiConfig(url=fake.url, page_size=5), since="2000-01-01T00:00:00Z")
    with serve(FakeAirflow("af211")) as unchanged:
        expected = read_airflow_api(AirflowApiConfig(url=unchanged.url), since="2000-01-01T00:00:00Z")
    assert sorted(snapshot.asset_events, key=repr) == sorted(expected.asset_events, key=repr)
    assert len(snapshot.asset_events) == len(events) == 29
