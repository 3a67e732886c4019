"""A small client for Airflow's stable REST API: one session, retries, offset pagination.

- Retries through `bridge.http`'s one retry loop (the DataHub sink's too): exponential backoff with full
  jitter on what `bridge.http.failures` calls transient (408, 425, 429, 5xx, timeouts, dropped or refused
  connections, bodies cut short), honouring `Retry-After` (seconds or an HTTP date); never on other 4xx, a
  TLS failure or a malformed URL.
- A 401 makes the auth method fetch a new token once; a second 401 is an AirflowApiAuthError.
- Listings are read with `limit`/`offset` (GET), or `page_limit`/`page_offset` in the body of a batch `list`
  endpoint (POST), until `total_entries` items came: a short page does not end a listing. Pages overlap by one
  item (each next page is asked from the previous page's last item, one item longer, so no request is added):
  when that item is not there, the listing moved under the cursor (an item left or came before it) and is read
  again from the start, at most `MAX_REREADS` times, then read on with a warning. Each item is given once, by
  its identity (the listing's key fields). A server that ignores the offset (a page that begins with the whole
  page before) is detected instead of looped on.
- No message carries a credential, and what a server says in an error (its JSON `detail`, an HTML error
  page) is shown redacted and shortened (`bridge.http.answer_text` with the client's one `Redactor`).
- The session is hardened by `bridge.http`: `timeout` is also each request's total deadline (a server that
  trickles bytes cannot hold it longer), and redirects to another origin are refused, not followed.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
import requests
import urllib3

from bridge.config import AirflowApiConfig
from bridge.errors import (
    AirflowApiAuthError,
    AirflowApiError,
    AirflowApiNotFoundError,
    AirflowApiUnavailableError,
    ConfigError,
)
from bridge.http import (
    Clock,
    Failure,
    RequestFailedError,
    Retrying,
    RetryPolicy,
    Sleep,
    TokenRequestError,
    answer_failure,
    answer_text,
    hardened_session,
    is_transient_status,
    request_failure,
)
from bridge.read.airflow_api.auth import Auth, make_auth
from bridge.redact import Redactor

BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
RETRY_AFTER_CAP_S = 120.0
MAX_REREADS = 3  # a listing that moved under the cursor is read again from its start at most this often

# The fields that name an item of each listing (the overlap of two pages is checked on them, and each item is
# given once by them); an item without them (an event of a server without ids) is named by all its fields.
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "dags": ("dag_id",),
    "dag_versions": ("dag_id", "version_number"),
    "dag_runs": ("dag_id", "dag_run_id"),
    "task_instances": ("dag_id", "dag_run_id", "task_id", "map_index"),
    "assets": ("uri",),
    "datasets": ("uri",),
    "asset_events": ("id",),
    "dataset_events": ("id",),
    "import_errors": ("import_error_id",),
    "connections": ("connection_id",),
    "variables": ("key",),
}

Identity = Callable[[Any], Hashable]


class InsecureTlsWarning(UserWarning):
    """TLS verification of the Airflow API was turned off by configuration."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing, with the listing's size as the server said it when answering this page."""

    items: list[Any]
    total: int


