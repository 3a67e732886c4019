"""A DataHub server (GMS) over REST, through acryl-datahub's own `DataHubRestEmitter`.

What we pin, and why:
- Rest.li `POST /aspects?action=ingestProposalBatch` (`openapi_ingestion=False`). GMS applies such a batch
  whole or not at all, and one batch of ours is exactly one request: `batches` closes a batch before DataHub
  would split it (its 200-MCP and 15 MB limits). DataHub picks OpenAPI instead when the environment says
  `DATAHUB_REST_EMITTER_DEFAULT_ENDPOINT=OPENAPI` (or for its SDK client mode against GMS >= 1.0.1); that
  mode splits a batch by entity type into several requests, so a failure would leave part of it applied.
- `EmitMode.SYNC_PRIMARY`: GMS answers after writing to its database, so an acknowledged batch is stored.
- No retries inside DataHub (`retry_max_times=0`, `retry_status_codes=[]`; by default urllib3 retries 4 times,
  more after a 429, with backoff factor 2, unseen by us): `bridge.http`'s retry loop (the Airflow reader's
  too) is the only one, so the attempts named in a message are the requests GMS saw, the backoff is ours
  (`retry_backoff`, doubled each time, without jitter; `Retry-After` in seconds or as an HTTP date honoured)
  and a test can make it instant.
- Authentication through DataHub's `TokenProviderAuth`, for a static token too: the bearer token is set per
  request. An OIDC token comes from `bridge.http`'s token cache (the Airflow reader's too) offered to DataHub
  as its `TokenProvider`: refreshed before it expires, and once more after a 401, which re-sends the request.
  A `token=` would also show its first and last four characters in the emitter's repr; passed this way, no
  part of it is held outside the provider.

The emitter's session is hardened by `bridge.http`: `timeout` is each request's total deadline (a GMS that
trickles bytes cannot hold a batch longer), and a redirect to another origin is refused, so the token is never
sent elsewhere. What GMS says in an error is shown redacted (`bridge.http.answer_text`, `bridge.redact`).

A failed batch is re-sent alone (an UPSERT is idempotent); batches GMS acknowledged are never re-sent, and
`EmitResult` counts only those. Transient failures (as `bridge.http.failures` defines them: no answer,
timeouts, 408/425/429, 5xx) are retried; anything else raises `SinkTerminalError` at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, TypeVar

import orjson
import requests
from datahub.emitter import rest_emitter
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.rest_emitter import DataHubRestEmitter, EmitMode
from datahub.emitter.token_provider import StaticTokenProvider, TokenProvider, TokenProviderAuth, TokenResult

from bridge.config import SinkConfig
from bridge.emit.sinks.base import EmitResult, aspect_json
from bridge.errors import SinkError, SinkTerminalError, SinkTransientError
from bridge.http import (
    ClientCredentials,
    Clock,
    Failure,
    RequestFailedError,
    Retrying,
    RetryPolicy,
    Sleep,
    TokenCache,
    TokenRequestError,
    answer_failure,
    answer_text,
    harden,
    hardened_session,
    in_chain,
    request_failure,
)
from bridge.redact import Redactor

T = TypeVar("T")
MAX_DELAY_S = 300.0  # the longest wait between two attempts, whatever Retry-After asks
HINTS = {
    401: "Check sink.token, or the OIDC client credentials (sink.oidc.client_id and client_secret).",
    403: "The token is valid but may not ingest metadata: grant its user the privilege to edit entities.",
    404: "Check sink.server: it is DataHub GMS (http://host:8080) or the frontend's /api/gms.",
}


class RestSink:
    """Sends MCPs in batches; see the module docstring for what is pinned and why. `sleep` waits between
    attempts, `clock` times cached tokens, `wall_clock` reads Retry-After dates (all injected by tests)."""

    def __init__(
        self,
        config: SinkConfig,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
    ) -> None:
        assert config.server, "open_sink checks that a server is given"
        self.server = config.server.rstrip("/")
        # DataHub's own limits (environment variables can change them), read when the sink opens.
        self.batch_size = min(config.batch_size, rest_emitter.BATCH_INGEST_MAX_PAYLOAD_LENGTH)
        self.max_bytes = rest_emitter.INGEST_MAX_PAYLOAD_BYTES
        self.redact = Redactor(config.secrets())
        self.client_id = config.oidc_client_id
        self.retrying = Retrying(retry_policy(config), sleep, wall_clock)
        self.token_session = hardened_session(config.timeout) if config.oidc_token_url else None
        self.tokens = (
            oidc_tokens(config, self.token_session, clock, wall_clock) if self.token_session is not None else None
        )
        self.last_answer = LastAnswer(self.redact)
        self.acknowledged = EmitResult()
        self.emitter = DataHubRestEmitter(
            gms_server=self.server,
            auth=bearer_auth(config, self.tokens),
            timeout_sec=config.timeout,
            retry_max_times=0,
            retry_status_codes=[],
            openapi_ingestion=False,
            default_emit_mode=EmitMode.SYNC_PRIMARY,
        )
        harden(self.emitter.session, config.timeout)
        self.emitter.session.hooks["response"].append(self.last_answer.record)
        try:
            self._attempt("GET /config (connecting)", self.emitter.test_connection)
        except SinkError:
            self.close()  # nobody else holds the sink yet to close its sessions
            raise

    def emit(self, proposals: Iterable[MetadataChangeProposalWrapper]) -> EmitResult:
        """Send batch after batch; `self.acknowledged` holds what GMS acknowledged, also after a failure."""
        result = self.acknowledged = EmitResult()
        for number, batch in enumerate(batches(proposals, self.batch_size, self.max_bytes), start=1):
            what = describe_batch(number, batch, result)
            self._attempt(what, partial(self.emitter.emit_mcps, batch, emit_mode=EmitMode.SYNC_PRIMARY))
            for proposal in batch:
                result.add(proposal)
        return result

    def close(self) -> None:
        self.emitter.close()
        if self.token_session is not None:
            self.token_session.close()

    def _attempt(self, what: str, call: Callable[[], T]) -> T:
        """`call` until it succeeds, a terminal error, or `max_retries` retries of a transient one."""
        try:
            return self.retrying.run(lambda: self._once(call), f"datahub-rest {self.server}: {what}", self.redact)
        except RequestFailedError as failed:
            raise self._error(what, failed.failure, failed.attempts) from failed.failure.cause

    def _once(self, call: Callable[[], T]) -> T | Failure:
        self.last_answer.clear()
        try:
            return call()
        except Exception as exc:  # DataHub's OperationalError/ConfigurationError, requests', our token errors
            return classify(exc, self.last_answer, self.client_id)

    def _error(self, what: str, failure: Failure, attempts: int) -> SinkError:
        reason = self.redact(failure.reason)
        if failure.transient:
            return SinkTransientError(
                f"datahub-rest {self.server}: {what} still failed after {attempts} attempt"
                f"{'s' if attempts > 1 else ''} ({reason}). Retry later (a rerun re-sends what was acknowledged "
                "already; upserts make that harmless)."
            )
        hint = HINTS.get(failure.status or 0, "")
        return SinkTerminalError(f"datahub-rest {self.server}: {what} failed ({reason}); not retried. {hint}".strip())


def retry_policy(config: SinkConfig) -> RetryPolicy:
    """`max_retries` retries, `retry_backoff` doubled at each (no jitter: the setting says how long), at most
    `MAX_DELAY_S`, Retry-After too."""
    return RetryPolicy(config.max_retries, config.retry_backoff, MAX_DELAY_S, MAX_DELAY_S, jitter=False)


def oidc_tokens(config: SinkConfig, session: requests.Session, clock: Clock, wall_clock: Clock) -> TokenCache:
    """The client-credentials tokens of `sink.oidc` (complete: SinkConfig checks), cached by `bridge.http`."""
    assert config.oidc is not None
    grant = ClientCredentials.from_settings(config.oidc, config.timeout)
    return TokenCache(lambda: grant.fetch(session), clock, wall_clock)


class CachedTokenProvider(TokenProvider):
    """DataHub's token provider interface over the bridge's token cache: `TokenProviderAuth` asks it for the
    token of each request, and calls `invalidate` after a 401 before it asks again."""

    def __init__(self, tokens: TokenCache) -> None:
        self.tokens = tokens

    def get_token(self) -> TokenResult:
        return TokenResult(self.tokens.value())  # the expiry is the cache's; DataHub's TokenResult is not asked

    def invalidate(self) -> None:
        self.tokens.invalidate()


def bearer_auth(config: SinkConfig, tokens: TokenCache | None) -> TokenProviderAuth | None:
    """DataHub's per-request bearer auth: OIDC tokens from the cache, or a static token. None without
    credentials (DataHub then uses its system-auth environment variables, if set)."""
    provider: TokenProvider
    if tokens is not None:
        provider = CachedTokenProvider(tokens)
    elif config.token is not None:
        provider = StaticTokenProvider(config.token.get_secret_value())
    else:
        return None
    return TokenProviderAuth(provider)


def token_error_message(exc: TokenRequestError, client_id: str | None) -> str:
    """What a failed token request says, in the sink's terms (its settings, never a secret)."""
    said = f"OIDC token endpoint {exc.url} {exc.what_happened()}"
    if exc.refused:
        said += (f" for client {client_id!r}. Check sink.oidc.client_id and sink.oidc.client_secret (or "
                 "sink.oidc_client_id, sink.oidc_client_secret)")  # fmt: skip
    return said


