"""A local Airflow REST API on 127.0.0.1 that replays the responses recorded from real Airflow releases
(tests/fixtures/airflow/rest/<release>/), with an OIDC client-credentials token endpoint (also at Keycloak's
`/realms/<realm>/protocol/openid-connect/token`), Airflow 3's `POST /auth/token`, basic auth, the bearer
tokens of a real OIDC provider (`token_check`: checked against the provider's JWKS), and faults a test can
order: 401, 429 with Retry-After, 500, a slow answer, a broken JSON body, a server that ignores `offset` or
caps its pages.

Listings are served from the recorded items with the client's own `limit`/`offset` (a recording made with
`limit=2` pages is joined back into one listing first), so any page size can be exercised on real data. The
batch listings (`POST .../list`) page by the body's `page_limit`/`page_offset` and select by its `<field>s`
lists (`dag_ids`, `dag_run_ids`) and `<field>_gte` times, as the real servers do; a body key the recorded
request did not send is answered 400, so a reader only sends what a real server was seen to accept.
"""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from bridge.times import utc
from tests.fakes.local_http import serving

RECORDINGS = Path(__file__).parents[1] / "fixtures" / "airflow" / "rest"
PAGE_KEYS = frozenset({"page_limit", "page_offset"})
LISTING_KEYS = (
    "dags", "tasks", "dag_runs", "task_instances", "assets", "datasets", "asset_events", "dataset_events",
    "asset_aliases", "import_errors", "connections", "variables", "dag_versions",
)  # fmt: skip


@dataclass
class Fault:
    """Answer requests whose path contains `path` with `status` (or slowly, or broken) `times` times."""

    path: str
    status: int = 500
    times: int = 1
    retry_after: str | None = None
    delay_s: float = 0.0
    broken_json: bool = False