@dataclass
class ApiClient:
    base_url: str
    config: AirflowApiConfig
    session: requests.Session
    auth: Auth
    retrying: Retrying
    prefix: str = "/api/v2"
    warnings: list[str] = field(default_factory=list)
    redact: Redactor = field(default_factory=Redactor)

    def url(self, path: str) -> str:
        return f"{self.base_url}{self.prefix}{path}"

    def get(self, path: str, params: Mapping[str, object] | None = None) -> Any:
        """The decoded JSON body of `GET <prefix><path>`."""
        return self.request_json("GET", self.url(path), params)

    def post(self, path: str, body: Mapping[str, object]) -> Any:
        """The decoded JSON answer to `POST <prefix><path>` with a JSON body (the read-only batch listings)."""
        return self.request_json("POST", self.url(path), body=body)

    def request_json(
        self,
        method: str,
        url: str,
        params: Mapping[str, object] | None = None,
        body: Mapping[str, object] | None = None,
    ) -> Any:
        response = self._send_with_auth(method, url, params, body)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise AirflowApiError(f"Airflow API {method} {url}: the answer is not valid JSON ({exc}).") from None

    def pages(
        self,
        path: str,
        key: str,
        params: Mapping[str, object] | None = None,
        body: Mapping[str, object] | None = None,
        identity: Identity | None = None,
        whole: bool = True,
    ) -> Iterator[Page]:
        """Every page of a listing (`{key: [...], "total_entries": N}`), `page_size` items at a time: by GET, or
        given a `body`, by POST with the page in the body (the batch `list` endpoints). Each item comes once, by
        `identity` (default: the listing's `KEY_FIELDS`); pages overlap by one item, so an item leaving or
        coming before the cursor is seen, and the listing read again from the start (module docstring).
        `whole=False`: a reader that can miss an item (a look through the newest items first, which new ones
        keep pushing back) reads on instead."""
        identify = identity or (lambda item: item_identity(key, item))
        cursor, seen = _Cursor(), set[Hashable]()
        while cursor.total is None or cursor.offset < cursor.total:
            start, limit = cursor.next_page(self.config.page_size)
            items, cursor.total = _listing(self._page(path, params, body, limit, start), key, self.url(path))
            ids = [identify(item) for item in items]
            if whole and not self._follows(cursor, start, ids, path, body is None):
                continue  # read again from the start
            if start + len(items) <= cursor.offset:
                return  # nothing after what was read: the listing shrank while it was read
            yield Page([item for item, i in zip(items, ids, strict=True) if i not in seen], cursor.total)
            seen.update(ids)
            cursor.advance(start, ids)

    def _follows(self, cursor: _Cursor, start: int, ids: list[Hashable], path: str, by_get: bool) -> bool:
        """Whether a page goes on from the one before (its first item is that page's last); if not, the listing
        moved: False (the cursor is set back to the start), or, re-read `MAX_REREADS` times, True with a warning."""
        if not cursor.previous or (ids and ids[0] == cursor.previous[-1]):
            return True
        what = f"Airflow API {'GET' if by_get else 'POST'} {self.url(path)}"
        if start > cursor.previous_start and ids[: len(cursor.previous)] == cursor.previous:
            raise AirflowApiError(
                f"{what}: offset {start} answered the page of offset {cursor.previous_start} again; the server "
                "ignores `offset`, so the listing cannot be read whole."
            )
        if cursor.rereads < MAX_REREADS:
            cursor.restart()
            return False
        if cursor.rereads == MAX_REREADS:
            cursor.rereads += 1
            self.warnings.append(
                f"{what}: the listing changed between its pages, {MAX_REREADS} times over while it was read again "
                "from its start; it was read on, so an item that moved may be missing. Run the sync again, or raise "
                "airflow_api.page_size so the listing needs fewer pages."
            )
        return True

    def listing(
        self,
        path: str,
        key: str,
        params: Mapping[str, object] | None = None,
        body: Mapping[str, object] | None = None,
        identity: Identity | None = None,
    ) -> list[Any]:
        """A listing read whole, each item once (`pages`)."""
        return [item for page in self.pages(path, key, params, body, identity) for item in page.items]

    def _page(
        self, path: str, params: Mapping[str, object] | None, body: Mapping[str, object] | None, limit: int, offset: int
    ) -> Any:
        if body is None:
            return self.get(path, {**(params or {}), "limit": limit, "offset": offset})
        return self.post(path, {**body, "page_limit": limit, "page_offset": offset})

    def _send_with_auth(
        self, method: str, url: str, params: Mapping[str, object] | None, body: Mapping[str, object] | None
    ) -> requests.Response:
        response = self._send(method, url, params, body)
        if response.status_code == 401 and self.auth.invalidate():
            response = self._send(method, url, params, body)
        if response.status_code in (401, 403):
            raise AirflowApiAuthError(
                f"Airflow API {method} {url}: HTTP {response.status_code} with auth method {self.auth.name!r}"
                f"{' after fetching a new token' if self.auth.name in ('oidc', 'airflow-jwt') else ''}. "
                "Check the credentials and that this user may read DAGs, assets and runs."
            )
        if response.status_code >= 400:
            error = AirflowApiNotFoundError if response.status_code in (404, 405) else AirflowApiError
            text = answer_text(response, self.redact)
            raise error(f"Airflow API {method} {url}: HTTP {response.status_code}" + (f" ({text})" if text else ""))
        return response

    def _send(
        self, method: str, url: str, params: Mapping[str, object] | None, body: Mapping[str, object] | None
    ) -> requests.Response:
        what = f"Airflow API {method} {url}"
        try:
            return self.retrying.run(lambda: self._attempt(method, url, params, body), what, self.redact)
        except RequestFailedError as failed:
            reason = self.redact(failed.failure.reason)
            if failed.gave_up:
                raise AirflowApiUnavailableError(
                    f"{what}: still failing after {failed.attempts} attempt{'s' if failed.attempts > 1 else ''} "
                    f"(last: {reason}). "
                    "Check that the Airflow API server is up, or raise airflow_api.max_retries."
                ) from None
            raise AirflowApiError(f"{what}: {reason}.") from None

    def _attempt(
        self, method: str, url: str, params: Mapping[str, object] | None, body: Mapping[str, object] | None
    ) -> requests.Response | Failure:
        """The answer, or why there was none or it was a transient error (a retry may help, or not): of the
        API, or of the token endpoint the auth asks first."""
        try:
            headers = self.auth.headers()
        except TokenRequestError as exc:  # only transient ones leave the auth (the others are auth errors)
            return exc.failure
        try:
            response = self.session.request(
                method,
                url,
                params={k: str(v) for k, v in (params or {}).items()},
                json=body,
                headers=headers,
                timeout=self.config.timeout,
            )
        except requests.RequestException as exc:
            return request_failure(exc)
        if is_transient_status(response.status_code):
            text = answer_text(response, self.redact)
            return answer_failure(response.status_code, text, response.headers.get("Retry-After"))
        return response


