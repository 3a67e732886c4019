"""The datahub-rest sink, through DataHub's own DataHubRestEmitter, against a GMS on 127.0.0.1
(tests/fakes/gms.py): every MCP of a real graph arrives exactly once; a failed batch is re-sent alone and
acknowledged ones never; transient failures are retried, then reported with the server and the attempts;
refusals are reported at once; bearer and OIDC tokens; no secret in any error or log record."""

from __future__ import annotations

import logging
import socket
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from datahub.emitter import rest_emitter

from bridge.config import SinkConfig
from bridge.emit.mcps import graph_to_mcps
from bridge.emit.sinks import Sink, open_sink
from bridge.emit.sinks.rest import RestSink, batches
from bridge.errors import SinkError, SinkTerminalError, SinkTransientError
from bridge.join.pipeline import join_lineage
from bridge.join.settings import JoinSettings
from bridge.model.dbt import DbtProject
from bridge.model.graph import LineageGraph
from tests.fakes.gms import INGEST_PATH, FakeGms, FakeIdp, Fault, identity, serve
from tests.unit.join.test_pipeline import snapshot

TOKEN = "static-token-4b7e1d9a"
WRONG_SECRET = "wrong-secret-81d2"
MCP = tuple[str, str, str]


@pytest.fixture(scope="module")
def graph(postgres_project: DbtProject) -> LineageGraph:
    return join_lineage([postgres_project], snapshot(), JoinSettings(dag_domain_rules={"ingest_.*": "ingestion"}))


@pytest.fixture(scope="module")
def sent(graph: LineageGraph) -> Counter[MCP]:
    """Every MCP of the graph as DataHub puts it on the wire (entity, aspect, aspect JSON)."""
    return Counter(identity(proposal.to_obj()) for proposal in graph_to_mcps(graph))


@pytest.fixture
def gms() -> Iterator[FakeGms]:
    with serve(FakeGms()) as fake:
        yield fake


def rest(server: str, **settings: Any) -> SinkConfig:
    """A REST sink setting with no wait between retries (the backoff itself is tested with a recorded sleep)."""
    return SinkConfig(type="datahub-rest", server=server, **{"retry_backoff": 0.0, **settings})


def oidc(gms: FakeGms, idp: FakeIdp, **settings: Any) -> SinkConfig:
    return rest(gms.url, oidc_token_url=f"{idp.url}/token", oidc_client_id=idp.client_id,
                oidc_client_secret=idp.client_secret, **settings)  # fmt: skip


def emit_all(config: SinkConfig, graph: LineageGraph) -> Counter[str]:
    sink = open_sink(config)
    try:
        return sink.emit(graph_to_mcps(graph)).counts
    finally:
        sink.close()


def applied(gms: FakeGms) -> Counter[MCP]:
    return Counter(mcp for batch in gms.applied for mcp in batch.mcps)


