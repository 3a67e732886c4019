"""The original connector's fallback, kept and off by default: when the OIDC token request fails, basic auth
with the configured username and password, said in the run report; without it, the failure is the error."""

from __future__ import annotations

import pytest

from bridge.config import AirflowApiConfig
from bridge.errors import AirflowApiAuthError
from bridge.read.airflow_api.reader import read_airflow_api
from tests.fakes.airflow_api import FakeAirflow, serve


def settings(url: str, **more: object) -> AirflowApiConfig:
    return AirflowApiConfig.model_validate({
        "url": url, "auth": "oidc", "oidc_token_url": f"{url}/realms/data", "oidc_client_id": "bridge",
        "oidc_client_secret": "not-the-secret", "username": "admin", "password": "admin-password", **more,
    })  # fmt: skip


def test_a_failed_token_request_falls_back_to_basic_auth_and_says_so() -> None:
    with serve(FakeAirflow("af33", auth="basic")) as fake:
        snapshot = read_airflow_api(settings(fake.url, oidc_basic_auth_fallback=True))
    assert len(snapshot.dags) >= 6
    [note] = [p for p in snapshot.problems if "Basic auth is used instead" in p.message]
    assert note.code == "rest-client" and "/realms/data/protocol/openid-connect/token refused" in note.message
    assert "not-the-secret" not in note.message and "admin-password" not in note.message


def test_without_the_fallback_a_failed_token_request_is_the_error() -> None:
    with serve(FakeAirflow("af33", auth="basic")) as fake, pytest.raises(AirflowApiAuthError, match="refused"):
        read_airflow_api(settings(fake.url))
