"""A small client for Airflow's stable REST API: one session, retries, offset pagination.

- Retries with exponential backoff and full jitter on 429, 5xx, timeouts and dropped connections,
  honouring `Retry-After` (seconds or an HTTP date); never on other 4xx.
- A 401 makes the auth method fetch a new token once; a second 401 is an AirflowApiAuthError.
- Listings are read with `limit`/`offset` until `total_entries` items came: a short page does not end a
  listing, and a server that ignores `offset` (the same page again) is detected instead of looped on.
- Every request is counted; no message carries a credential, and what a server says in an error (its JSON
  `detail`, an HTML error page) is shown redacted and shortened (`bridge.redact.server_text`).
- The session is hardened by `bridge.http`: `timeout` is also each request's total deadline (a server that
  trickles bytes cannot hold it longer), and redirects to another origin are refused, not followed.
"""

from __future__ import annotations

import logging
import random
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
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
from bridge.http import hardened_session, request_failure
from bridge.read.airflow_api.auth import Auth, make_auth
from bridge.redact import Redactor, server_text

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
Sleep = Callable[[float], None]


class InsecureTlsWarning(UserWarning):
    """TLS verification of the Airflow API was turned off by configuration."""


@dataclass
class ApiClient:
    base_url: str
    config: AirflowApiConfig
    session: requests.Session
    auth: Auth
    sleep: Sleep = time.sleep
    prefix: str = "/api/v2"
    requests_made: int = 0
    retries_made: int = 0
    warnings: list[str] = field(default_factory=list)
    redact: Redactor = field(default_factory=Redactor)

    def url(self, path: str) -> str:
        return f"{self.base_url}{self.prefix}{path}"

    def get(self, path: str, params: Mapping[str, object] | None = None) -> Any:
        """The decoded JSON body of `GET <prefix><path>`."""
        return self.request_json("GET", self.url(path), params)

    def request_json(self, method: str, url: str, params: Mapping[str, object] | None = None) -> Any:
        response = self._send_with_auth(method, url, params)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise AirflowApiError(f"Airflow API {method} {url}: the answer is not valid JSON ({exc}).") from None

    def pages(self, path: str, key: str, params: Mapping[str, object] | None = None) -> Iterator[list[Any]]:
        """Every page of a listing (`{key: [...], "total_entries": N}`), `page_size` items at a time."""
        limit, offset, total = self.config.page_size, 0, None
        previous_first: object = None
        while total is None or offset < total:
            body = self.get(path, {**(params or {}), "limit": limit, "offset": offset})
            items, total = _listing(body, key, self.url(path))
            if not items:
                return  # the listing shrank while we read it
            if offset and items[0] == previous_first:
                raise AirflowApiError(
                    f"Airflow API {self.url(path)}: offset {offset} answered the same page as offset "
                    f"{offset - len(items)}; the server ignores `offset`, so the listing cannot be read whole."
                )
            previous_first = items[0]
            yield items
            offset += len(items)

    def listing(self, path: str, key: str, params: Mapping[str, object] | None = None) -> list[Any]:
        return [item for page in self.pages(path, key, params) for item in page]

    def _send_with_auth(self, method: str, url: str, params: Mapping[str, object] | None) -> requests.Response:
        response = self._send(method, url, params)
        if response.status_code == 401 and self.auth.invalidate():
            response = self._send(method, url, params)
        if response.status_code in (401, 403):
            raise AirflowApiAuthError(
                f"Airflow API {method} {url}: HTTP {response.status_code} with auth method {self.auth.name!r}"
                f"{' after fetching a new token' if self.auth.name in ('oidc', 'airflow-jwt') else ''}. "
                "Check the credentials and that this user may read DAGs, assets and runs."
            )
        if response.status_code >= 400:
            error = AirflowApiNotFoundError if response.status_code in (404, 405) else AirflowApiError
            raise error(f"Airflow API {method} {url}: HTTP {response.status_code} {_detail(response, self.redact)}")
        return response

    def _send(self, method: str, url: str, params: Mapping[str, object] | None) -> requests.Response:
        attempts = self.config.max_retries + 1
        for attempt in range(1, attempts + 1):
            self.requests_made += 1
            outcome = self._attempt(method, url, params)
            if isinstance(outcome, requests.Response) and outcome.status_code not in RETRY_STATUSES:
                return outcome
            if attempt == attempts:
                what = f"HTTP {outcome.status_code}" if isinstance(outcome, requests.Response) else outcome
                raise AirflowApiUnavailableError(
                    f"Airflow API {method} {url}: still failing after {attempts} attempts (last: {what}). "
                    "Check that the Airflow API server is up, or raise airflow_api.max_retries."
                )
            self.retries_made += 1
            self.sleep(backoff_delay(attempt, outcome if isinstance(outcome, requests.Response) else None))
        raise AssertionError("unreachable")

    def _attempt(self, method: str, url: str, params: Mapping[str, object] | None) -> requests.Response | str:
        """The answer, or why there was none when a retry may help; an AirflowApiError when it cannot."""
        try:
            return self.session.request(
                method,
                url,
                params={k: str(v) for k, v in (params or {}).items()},
                headers=self.auth.headers(),
                timeout=self.config.timeout,
            )
        except requests.RequestException as exc:
            failure = request_failure(exc)
            if not failure.transient:
                raise AirflowApiError(f"Airflow API {method} {url}: {self.redact(failure.reason)}.") from None
            log.info("Airflow API %s %s: %s, retrying", method, url, failure.reason)
            return failure.reason


def backoff_delay(attempt: int, response: requests.Response | None, rng: random.Random | None = None) -> float:
    """`Retry-After` when the server gave one, else exponential backoff with full jitter."""
    after = retry_after(response.headers.get("Retry-After")) if response is not None else None
    if after is not None:
        return min(after, BACKOFF_CAP_S * 4)
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
    return (rng or random).uniform(0, ceiling)


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _listing(body: Any, key: str, url: str) -> tuple[list[Any], int]:
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise AirflowApiError(f"Airflow API {url}: expected a listing with {key!r}, got something else.")
    total = body.get("total_entries")
    return body[key], int(total) if isinstance(total, int) else len(body[key])


def _detail(response: requests.Response, redact: Redactor) -> str:
    """What the server said about an error: its JSON `detail`/`title`, or the text of its page, redacted."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        text = server_text(response.content, redact)
        return f"({text})" if text else ""
    detail = body.get("detail") or body.get("title") if isinstance(body, dict) else None
    return f"({server_text(str(detail), redact)})" if detail else ""


def open_client(config: AirflowApiConfig, sleep: Sleep = time.sleep) -> ApiClient:
    """A client for the configured Airflow, with the API version chosen from what the server answers."""
    if not config.url:
        raise ConfigError("airflow_api.url is not set.")
    session = hardened_session(config.timeout)
    session.verify = _tls_setting(config)
    base_url = config.url.rstrip("/")
    said: list[str] = []
    auth = make_auth(config, session, base_url, said=said.append)
    client = ApiClient(base_url, config, session, auth, sleep, redact=Redactor(config.secrets()))
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