@dataclass(slots=True)
class _Cursor:
    """Where the read of a listing is: the offset of the next new item, the identities of the page before (empty
    at the start) and its offset, the listing's size as last said, and how often it was read again."""

    offset: int = 0
    previous: list[Hashable] = field(default_factory=list)
    previous_start: int = 0
    total: int | None = None
    rereads: int = 0

    def next_page(self, page_size: int) -> tuple[int, int]:
        """The offset and limit of the next page: from the previous page's last item on, one longer."""
        return (self.offset - 1, page_size + 1) if self.previous else (self.offset, page_size)

    def advance(self, start: int, ids: list[Hashable]) -> None:
        self.offset, self.previous, self.previous_start = start + len(ids), ids, start

    def restart(self) -> None:
        self.offset, self.previous, self.previous_start, self.rereads = 0, [], 0, self.rereads + 1


def item_identity(key: str, item: Any) -> Hashable:
    """An item's key fields (`KEY_FIELDS` of its listing), or, without them (an event of a server that gives
    it no id), all its fields."""
    fields = KEY_FIELDS.get(key, ())
    if fields and isinstance(item, Mapping) and all(item.get(name) is not None for name in fields):
        return tuple(_hashable(item[name]) for name in fields)
    return orjson.dumps(item, option=orjson.OPT_SORT_KEYS)


def _hashable(value: Any) -> Hashable:
    return value if isinstance(value, Hashable) else orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def retry_policy(config: AirflowApiConfig) -> RetryPolicy:
    """`max_retries` retries, 0.5 s doubled up to 30 s with full jitter; Retry-After honoured up to 2 minutes."""
    return RetryPolicy(config.max_retries, BACKOFF_BASE_S, BACKOFF_CAP_S, RETRY_AFTER_CAP_S, jitter=True)


def _listing(body: Any, key: str, url: str) -> tuple[list[Any], int]:
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise AirflowApiError(f"Airflow API {url}: expected a listing with {key!r}, got something else.")
    total = body.get("total_entries")
    return body[key], int(total) if isinstance(total, int) else len(body[key])


def open_client(
    config: AirflowApiConfig, sleep: Sleep = time.sleep, clock: Clock = time.monotonic, wall_clock: Clock = time.time
) -> ApiClient:
    """A client for the configured Airflow. `sleep` waits between attempts, `clock` times cached tokens,
    `wall_clock` reads Retry-After dates and JWT expiries (all injected by tests)."""
    if not config.url:
        raise ConfigError("airflow_api.url is not set.")
    session = hardened_session(config.timeout)
    session.verify = _tls_setting(config)
    base_url = config.url.rstrip("/")
    said: list[str] = []
    auth = make_auth(config, session, base_url, clock, said.append, wall_clock)
    retrying = Retrying(retry_policy(config), sleep, wall_clock)
    client = ApiClient(base_url, config, session, auth, retrying, redact=Redactor(config.secrets()))
    client.warnings = said  # the auth's notes (a fallback to basic auth) go to the report with the client's
    if session.verify is False:
        client.warnings.append(f"TLS verification is off for {base_url} (airflow_api.verify_ssl: false).")
    return client


def _tls_setting(config: AirflowApiConfig) -> bool | str:
    if not config.verify_ssl:
        warnings.warn(
            f"TLS certificates of {config.url} are not verified (airflow_api.verify_ssl: false); "
            "set airflow_api.ca_bundle to your CA file instead.",
            InsecureTlsWarning,
            stacklevel=3,
        )
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # said once above, not per request
        return False
    return config.ca_bundle or True


def path_of(*parts: str) -> str:
    """`/dags/<dag_id>/dagRuns/<run_id>` with each id quoted (run ids hold `:` and `+`)."""
    return "".join(f"/{quote(part, safe='')}" for part in parts)