@dataclass
class FakeAirflow:
    release: str
    auth: str = "none"  # none | basic | bearer | oidc | airflow-jwt
    username: str = "admin"
    password: str = "admin-password"
    static_token: str = "static-token"
    client_id: str = "bridge"
    client_secret: str = "client-secret"
    token_lifetime_s: int = 300
    clock: Callable[[], float] = time.monotonic
    faults: list[Fault] = field(default_factory=list)
    ignore_offset: bool = False
    max_page: int | None = None
    reject_all_tokens: bool = False
    token_check: Callable[[str], bool] | None = None  # with auth "oidc": accept the bearer tokens it approves
    routes: dict[tuple[str, str], Any] = field(default_factory=dict)
    body_keys: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)  # what recorded POSTs sent
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, query
    posted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # path, body of each batch listing
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry on `clock`
    token_requests: int = 0
    after_request: Callable[[str, str], None] | None = None
    _counter: Iterator[int] = field(default_factory=itertools.count)
    url: str = ""

    def __post_init__(self) -> None:
        self.routes = load_routes(RECORDINGS / self.release)
        self.body_keys = load_body_keys(RECORDINGS / self.release)

    # -- what tests call -------------------------------------------------------------------------------
    def set_listing(self, path: str, key: str, items: list[Any], method: str = "GET") -> None:
        self.routes[(method, path)] = {key: items, "total_entries": len(items)}

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    # -- serving ---------------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        path, query = unquote(parts.path), parse_qs(parts.query)
        self.requests.append((method, path, parts.query))
        fault = self._fault(path)
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            elif fault.broken_json:
                return 200, {"Content-Type": "application/json"}, b'{"dags": [{"dag_id": '
            else:
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return fault.status, extra, orjson.dumps({"detail": f"injected {fault.status}"})
        if method == "POST" and path == "/auth/token":
            return self._airflow_token(body)
        if method == "POST" and (path == "/oidc/token" or path.endswith("/protocol/openid-connect/token")):
            return self._oidc_token(body)
        if not self._authorised(headers.get("Authorization")):
            return 401, {}, orjson.dumps({"detail": "Not authenticated"})
        if method == "POST":
            return self._batch(path, orjson.loads(body or b"{}"))
        return self._route(method, path, query)

    def _fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.path in path and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _route(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        body = self.routes.get((method, path))
        if body is None:
            return 404, {}, orjson.dumps({"detail": "Not Found"})
        key = next((k for k in LISTING_KEYS if isinstance(body, dict) and isinstance(body.get(k), list)), None)
        if key is not None and "total_entries" in body:
            body = self._page(body, key, query)
        if self.after_request is not None:
            self.after_request(method, path)
        return 200, {"Content-Type": "application/json"}, orjson.dumps(body)

    def _page(self, body: dict[str, Any], key: str, query: dict[str, list[str]]) -> dict[str, Any]:
        return self._cut(body, key, int(query.get("limit", ["100"])[0]), int(query.get("offset", ["0"])[0]))

    def _cut(self, body: dict[str, Any], key: str, limit: int, offset: int) -> dict[str, Any]:
        offset = 0 if self.ignore_offset else offset
        if self.max_page is not None:
            limit = min(limit, self.max_page)
        items = body[key]
        return {**body, key: items[offset : offset + limit], "total_entries": len(items)}

    def _batch(self, path: str, sent: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """A batch listing (`POST .../list`): the recorded items the body selects, the page it asks for."""
        self.posted.append((path, sent))
        listing = self.routes.get(("POST", path))
        if listing is None:
            return 404, {}, orjson.dumps({"detail": "Not Found"})
        unknown = sorted(set(sent) - self.body_keys.get(("POST", path), frozenset()) - PAGE_KEYS)
        if unknown:
            return 400, {}, orjson.dumps({"detail": f"{unknown} not sent in the recorded request"})
        key = next(k for k in LISTING_KEYS if isinstance(listing.get(k), list))
        selected = {**listing, key: [item for item in listing[key] if _selects(sent, item)]}
        page = self._cut(selected, key, int(sent.get("page_limit", 100)), int(sent.get("page_offset", 0)))
        if self.after_request is not None:
            self.after_request("POST", path)
        return 200, {"Content-Type": "application/json"}, orjson.dumps(page)

    def _authorised(self, header: str | None) -> bool:
        if self.auth == "none":
            return True
        if self.auth == "basic":
            expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return header == f"Basic {expected}"
        if self.auth == "bearer":
            return header == f"Bearer {self.static_token}"
        scheme, _, token = (header or "").partition(" ")
        if self.token_check is not None:
            return not self.reject_all_tokens and scheme == "Bearer" and self.token_check(token)
        expiry = self.tokens.get(token)
        return not self.reject_all_tokens and expiry is not None and self.clock() < expiry

    def _issue(self) -> str:
        token = f"token-{next(self._counter)}"
        self.tokens[token] = self.clock() + self.token_lifetime_s
        self.token_requests += 1
        return token

    def _airflow_token(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        sent = orjson.loads(body or b"{}")
        if sent.get("username") != self.username or sent.get("password") != self.password:
            return 401, {}, orjson.dumps({"detail": "Invalid credentials"})
        return 201, {"Content-Type": "application/json"}, orjson.dumps({"access_token": self._issue()})

    def _oidc_token(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "client_credentials" or (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return 401, {}, orjson.dumps({"error": "unauthorized_client"})
        answer = {"access_token": self._issue(), "expires_in": self.token_lifetime_s, "token_type": "Bearer"}
        return 200, {"Content-Type": "application/json"}, orjson.dumps(answer)


def load_routes(folder: Path) -> dict[tuple[str, str], Any]:
    """(method, unquoted path) -> recorded body; paged recordings of one listing are joined into one."""
    index = orjson.loads((folder / "index.json").read_bytes())
    routes: dict[tuple[str, str], Any] = {}
    for entry in index["requests"]:
        if entry["status"] >= 300 or "@unauthenticated" in entry["file"] or "@wrong_password" in entry["file"]:
            continue
        key = (entry["method"], unquote(entry["path"]))
        body = orjson.loads((folder / entry["file"]).read_bytes())["body"]
        routes[key] = _joined(routes.get(key), body)
    return routes


def load_body_keys(folder: Path) -> dict[tuple[str, str], frozenset[str]]:
    """(method, unquoted path) -> the body keys its recorded requests sent (batch listings)."""
    keys: dict[tuple[str, str], frozenset[str]] = {}
    for entry in orjson.loads((folder / "index.json").read_bytes())["requests"]:
        sent = orjson.loads((folder / entry["file"]).read_bytes())["request"].get("body")
        if isinstance(sent, dict):
            route = (entry["method"], unquote(entry["path"]))
            keys[route] = keys.get(route, frozenset()) | frozenset(sent)
    return keys


def _selects(sent: dict[str, Any], item: dict[str, Any]) -> bool:
    """Whether a batch body's filters hold for an item: `dag_ids` holds its `dag_id`, `<field>_gte` is at or
    before its `<field>` (an item without that time is not selected, as in SQL)."""
    for name, wanted in sent.items():
        if name.endswith("_gte") and wanted is not None:
            value = item.get(name[: -len("_gte")])
            if value is None or utc(value) < utc(wanted):
                return False
        elif name.endswith("s") and isinstance(wanted, list) and wanted and item.get(name[:-1]) not in wanted:
            return False
    return True


def _joined(earlier: Any, body: Any) -> Any:
    if earlier is None or not isinstance(body, dict):
        return body
    key = next(k for k in LISTING_KEYS if isinstance(body.get(k), list))
    return {**earlier, key: earlier[key] + body[key]}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAirflow

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        status, headers, body = self.fake.handle(self.command, self.path, self.headers, self.rfile.read(length))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _serve  # noqa: N815 - the names http.server dispatches to

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(fake: FakeAirflow) -> Iterator[FakeAirflow]:
    with serving(type("Handler", (_Handler,), {"fake": fake})) as url:
        fake.url = url
        yield fake