class LastAnswer:
    """The status, Retry-After and message of the last answer GMS gave, recorded by a response hook on the
    emitter's session: DataHub raises some errors (GET /config) without the response, and this reads them
    all the same way."""

    def __init__(self, redact: Redactor) -> None:
        self.redact = redact
        self.status: int | None = None
        self.retry_after: str | None = None
        self.message = ""

    def clear(self) -> None:
        self.status, self.retry_after, self.message = None, None, ""

    def record(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self.status = response.status_code
        self.retry_after = response.headers.get("Retry-After")
        self.message = answer_text(response, self.redact) if response.status_code >= 400 else ""
        return response


def classify(exc: Exception, answer: LastAnswer, client_id: str | None = None) -> Failure:
    """Whether a retry can help: by our token request's failure (for `client_id`), by GMS's status if it
    answered, else by the kind of error (`bridge.http.failures`)."""
    token_error = in_chain(exc, TokenRequestError)
    if token_error is not None:
        return Failure(token_error_message(token_error, client_id), token_error.transient, cause=exc)
    if answer.status is not None and answer.status >= 400:
        failure = answer_failure(answer.status, answer.message, answer.retry_after)
        return Failure(failure.reason, failure.transient, failure.status, failure.retry_after, cause=exc)
    cause = in_chain(exc, requests.RequestException)
    if cause is not None:
        failure = request_failure(cause)
        return Failure(failure.reason, failure.transient, cause=exc)
    message = getattr(exc, "message", None) or str(exc)  # DataHub's errors keep their text in `message`
    return Failure(f"{type(exc).__name__}: {str(message)[:300]}", transient=False, cause=exc)


def batches(
    proposals: Iterable[MetadataChangeProposalWrapper], size: int, max_bytes: int
) -> Iterator[list[MetadataChangeProposalWrapper]]:
    """Batches of at most `size` MCPs whose request stays under `max_bytes`, so DataHub sends each as one
    request (it would split a larger one, and a failure then leaves part of our batch applied). Lazy: the
    MCPs stream from `graph_to_mcps` and only one batch is held."""
    batch: list[MetadataChangeProposalWrapper] = []
    used, serialised = 0, dict[Any, object]()
    for proposal in proposals:
        cost = wire_size_bound(proposal, serialised)
        if batch and (len(batch) >= size or used + cost > max_bytes):
            yield batch
            batch, used = [], 0
        batch.append(proposal)
        used += cost
    if batch:
        yield batch


def wire_size_bound(proposal: MetadataChangeProposalWrapper, serialised: dict[int, object]) -> int:
    """At least the size DataHub measures for an MCP (`len(json.dumps(mcp.to_obj()))`). There the aspect is
    ASCII-escaped JSON written as a string inside JSON: at most 3.5 characters per byte of its compact UTF-8 JSON
    (a 2-byte character becomes 7: a doubled backslash and u00e9), so 4x plus the envelope bounds it (system
    metadata under 1 KB; the URN, even with each character escaped)."""
    assert proposal.aspect is not None
    aspect = orjson.dumps(aspect_json(proposal.aspect, serialised))
    extra = orjson.dumps(proposal.systemMetadata.to_obj()) if proposal.systemMetadata is not None else b""
    return 4 * (len(aspect) + len(extra)) + 6 * len(proposal.entityUrn or "") + 1024


def describe_batch(number: int, batch: list[MetadataChangeProposalWrapper], done: EmitResult) -> str:
    """`batch 3 (100 aspects, from <urn> <aspect> to <urn> <aspect>; 200 acknowledged before it)`."""
    first, last = batch[0], batch[-1]
    span = f"{first.entityUrn} {first.aspectName}"
    if len(batch) > 1:
        span = f"from {span} to {last.entityUrn} {last.aspectName}"
    return f"batch {number} ({len(batch)} aspects, {span}; {sum(done.counts.values())} acknowledged before it)"
