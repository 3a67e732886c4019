"""The Airflow REST reader and the DataHub REST sink go through one HTTP edge (`bridge.http`): the same retry
loop (Retry-After as an HTTP date read on the injected clock, no wall-clock wait), the same mapping of a
failed request (a TLS failure is terminal for both, a refused connection transient for both, said the same
way), the same token cache, and the same redaction of what a server says. Each case runs both clients
against local servers on 127.0.0.1 and compares what they did."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import StatusClass

from bridge.config import AirflowApiConfig, SinkConfig
from bridge.emit.sinks.rest import RestSink
from bridge.errors import (
    AirflowApiError,
    AirflowApiUnavailableError,
    BridgeError,
    SinkTerminalError,
    SinkTransientError,
)
from bridge.http import Retrying, TokenCache
from bridge.read.airflow_api.client import ApiClient, open_client
from bridge.redact import Redactor
from tests.fakes.airflow_api import FakeAirflow
from tests.fakes.airflow_api import Fault as AirflowFault
from tests.fakes.airflow_api import serve as serve_airflow
from tests.fakes.echo import Echo, echo_server
from tests.fakes.gms import Answer, FakeGms, FakeIdp
from tests.fakes.gms import Fault as GmsFault
from tests.fakes.gms import serve as serve_gms

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)
API_TOKEN = "api-token-3c9e51"
GMS_TOKEN = "gms-token-71ad0b"


@dataclass
class Time:
    """The injected clocks: the wall clock stands at NOW, the token clock at `now`; sleeps are recorded."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return NOW.timestamp()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def reader(url: str, time: Time, **settings: object) -> ApiClient:
    config = AirflowApiConfig.model_validate({"url": url, "max_retries": 2, **settings})
    client = open_client(config, sleep=time.sleep, clock=time.monotonic, wall_clock=time.wall)
    client.prefix = "/api/v2"
    return client


def sink(url: str, time: Time, **settings: object) -> RestSink:
    config = SinkConfig.model_validate({"type": "datahub-rest", "server": url, "max_retries": 2, **settings})
    return RestSink(config, sleep=time.sleep, clock=time.monotonic, wall_clock=time.wall)


def status_mcps() -> Iterator[MetadataChangeProposalWrapper]:
    yield MetadataChangeProposalWrapper(entityUrn="urn:li:dataset:(urn:li:dataPlatform:postgres,a.b,PROD)",
                                        aspect=StatusClass(removed=False))  # fmt: skip


def raised(action: object) -> BridgeError:
    assert callable(action)
    with pytest.raises(BridgeError) as caught:
        action()
    return caught.value


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_both_clients_hold_the_one_retry_loop_token_cache_and_redactor() -> None:
    time, gms = Time(), FakeGms(tokens=set())
    with serve_airflow(FakeAirflow("af33")) as airflow, serve_gms(gms), serve_gms(FakeIdp(gms)) as idp:
        oidc = {"token_url": f"{idp.url}/token", "client_id": idp.client_id, "client_secret": idp.client_secret}
        api = reader(airflow.url, time, auth="oidc", oidc=oidc)  # its tokens are only fetched, never sent here
        datahub = sink(gms.url, time, oidc=oidc)
        datahub.close()
    assert isinstance(api.retrying, Retrying) and isinstance(datahub.retrying, Retrying)
    assert isinstance(api.auth.tokens, TokenCache) and isinstance(datahub.tokens, TokenCache)
    assert isinstance(api.redact, Redactor) and isinstance(datahub.redact, Redactor)
    for redact in (api.redact, datahub.redact):
        assert redact(f"secret {idp.client_secret} and Bearer abcdef123") == "secret *** and Bearer ***"


def test_retry_after_as_an_http_date_is_waited_by_both_on_the_injected_clock() -> None:
    """The sink used to ignore the date form (its own backoff applied); now both wait what the server asks."""
    time = Time()
    later = format_datetime(NOW.replace(second=7), usegmt=True)  # 7 s after the injected wall clock
    airflow = FakeAirflow("af33", faults=[AirflowFault("/api/v2/dags", status=503, retry_after=later)])
    gms = FakeGms(faults=[GmsFault(status=503, retry_after=later)])
    with serve_airflow(airflow), serve_gms(gms):
        assert reader(airflow.url, time).get("/dags")["total_entries"] == 6
        datahub = sink(gms.url, time)
        datahub.emit(status_mcps())
        datahub.close()
    assert time.sleeps == [7.0, 7.0]
    assert [b.status for b in gms.batches] == [503, 200]


