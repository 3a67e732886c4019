"""A DataHub GMS on 127.0.0.1 that answers what acryl-datahub 1.7's `DataHubRestEmitter` calls in Rest.li mode,
and an OIDC token endpoint for the client-credentials grant.

GMS: `GET /config` answers `{"noCode": "true", "versions": ...}` (the emitter checks `noCode`), and
`POST /aspects?action=ingestProposalBatch` takes `{"proposals": [...], "async": "false"}` and applies the batch
whole, as GMS's AspectResource does, answering `{"value": "success"}`; errors have Rest.li's shape
(`{"status", "message", "exceptionClass", "stackTrace"}`). With `tokens` set, a request without
`Authorization: Bearer <one of them>` gets 401; with `token_check` set (a real OIDC provider's JWKS), one whose
bearer token it does not approve. Faults a test can order: a status (with Retry-After) N times, a
slow answer (the batch is applied, the answer comes late), a dropped connection (nothing applied).
Every request is recorded, with what was answered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qs

import orjson

from tests.fakes.local_http import serving

INGEST_PATH = "/aspects?action=ingestProposalBatch"
DROP = -1  # the status recorded for a connection closed without an answer


@dataclass
class Fault:
    """Answer the requests whose path starts with `path`, after letting `skip` of them through, `times` times."""

    path: str = INGEST_PATH
    status: int = 500
    times: int = 1
    skip: int = 0
    retry_after: str | None = None
    message: str = "Internal Server Error"
    delay_s: float = 0.0  # > 0: apply the batch, answer 200 after this long
    drop: bool = False  # close the connection without answering (nothing applied)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    authorization: str | None
    mcps: tuple[tuple[str, str, str], ...]  # (entityUrn, aspectName, aspect JSON) of each proposal
    payload: Any
    status: int  # what was answered; DROP for a closed connection


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class Fake(Protocol):
    url: str

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer | None: ...


@dataclass
class FakeGms:
    tokens: set[str] | None = None
    token_check: Callable[[str], bool] | None = None
    config: dict[str, Any] = field(default_factory=lambda: dict(GMS_CONFIG))
    faults: list[Fault] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def batches(self) -> list[Request]:
        return [r for r in self.requests if r.path == INGEST_PATH]

    @property
    def applied(self) -> list[Request]:
        """Batches GMS applied: answered 200 (also when the answer came too late for the client)."""
        return [r for r in self.batches if r.status == 200]

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer | None:
        with self.lock:
            answer = self._answer(method, path, headers.get("Authorization"))
            payload = orjson.loads(body) if body else None
            mcps = tuple(identity(p) for p in (payload or {}).get("proposals", []))
            status = DROP if answer is None else answer.status
            self.requests.append(Request(method, path, headers.get("Authorization"), mcps, payload, status))
        return answer

    def _answer(self, method: str, path: str, authorization: str | None) -> Answer | None:
        if not self._authorised(authorization):
            return rest_li_error(401, "Failed to authenticate: the bearer token is missing, invalid or expired")
        fault = self._fault(path)
        if fault is not None:
            return self._faulty(fault)
        if method == "GET" and path == "/config":
            return Answer(200, orjson.dumps(self.config))
        if method == "POST" and path == INGEST_PATH:
            return Answer(200, b'{"value": "success"}')
        return rest_li_error(404, f"no resource at {path}")

    def _authorised(self, authorization: str | None) -> bool:
        if self.token_check is not None:
            scheme, _, token = (authorization or "").partition(" ")
            return scheme == "Bearer" and self.token_check(token)
        return self.tokens is None or authorization in {f"Bearer {t}" for t in self.tokens}

    def _fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if path.startswith(fault.path) and fault.times > 0:
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                return fault
        return None

    @staticmethod
    def _faulty(fault: Fault) -> Answer | None:
        if fault.drop:
            return None
        if fault.delay_s:
            return Answer(200, b'{"value": "success"}', delay_s=fault.delay_s)
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        return rest_li_error(fault.status, fault.message, headers)


def identity(proposal: dict[str, Any]) -> tuple[str, str, str]:
    """What makes an MCP itself: two run events of one process instance differ only by their aspect."""
    return proposal["entityUrn"], proposal["aspectName"], proposal["aspect"]["value"]


def rest_li_error(status: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    body = {"exceptionClass": "com.linkedin.restli.server.RestLiServiceException", "status": status,
            "message": message, "stackTrace": "com.linkedin.restli.server.RestLiServiceException: ..."}  # fmt: skip
    return Answer(status, orjson.dumps(body), headers or {})


GMS_CONFIG = {
    "noCode": "true",
    "versions": {"acryldata/datahub": {"version": "v1.3.0", "commit": "0000000"}},
    "datahub": {"serverType": "quickstart"},
    "statefulIngestionCapable": True,
    "patchCapable": True,
}


@dataclass
class FakeIdp:
    """OIDC client credentials: issues `idp-access-1-...`, `idp-access-2-...`, each valid `lifetime_s`, and makes
    `gms` accept it (None: a GMS that accepts none of them)."""

    gms: FakeGms | None
    client_id: str = "bridge"
    client_secret: str = "idp-client-secret-9f2c"
    lifetime_s: int = 3600
    issued: list[str] = field(default_factory=list)
    forms: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer | None:
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        self.forms.append(form)
        if form.get("grant_type") != "client_credentials" or (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return Answer(401, b'{"error": "invalid_client"}')
        token = f"idp-access-{len(self.issued) + 1}-5e0c1f"
        self.issued.append(token)
        if self.gms is not None and self.gms.tokens is not None:
            self.gms.tokens.add(token)
        return Answer(200, orjson.dumps({"access_token": token, "expires_in": self.lifetime_s, "token_type": "Bearer"}))


class _Handler(BaseHTTPRequestHandler):
    fake: Fake

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        answer = self.fake.handle(self.command, self.path, self.headers, self.rfile.read(length))
        if answer is None:  # drop: close without a status line
            self.close_connection = True
            return
        time.sleep(answer.delay_s)
        self.send_response(answer.status)
        for name, value in {"Content-Type": "application/json", **answer.headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(fake: Fake) -> Iterator[Any]:
    with serving(type("Handler", (_Handler,), {"fake": fake})) as url:
        fake.url = url
        yield fake
