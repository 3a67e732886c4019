"""Bearer tokens for every HTTP client of the bridge: fetched from a token endpoint, cached on an injected clock,
fetched again shortly before they expire, and at once when a server refuses the cached one.

- `ClientCredentials`: the OIDC client-credentials grant (RFC 6749 4.4) of the `oidc` settings. The client
  proves who it is with `client_secret_post` (id and secret as form fields, the default) or
  `client_secret_basic` (HTTP Basic of the form-encoded id and secret, RFC 6749 2.3.1). A Keycloak realm URL
  (`.../realms/<realm>`) stands for its token endpoint.
- `request_token`: one POST to a token endpoint (the OIDC grant, or Airflow 3's `/auth/token`) -> `Token`;
  whatever goes wrong is a `TokenRequestError` whose `failure` says whether a retry can help. Nothing of the
  request (secret, form, header) is in it: each client words it with the names of its own settings.
- `TokenCache`: one token at a time, thread-safe. Its life is the endpoint's `expires_in`, else the JWT's own
  `exp`, else `DEFAULT_TOKEN_LIFE_S`; it is fetched again `REFRESH_MARGIN_S` before it ends (at most half
  its life, so short-lived tokens are not fetched for every request).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote_plus

import orjson
import requests

from bridge.config import OidcSettings
from bridge.http.failures import Failure, answer_failure, request_failure
from bridge.http.retry import Clock
from bridge.redact import basic_auth_value

REFRESH_MARGIN_S = 60.0
DEFAULT_TOKEN_LIFE_S = 300.0
KEYCLOAK_TOKEN_PATH = "/protocol/openid-connect/token"
TokenProblem = Literal["no-answer", "refused", "not-json", "no-token"]


@dataclass(frozen=True, slots=True)
class Token:
    value: str = field(repr=False)
    lifetime_s: float | None = None  # what the endpoint said (`expires_in`); None: it did not say


class TokenRequestError(Exception):
    """A token endpoint gave no token. `problem`: no answer, refused (an HTTP error status), an answer that is
    not a JSON object, or one without an access token; `failure`: why, and whether a retry may help."""

    def __init__(self, url: str, problem: TokenProblem, failure: Failure) -> None:
        super().__init__(f"token endpoint {url}: {failure.reason}")
        self.url = url
        self.problem = problem
        self.failure = failure

    @property
    def status(self) -> int | None:
        return self.failure.status

    def what_happened(self) -> str:
        """What the endpoint did, for a message that names it first (`token endpoint URL <this>`)."""
        if self.problem == "no-answer":
            return f"did not answer ({self.failure.reason})"
        if self.problem == "refused" and self.failure.transient:
            return f"is unavailable (HTTP {self.status}); try again later"
        if self.problem == "refused":
            return f"refused the request (HTTP {self.status})"
        if self.problem == "not-json":
            return "did not answer with a JSON object"
        return "answered without an access_token"

    @property
    def refused(self) -> bool:
        """The endpoint turned the client away for good: its settings are what to check."""
        return self.problem == "refused" and not self.failure.transient

    @property
    def transient(self) -> bool:
        return self.failure.transient


def token_endpoint(url: str) -> str:
    """A Keycloak realm URL (`.../realms/<realm>`) becomes its token endpoint; any other URL is used as is."""
    url = url.rstrip("/")
    return url + KEYCLOAK_TOKEN_PATH if url.rsplit("/", 2)[-2:-1] == ["realms"] else url


def request_token(session: requests.Session, url: str, timeout: float, **request: object) -> Token:
    """POST `request` (form `data=` or `json=`, `headers=`) to a token endpoint; its access token and life."""
    try:
        response = session.post(url, timeout=timeout, **request)  # type: ignore[arg-type]
    except requests.RequestException as exc:
        raise TokenRequestError(url, "no-answer", request_failure(exc)) from None
    if response.status_code >= 400:
        raise TokenRequestError(url, "refused", answer_failure(response.status_code))
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        payload = None
    if not isinstance(payload, dict):
        raise TokenRequestError(url, "not-json", Failure("the answer is not a JSON object", transient=False))
    token = payload.get("access_token")
    if not isinstance(token, str) or not token:
        raise TokenRequestError(url, "no-token", Failure("the answer has no access_token", transient=False))
    return Token(token, positive_seconds(payload.get("expires_in")))


@dataclass(frozen=True)
class ClientCredentials:
    """The client-credentials grant at `url`, authenticated by `auth_method` (see the module docstring)."""

    url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None
    auth_method: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post"
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, oidc: OidcSettings, timeout: float) -> ClientCredentials:
        """The grant of complete `oidc` settings (callers check completeness first, naming their settings)."""
        assert oidc.token_url and oidc.client_id and oidc.client_secret, "checked by the caller"
        return cls(token_endpoint(oidc.token_url), oidc.client_id, oidc.client_secret.get_secret_value(),
                   oidc.scope, oidc.auth_method, timeout)  # fmt: skip

    def fetch(self, session: requests.Session) -> Token:
        form = {"grant_type": "client_credentials"} | ({"scope": self.scope} if self.scope else {})
        if self.auth_method == "client_secret_basic":
            pair = basic_auth_value(quote_plus(self.client_id), quote_plus(self.client_secret))
            return request_token(session, self.url, self.timeout, data=form, headers={"Authorization": f"Basic {pair}"})
        form |= {"client_id": self.client_id, "client_secret": self.client_secret}
        return request_token(session, self.url, self.timeout, data=form)


class TokenCache:
    """The current token of `fetch`, fetched again when its refresh time on `clock` has come or after
    `invalidate` (a server refused it). `wall_clock` reads a JWT's `exp`. One fetch at a time."""

    def __init__(
        self,
        fetch: Callable[[], Token],
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        margin_s: float = REFRESH_MARGIN_S,
        default_life_s: float = DEFAULT_TOKEN_LIFE_S,
    ) -> None:
        self.fetch, self.clock, self.wall_clock = fetch, clock, wall_clock
        self.margin_s, self.default_life_s = margin_s, default_life_s
        self.fetches = 0
        self._value: str | None = None
        self._refresh_at = 0.0
        self._lock = threading.Lock()

    def value(self) -> str:
        with self._lock:
            if self._value is None or self.clock() >= self._refresh_at:
                requested_at = self.clock()  # a life counted from the request errs on the early side
                token = self.fetch()
                self.fetches += 1
                life = token.lifetime_s or jwt_lifetime(token.value, self.wall_clock()) or self.default_life_s
                self._value, self._refresh_at = token.value, requested_at + life - min(self.margin_s, life / 2)
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None


def positive_seconds(value: object) -> float | None:
    """`expires_in` as seconds (a number, or a number written as text, as some endpoints send it)."""
    try:
        seconds = float(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else 0.0
    except ValueError:
        return None
    return seconds if 0 < seconds < float("inf") else None


def jwt_lifetime(token: str, now: float) -> float | None:
    """Seconds from `now` (epoch) until a JWT's `exp`; unverified: only to know when to fetch a new one."""
    try:
        body = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        left = float(claims["exp"]) - now
    except (IndexError, KeyError, TypeError, ValueError, orjson.JSONDecodeError):
        return None
    return left if left > 0 else None