def test_a_tls_failure_is_terminal_for_both_and_said_the_same_way() -> None:
    """https:// to a server that speaks plain HTTP: not retried as if the server were down."""
    time = Time()
    with serve_gms(FakeGms()) as gms:
        url = gms.url.replace("http://", "https://")
        from_reader = raised(lambda: reader(url, time).get("/version"))
        from_sink = raised(lambda: sink(url, time))
    assert type(from_reader) is AirflowApiError and isinstance(from_sink, SinkTerminalError)
    reason = re.escape(f"TLS failed with {url} (")
    assert re.search(reason, str(from_reader)) and re.search(reason, str(from_sink))
    assert time.sleeps == [] and gms.requests == []


def test_a_refused_connection_is_transient_for_both_and_said_the_same_way() -> None:
    time = Time()
    url = f"http://127.0.0.1:{free_port()}"
    from_reader = raised(lambda: reader(url, time).get("/version"))
    from_sink = raised(lambda: sink(url, time))
    assert isinstance(from_reader, AirflowApiUnavailableError) and isinstance(from_sink, SinkTransientError)
    said = f"no answer: Connection refused by {url} (nothing listens there; is the service up?)"
    assert said in str(from_reader) and said in str(from_sink)
    assert "still failing after 3 attempts" in str(from_reader) and "still failed after 3 attempts" in str(from_sink)
    assert len(time.sleeps) == 4  # two retries each


def test_what_a_server_echoes_is_redacted_the_same_way_by_both() -> None:
    body = '{{"detail": "token {token} refused", "message": "token {token} refused"}}'
    time = Time()
    with echo_server(Echo(status=503, body=body, content_type="application/json")) as server:
        from_reader = raised(lambda: reader(server.url, time, auth="bearer", token=API_TOKEN, max_retries=0).get("/x"))
        from_sink = raised(lambda: sink(server.url, time, token=GMS_TOKEN, max_retries=0))
    assert [seen.authorization for seen in server.seen] == [f"Bearer {API_TOKEN}", f"Bearer {GMS_TOKEN}"]
    for error in (from_reader, from_sink):
        assert "HTTP 503: token *** refused)" in str(error)
        assert API_TOKEN not in str(error) and GMS_TOKEN not in str(error)


@dataclass
class FlakyIdp(FakeIdp):
    """A token endpoint that is down (503) for its first `down_for` requests, then issues tokens."""

    down_for: int = 1

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer | None:
        if self.down_for > 0:
            self.down_for -= 1
            return Answer(503, b'{"error": "temporarily_unavailable"}')
        return super().handle(method, path, headers, body)


def test_a_token_endpoint_down_once_is_retried_by_both_and_its_token_used() -> None:
    """The reader used to stop at once with an auth error blaming the credentials; now both retry it."""
    time, gms = Time(), FakeGms(tokens=set())
    for_reader, for_sink = FlakyIdp(None), FlakyIdp(gms)
    airflow = FakeAirflow("af33")
    with serve_airflow(airflow), serve_gms(gms), serve_gms(for_reader) as reader_idp, serve_gms(for_sink) as sink_idp:
        reading = reader(airflow.url, time, auth="oidc", oidc=credentials(reader_idp))
        assert reading.get("/dags")["total_entries"] == 6
        datahub = sink(gms.url, time, oidc=credentials(sink_idp))
        datahub.emit(status_mcps())
        datahub.close()
    assert (len(for_reader.issued), len(for_sink.issued)) == (1, 1) and [b.status for b in gms.batches] == [200]
    assert len(time.sleeps) == 2, "one retry of each token endpoint"


def credentials(idp: FakeIdp) -> dict[str, str]:
    return {"token_url": f"{idp.url}/token", "client_id": idp.client_id, "client_secret": idp.client_secret}
