"""A DataHub server (GMS) over REST, through acryl-datahub's own `DataHubRestEmitter`.

What we pin, and why:
- Rest.li `POST /aspects?action=ingestProposalBatch` (`openapi_ingestion=False`). GMS applies such a batch
  whole or not at all, and one batch of ours is exactly one request: `batches` closes a batch before DataHub
  would split it (its 200-MCP and 15 MB limits). DataHub picks OpenAPI instead when the environment says
  `DATAHUB_REST_EMITTER_DEFAULT_ENDPOINT=OPENAPI` (or for its SDK client mode against GMS >= 1.0.1); that
  mode splits a batch by entity type into several requests, so a failure would leave part of it applied.
- `EmitMode.SYNC_PRIMARY`: GMS answers after writing to its database, so an acknowledged batch is stored.
- No retries inside DataHub (`retry_max_times=0`, `retry_status_codes=[]`; by default urllib3 retries 4 times,
  more after a 429, with backoff factor 2, unseen by us): `_attempt` is the only retry loop, so the attempts named
  in a message are the requests GMS saw, the backoff is ours (`retry_backoff`, doubled each time, `Retry-After`
  honoured) and a test can make it instant.
- Authentication through DataHub's `TokenProviderAuth`, for a static token too: the bearer token is set per
  request (an OIDC token from `CachingTokenProvider`, refreshed before it expires, and once more after a 401,
  which re-sends the request). A `token=` would also show its first and last four characters in the
  emitter's repr; passed this way, no part of it is held outside the provider.

The emitter's session is hardened by `bridge.http`: `timeout` is each request's total deadline (a GMS that
trickles bytes cannot hold a batch longer), and a redirect to another origin is refused, so the token is never
sent elsewhere. What GMS says in an error is shown redacted (`bridge.redact`).

A failed batch is re-sent alone (an UPSERT is idempotent); batches GMS acknowledged are never re-sent, and
`EmitResult` counts only those. Transient failures (no answer, timeouts, 408/425/429, 5xx) are retried;
anything else raises `SinkTerminalError` at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import orjson
import requests
from datahub.emitter import rest_emitter
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.rest_emitter import DataHubRestEmitter, EmitMode
from datahub.emitter.token_provider import (
    CachingTokenProvider,
    StaticTokenProvider,
    TokenProvider,
    TokenProviderAuth,
    TokenResult,
)

from bridge.config import SinkConfig
from bridge.emit.sinks import EmitResult, aspect_json
from bridge.errors import SinkError, SinkTerminalError, SinkTransientError
from bridge.http import CrossOriginRedirect, DeadlineExceeded, harden, hardened_session
from bridge.redact import Redactor, server_text

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_DELAY_S = 300.0  # the longest wait between two attempts, whatever Retry-After asks
TOKEN_REFRESH_MARGIN_S = 60  # refresh an access token this long before it expires (at most half its lifetime)
TRANSIENT_STATUSES = frozenset({408, 425, 429})  # and every 5xx
TERMINAL_REQUEST_ERRORS = (
    requests.exceptions.SSLError,  # a subclass of ConnectionError, but a bad certificate stays bad
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
)
TRANSIENT_REQUEST_ERRORS = (
    requests.exceptions.ConnectionError,  # refused, reset, dropped; urllib3's read timeout arrives as this too
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
HINTS = {
    401: "Check sink.token, or sink.oidc_client_id and sink.oidc_client_secret.",
    403: "The token is valid but may not ingest metadata: grant its user the privilege to edit entities.",
    404: "Check sink.server: it is DataHub GMS (http://host:8080) or the frontend's /api/gms.",
}


class RestSink:
    """Sends MCPs in batches; see the module docstring for what is pinned and why."""

    def __init__(self, config: SinkConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        assert config.server, "open_sink checks that a server is given"
        self.server = config.server.rstrip("/")
        # DataHub's own limits (environment variables can change them), read when the sink opens.
        self.batch_size = min(config.batch_size, rest_emitter.BATCH_INGEST_MAX_PAYLOAD_LENGTH)
        self.max_bytes = rest_emitter.INGEST_MAX_PAYLOAD_BYTES
        self.max_retries = config.max_retries
        self.retry_backoff = config.retry_backoff
        self.sleep = sleep
        self.redact = Redactor(config.secrets())
        self.token_fetch = ClientCredentials(config) if config.oidc_token_url else None
        self.last_answer = LastAnswer(self.redact)
        self.acknowledged = EmitResult()
        self.emitter = DataHubRestEmitter(
            gms_server=self.server,
            auth=bearer_auth(config, self.token_fetch),
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
        if self.token_fetch is not None:
            self.token_fetch.close()

    def _attempt(self, what: str, call: Callable[[], T]) -> T:
        """`call` until it succeeds, a terminal error, or `max_retries` retries of a transient one."""
        attempt = 1
        while True:
            self.last_answer.clear()
            try:
                return call()
            except Exception as exc:  # DataHub's OperationalError/ConfigurationError, requests', our token errors
                failure = classify(exc, self.last_answer)
                if not failure.transient or attempt > self.max_retries:
                    raise self._error(what, failure, attempt) from exc
                delay = self._delay(attempt, failure.retry_after)
                logger.warning("datahub-rest %s: %s failed (%s) at attempt %d of %d; retrying in %.2f s",
                               self.server, what, self.redact(failure.reason), attempt, self.max_retries + 1,
                               delay)  # fmt: skip
                self.sleep(delay)
                attempt += 1

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """The server's Retry-After if it sent one, else `retry_backoff` doubled at each retry."""
        wanted = retry_after if retry_after is not None else self.retry_backoff * 2 ** (attempt - 1)
        return min(wanted, MAX_DELAY_S)

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