def by_aspect(mcps: Counter[MCP]) -> Counter[str]:
    return Counter(aspect for _, aspect, _ in mcps.elements())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_every_mcp_of_a_graph_arrives_exactly_once(graph: LineageGraph, sent: Counter[MCP], gms: FakeGms) -> None:
    counts = emit_all(rest(gms.url, batch_size=50), graph)
    assert applied(gms) == sent
    assert counts == by_aspect(sent)  # what GMS acknowledged, by aspect
    total = sum(sent.values())
    assert [len(b.mcps) for b in gms.batches] == [50] * (total // 50) + [total % 50]  # one batch, one request
    assert {r.path for r in gms.requests} == {"/config", INGEST_PATH}  # Rest.li pinned, never OpenAPI
    assert {b.payload["async"] for b in gms.batches} == {"false"}  # SYNC_PRIMARY: stored when acknowledged


def test_near_datahubs_size_limit_each_batch_is_still_one_request(
    graph: LineageGraph, sent: Counter[MCP], gms: FakeGms, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With DataHub's payload limit lowered to 20 kB, our batches close earlier and DataHub splits none."""
    monkeypatch.setattr(rest_emitter, "INGEST_MAX_PAYLOAD_BYTES", 20_000)
    emit_all(rest(gms.url), graph)
    ours = [len(batch) for batch in batches(graph_to_mcps(graph), 100, 20_000)]
    assert [len(b.mcps) for b in gms.batches] == ours and len(ours) > 10
    assert applied(gms) == sent


def test_a_failed_batch_is_resent_alone_and_acknowledged_ones_never(graph: LineageGraph, sent: Counter[MCP]) -> None:
    with serve(FakeGms(faults=[Fault(status=500, times=2, skip=2)])) as gms:
        counts = emit_all(rest(gms.url, batch_size=50), graph)
    batches = gms.batches
    assert [b.status for b in batches[:6]] == [200, 200, 500, 500, 200, 200]
    assert batches[2].mcps == batches[3].mcps == batches[4].mcps  # the third batch, three times, alone
    assert len({b.mcps for b in batches}) == len(batches) - 2  # nothing else was sent twice
    assert applied(gms) == sent and counts == by_aspect(sent)


@pytest.mark.parametrize(
    "fault",
    [Fault(status=429, retry_after="0"), Fault(status=500), Fault(status=502), Fault(status=503), Fault(status=504),
     Fault(status=408), Fault(drop=True), Fault(delay_s=1.5)],
    ids=["429", "500", "502", "503", "504", "408", "dropped-connection", "slow-answer"],
)  # fmt: skip
def test_transient_failures_are_retried_and_nothing_is_lost(
    graph: LineageGraph, sent: Counter[MCP], fault: Fault
) -> None:
    with serve(FakeGms(faults=[replace(fault, skip=1)])) as gms:
        counts = emit_all(rest(gms.url, batch_size=100, timeout=0.5 if fault.delay_s else 10.0), graph)
    _, failed, retried = gms.batches[:3]
    assert failed.mcps == retried.mcps and retried.status == 200
    assert sent - applied(gms) == Counter()  # nothing lost
    # Applied twice: only the retried batch, and only when GMS had applied it but answered too late.
    assert applied(gms) - sent == (Counter(failed.mcps) if failed.status == 200 else Counter())
    assert counts == by_aspect(sent)  # counted once: what the client saw acknowledged


def test_backoff_doubles_and_retry_after_wins(graph: LineageGraph, gms: FakeGms) -> None:
    gms.faults = [Fault(status=503, times=2), Fault(status=429, retry_after="7")]
    sleeps: list[float] = []
    sink = RestSink(rest(gms.url, retry_backoff=0.25), sleep=sleeps.append)
    sink.emit(graph_to_mcps(graph))
    assert sleeps == [0.25, 0.5, 7.0]


def test_a_server_that_keeps_failing_is_transient_naming_it_and_the_attempts(graph: LineageGraph) -> None:
    with serve(FakeGms(faults=[Fault(status=500, times=1000, skip=1)])) as gms:
        sleeps: list[float] = []
        sink = RestSink(rest(gms.url, batch_size=100, max_retries=3, retry_backoff=0.1), sleep=sleeps.append)
        with pytest.raises(SinkTransientError) as caught:
            sink.emit(graph_to_mcps(graph))
    message = str(caught.value)
    assert message.startswith(f"datahub-rest {gms.url}: batch 2 (100 aspects, from urn:li:")
    assert "100 acknowledged before it) still failed after 4 attempts (HTTP 500: Internal Server Error)" in message
    assert [b.status for b in gms.batches] == [200, 500, 500, 500, 500]
    assert sleeps == [0.1, 0.2, 0.4]
    assert sum(sink.acknowledged.counts.values()) == 100  # what GMS acknowledged before the failure


def test_datahub_itself_does_not_retry(graph: LineageGraph, gms: FakeGms) -> None:
    """DataHub's emitter would retry 4 times inside urllib3; pinned to 0, the attempts we name are the requests."""
    gms.faults = [Fault(status=503, times=1000)]
    sink = open_sink(rest(gms.url, max_retries=0))
    with pytest.raises(SinkTransientError, match="still failed after 1 attempt "):
        sink.emit(graph_to_mcps(graph))
    assert len(gms.batches) == 1


@pytest.mark.parametrize(
    ("status", "hint"),
    [(400, "not retried.$"), (401, "Check sink.token"), (403, "privilege"), (404, "Check sink.server"),
     (422, "not retried.$")],
)  # fmt: skip
def test_a_refused_batch_is_terminal_at_once(graph: LineageGraph, status: int, hint: str) -> None:
    refusal = "aspect globalTags of urn:li:dataset:x failed validation"
    with serve(FakeGms(faults=[Fault(status=status, skip=1, message=refusal)])) as gms:
        sink = open_sink(rest(gms.url, batch_size=100, max_retries=5))
        with pytest.raises(SinkTerminalError, match=hint) as caught:
            sink.emit(graph_to_mcps(graph))
    assert [b.status for b in gms.batches] == [200, status]  # no retry, no later batch
    message = str(caught.value)
    assert message.startswith(f"datahub-rest {gms.url}: batch 2 (100 aspects, from urn:li:")
    assert f"failed (HTTP {status}: {refusal}); not retried." in message


def test_an_unreachable_server_is_transient_and_named() -> None:
    server = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SinkTransientError) as caught:
        open_sink(rest(server, max_retries=2))
    message = str(caught.value)
    assert message.startswith(f"datahub-rest {server}: GET /config (connecting) still failed after 3 attempts")
    assert "Connection refused" in message


def test_a_server_that_is_not_gms_is_terminal(gms: FakeGms) -> None:
    gms.config = {"noCode": "false"}  # what the DataHub frontend answers
    with pytest.raises(SinkTerminalError, match="connected to the frontend service instead of the GMS"):
        open_sink(rest(gms.url))


def test_a_static_token_is_sent_as_bearer_on_every_request(graph: LineageGraph) -> None:
    with serve(FakeGms(tokens={TOKEN})) as gms:
        emit_all(rest(gms.url, token=TOKEN, batch_size=100), graph)
    assert {r.authorization for r in gms.requests} == {f"Bearer {TOKEN}"}
    assert [r.status for r in gms.requests] == [200] * len(gms.requests)
    assert len(gms.batches) == -(-len(list(graph_to_mcps(graph))) // 100) >= 5  # every batch of 100 in one request


def test_an_oidc_token_is_fetched_once_and_cached(graph: LineageGraph, sent: Counter[MCP]) -> None:
    gms = FakeGms(tokens=set())
    with serve(gms), serve(FakeIdp(gms)) as idp:
        sink = open_sink(oidc(gms, idp, batch_size=100))
        sink.emit(graph_to_mcps(graph))
        sink.emit(graph_to_mcps(graph))
        sink.close()
    assert len(idp.issued) == 1 and {r.authorization for r in gms.requests} == {f"Bearer {idp.issued[0]}"}
    form = {"grant_type": "client_credentials", "client_id": "bridge", "client_secret": idp.client_secret}
    assert idp.forms == [form]
    assert applied(gms) == sent + sent


def test_an_oidc_token_is_refreshed_before_it_expires(graph: LineageGraph) -> None:
    gms = FakeGms(tokens=set())
    mcps = list(graph_to_mcps(graph))[:100]
    now = [100.0]
    with serve(gms), serve(FakeIdp(gms, lifetime_s=1)) as idp:
        sink = RestSink(oidc(gms, idp), clock=lambda: now[0])
        sink.emit(mcps)
        now[0] += 0.6  # past half the token's 1 s life: the token cache refreshes it before use
        sink.emit(mcps)
        sink.close()
    first, second = idp.issued
    assert [(r.path, r.authorization) for r in gms.requests] == [
        ("/config", f"Bearer {first}"), (INGEST_PATH, f"Bearer {first}"), (INGEST_PATH, f"Bearer {second}")
    ]  # fmt: skip


def test_a_revoked_oidc_token_is_refreshed_once_on_401(graph: LineageGraph, sent: Counter[MCP]) -> None:
    gms = FakeGms(tokens=set())
    with serve(gms), serve(FakeIdp(gms)) as idp:
        sink = open_sink(oidc(gms, idp, batch_size=200))
        gms.tokens.clear()  # the server revokes the token it accepted a moment ago
        sink.emit(graph_to_mcps(graph))
        sink.close()
    first, second = idp.issued
    accepted = -(-len(list(graph_to_mcps(graph))) // 200)
    assert [(b.status, b.authorization) for b in gms.batches] == [
        (401, f"Bearer {first}"), *[(200, f"Bearer {second}")] * accepted
    ]  # fmt: skip
    assert applied(gms) == sent


def test_a_401_that_survives_the_refresh_is_terminal() -> None:
    refused = r"GET /config .* failed \(HTTP 401: .*\); not retried. Check sink.token, or the OIDC client credentials"
    with (
        serve(FakeGms(tokens=set())) as gms,
        serve(FakeIdp(None)) as idp,
        pytest.raises(SinkTerminalError, match=refused),
    ):
        open_sink(oidc(gms, idp))
    assert len(idp.issued) == 2 and [r.status for r in gms.requests] == [401, 401]  # one refresh, no more


def test_a_refused_client_secret_is_terminal_and_names_the_token_endpoint() -> None:
    with serve(FakeGms(tokens=set())) as gms, serve(FakeIdp(gms)) as idp:
        config = replace_secret(oidc(gms, idp), WRONG_SECRET)
        with pytest.raises(SinkTerminalError) as caught:
            open_sink(config)
    said = f"OIDC token endpoint {idp.url}/token refused the request (HTTP 401) for client 'bridge'"
    assert said in str(caught.value)
    assert gms.requests == [] and idp.issued == []


def replace_secret(config: SinkConfig, secret: str) -> SinkConfig:
    settings = config.model_dump()
    return SinkConfig.model_validate({**settings, "oidc": {**settings["oidc"], "client_secret": secret}})


def test_no_secret_in_any_error_or_log_record(graph: LineageGraph, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[SinkError] = []
    with serve(FakeGms(tokens={"another-token"})) as gms:  # refuses TOKEN
        errors.append(raised(lambda: open_sink(rest(gms.url, token=TOKEN))))
    with serve(FakeGms(tokens={TOKEN}, faults=[Fault(status=500, times=9)])) as gms:
        errors.append(raised(lambda: open_sink(rest(gms.url, token=TOKEN, max_retries=1)).emit(graph_to_mcps(graph))))
    gms = FakeGms(tokens=set(), faults=[Fault(status=400, message="bad aspect")])
    with serve(gms), serve(FakeIdp(gms)) as idp:
        errors.append(raised(lambda: open_sink(oidc(gms, idp)).emit(graph_to_mcps(graph))))
        errors.append(raised(lambda: open_sink(replace_secret(oidc(gms, idp), WRONG_SECRET))))
    texts = ["".join(traceback.format_exception(error)) for error in errors]
    texts += [record.getMessage() + (record.exc_text or "") for record in caplog.records]
    assert any("Failed to emit to DataHub GMS" in text for text in texts)  # DataHub's debug log was captured
    for secret in (TOKEN, idp.client_secret, WRONG_SECRET, *idp.issued):
        assert not [text for text in texts if secret in text], secret


def raised(action: Callable[[], object]) -> SinkError:
    try:
        action()
    except SinkError as error:
        return error
    raise AssertionError("no SinkError raised")


def test_open_sink_gives_the_rest_sink(gms: FakeGms) -> None:
    sink: Sink = open_sink(rest(gms.url))
    assert isinstance(sink, RestSink)
    sink.close()