def bearer_auth(config: SinkConfig, token_fetch: ClientCredentials | None) -> TokenProviderAuth | None:
    """DataHub's per-request bearer auth: OIDC tokens cached until shortly before they expire, or a static token.
    None without credentials (DataHub then uses its system-auth environment variables, if set)."""
    provider: TokenProvider
    if token_fetch is not None:
        provider = CachingTokenProvider(token_fetch, refresh_buffer_seconds=TOKEN_REFRESH_MARGIN_S)
    elif config.token is not None:
        provider = StaticTokenProvider(config.token.get_secret_value())
    else:
        return None
    return TokenProviderAuth(provider)


class ClientCredentials:
    """Fetches an OIDC access token by the client-credentials grant (RFC 6749 4.4) with requests. Its errors
    are ours already (token endpoint named, secret never), so they pass through DataHub's emitter unchanged."""

    def __init__(self, config: SinkConfig) -> None:
        assert config.oidc_token_url and config.oidc_client_id and config.oidc_client_secret
        self.url, self.client_id, self.secret = config.oidc_token_url, config.oidc_client_id, config.oidc_client_secret
        self.scope, self.timeout = config.oidc_scope, config.timeout
        self.session = hardened_session(self.timeout)

    def __call__(self) -> TokenResult:
        form = {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self.secret.get_secret_value()}  # fmt: skip
        if self.scope:
            form["scope"] = self.scope
        requested_at = time.time()  # an expiry counted from the request errs on the early side
        try:
            response = self.session.post(self.url, data=form, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise SinkTransientError(f"OIDC token endpoint {self.url} gave no answer ({no_answer(exc)})") from exc
        if response.status_code != 200:
            error = SinkTransientError if is_transient_status(response.status_code) else SinkTerminalError
            raise error(f"OIDC token endpoint {self.url} answered HTTP {response.status_code} for client "
                        f"{self.client_id!r}. Check sink.oidc_client_id and sink.oidc_client_secret")  # fmt: skip
        return token_result(response, requested_at, self.url)

    def close(self) -> None:
        self.session.close()


def token_result(response: requests.Response, requested_at: float, url: str) -> TokenResult:
    """The access token and when it expires (`expires_in`; without it, DataHub fetches one per request)."""
    try:
        payload = response.json()
        token, expires_in = payload["access_token"], payload.get("expires_in")
    except (ValueError, KeyError, TypeError) as exc:
        raise SinkTerminalError(f"OIDC token endpoint {url} answered without an access_token") from exc
    return TokenResult(str(token), requested_at + float(expires_in) if expires_in is not None else None)


class LastAnswer:
    """The status, Retry-After and message of the last answer GMS gave, recorded by a response hook on the
    emitter's session: DataHub raises some errors (GET /config) without the response, and this reads them
    all the same way."""

    def __init__(self, redact: Redactor) -> None:
        self.redact = redact
        self.status: int | None = None
        self.retry_after: float | None = None
        self.message = ""

    def clear(self) -> None:
        self.status, self.retry_after, self.message = None, None, ""

    def record(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self.status = response.status_code
        self.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        self.message = server_message(response, self.redact) if response.status_code >= 400 else ""
        return response


def server_message(response: requests.Response, redact: Redactor) -> str:
    """GMS's own explanation (Rest.li errors carry `message`), redacted, then shortened; its stack trace is
    left out."""
    try:
        body = response.json()
    except ValueError:
        return server_text(response.content, redact, limit=300)
    message = body.get("message") if isinstance(body, dict) else None
    return server_text(str(message), redact, limit=300) if message else ""


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; the HTTP-date form is not honoured (our own backoff applies)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Failure:
    transient: bool
    reason: str
    status: int | None = None
    retry_after: float | None = None


def classify(exc: Exception, answer: LastAnswer) -> Failure:
    """Whether a retry can help: by GMS's status if it answered, else by the kind of error."""
    if isinstance(exc, SinkError):  # from our token fetch, raised through DataHub's emitter
        return Failure(exc.transient, str(exc))
    if answer.status is not None and answer.status >= 400:
        reason = f"HTTP {answer.status}" + (f": {answer.message}" if answer.message else "")
        return Failure(is_transient_status(answer.status), reason, answer.status, answer.retry_after)
    cause = request_error(exc)
    if isinstance(cause, CrossOriginRedirect):
        return Failure(False, str(cause))
    if cause is not None:
        transient = isinstance(cause, TRANSIENT_REQUEST_ERRORS) and not isinstance(cause, TERMINAL_REQUEST_ERRORS)
        return Failure(transient, f"no answer: {no_answer(cause)}")
    message = getattr(exc, "message", None) or str(exc)  # DataHub's errors keep their text in `message`
    return Failure(False, f"{type(exc).__name__}: {str(message)[:300]}")


def is_transient_status(status: int) -> bool:
    return status in TRANSIENT_STATUSES or status >= 500


def request_error(exc: BaseException) -> requests.RequestException | None:
    """The requests exception DataHub wrapped (its OperationalError keeps it as the cause), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, requests.RequestException):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def no_answer(exc: BaseException) -> str:
    """The innermost reason a request got no answer ('[Errno 111] Connection refused', 'Read timed out')."""
    if isinstance(exc, DeadlineExceeded):
        return str(exc)
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc).lower():
        return f"timed out ({type(exc).__name__})"
    innermost, inner = exc, exc.__cause__ or exc.__context__
    while inner is not None:
        innermost, inner = inner, inner.__cause__ or inner.__context__
    return f"{type(innermost).__name__}: {str(innermost)[:200]}"


def batches(
    proposals: Iterable[MetadataChangeProposalWrapper], size: int, max_bytes: int
) -> Iterator[list[MetadataChangeProposalWrapper]]:
    """Batches of at most `size` MCPs whose request stays under `max_bytes`, so DataHub sends each as one
    request (it would split a larger one, and a failure then leaves part of our batch applied). Lazy: the
    MCPs stream from `graph_to_mcps` and only one batch is held."""
    batch: list[MetadataChangeProposalWrapper] = []
    used, serialised = 0, dict[int, object]()
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
