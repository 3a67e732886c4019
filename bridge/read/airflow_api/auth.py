"""How the REST client proves who it is: nothing, basic auth, a static bearer token, Airflow 3's own JWT
(`POST /auth/token`), or OIDC client credentials (Keycloak or any token endpoint).

Tokens are cached and fetched again shortly before they expire (`expires_in`, or the JWT's own `exp`), and
once more when the API answers 401. Secrets live in `SecretStr` until the moment a request needs them and
never enter a message: errors name the method and the URL only.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import orjson
import requests

from bridge.config import AirflowApiConfig
from bridge.errors import AirflowApiAuthError, ConfigError
from bridge.http import request_failure

Clock = Callable[[], float]
# A token is fetched again when less than this is left of its life (covers clock skew and slow requests).
REFRESH_MARGIN_S = 30.0
# When the token endpoint says nothing about expiry, a token is trusted for this long.
DEFAULT_TOKEN_LIFE_S = 300.0
KEYCLOAK_TOKEN_PATH = "/protocol/openid-connect/token"


class Auth(Protocol):
    """What the client asks of an authentication method."""

    name: str

    def headers(self) -> dict[str, str]: ...

    def invalidate(self) -> bool:
        """Forget a cached credential after a 401; False when there is nothing to fetch again."""
        ...


@dataclass
class NoAuth:
    name: str = "none"

    def headers(self) -> dict[str, str]:
        return {}

    def invalidate(self) -> bool:
        return False


@dataclass
class StaticAuth:
    """Basic auth or a static bearer token: one fixed header."""

    name: str
    header: str = field(repr=False)

    def headers(self) -> dict[str, str]:
        return {"Authorization": self.header}

    def invalidate(self) -> bool:
        return False


@dataclass
class CachedToken:
    value: str = field(repr=False)
    expires_at: float
    refresh_at: float  # `REFRESH_MARGIN_S` (or a tenth of a short life) before `expires_at`


@dataclass
class TokenAuth:
    """A bearer token fetched by `fetch` (Airflow JWT or OIDC), cached until shortly before it expires."""

    name: str
    url: str
    fetch: Callable[[], tuple[str, float | None]] = field(repr=False)
    clock: Clock = time.monotonic
    token: CachedToken | None = field(default=None, repr=False)
    fetches: int = 0

    def headers(self) -> dict[str, str]:
        if self.token is None or self.clock() >= self.token.refresh_at:
            value, lifetime = self.fetch()
            self.fetches += 1
            life = lifetime or DEFAULT_TOKEN_LIFE_S
            now = self.clock()
            self.token = CachedToken(value, now + life, now + life - min(REFRESH_MARGIN_S, life / 10))
        return {"Authorization": f"Bearer {self.token.value}"}

    def invalidate(self) -> bool:
        self.token = None
        return True


@dataclass
class FallbackAuth:
    """OIDC first; when its token endpoint fails, basic auth from then on (the original connector's fallback,
    on only with `airflow_api.oidc_basic_auth_fallback`). `said` receives one line saying it happened."""

    token: TokenAuth
    basic: StaticAuth
    said: Callable[[str], None]
    name: str = "oidc"
    fell_back: bool = False

    def headers(self) -> dict[str, str]:
        if not self.fell_back:
            try:
                return self.token.headers()
            except AirflowApiAuthError as exc:
                self.fell_back, self.name = True, "basic"
                self.said(f"{exc} Basic auth is used instead (airflow_api.oidc_basic_auth_fallback).")
        return self.basic.headers()

    def invalidate(self) -> bool:
        return False if self.fell_back else self.token.invalidate()


def make_auth(
    config: AirflowApiConfig,
    session: requests.Session,
    base_url: str,
    clock: Clock = time.monotonic,
    said: Callable[[str], None] = lambda line: None,
) -> Auth:
    """The authentication method the configuration asks for; ConfigError when a setting it needs is missing.
    `said` receives what the report should know (a fallback to basic auth)."""
    method = config.auth
    if method == "none":
        return NoAuth()
    if method == "basic":
        username, password = _required(config.username, "username", method), _secret(config.password, "password")
        encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
        return StaticAuth("basic", f"Basic {encoded}")
    if method == "bearer":
        return StaticAuth("bearer", f"Bearer {_secret(config.token, 'token')}")
    if method == "airflow-jwt":
        url = f"{base_url}/auth/token"
        return TokenAuth("airflow-jwt", url, lambda: _airflow_jwt(session, url, config), clock)
    url = oidc_token_endpoint(_required(config.oidc_token_url, "oidc_token_url", method))
    oidc = TokenAuth("oidc", url, lambda: _client_credentials(session, url, config), clock)
    if not config.oidc_basic_auth_fallback:
        return oidc
    username, password = _required(config.username, "username", "basic"), _secret(config.password, "password")
    basic = StaticAuth("basic", "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode())
    return FallbackAuth(oidc, basic, said)


def oidc_token_endpoint(url: str) -> str:
    """A Keycloak realm URL (`.../realms/<realm>`) becomes its token endpoint; any other URL is used as is."""
    url = url.rstrip("/")
    return url + KEYCLOAK_TOKEN_PATH if url.rsplit("/", 2)[-2:-1] == ["realms"] else url


def _airflow_jwt(session: requests.Session, url: str, config: AirflowApiConfig) -> tuple[str, float | None]:
    body = {"username": _required(config.username, "username", "airflow-jwt")}
    body["password"] = _secret(config.password, "password")
    payload = _token_request(session, "airflow-jwt", url, json=body, timeout=config.timeout)
    token = _token_field(payload, "airflow-jwt", url)
    return token, _seconds_left(payload.get("expires_in")) or jwt_lifetime(token)


def _client_credentials(session: requests.Session, url: str, config: AirflowApiConfig) -> tuple[str, float | None]:
    form = {
        "grant_type": "client_credentials",
        "client_id": _required(config.oidc_client_id, "oidc_client_id", "oidc"),
        "client_secret": _secret(config.oidc_client_secret, "oidc_client_secret"),
    }
    if config.oidc_scope:
        form["scope"] = config.oidc_scope
    payload = _token_request(session, "oidc", url, data=form, timeout=config.timeout)
    return _token_field(payload, "oidc", url), _seconds_left(payload.get("expires_in"))


def _token_request(session: requests.Session, method: str, url: str, **kwargs: object) -> dict[str, object]:
    try:
        response = session.post(url, **kwargs)  # type: ignore[arg-type]
    except requests.RequestException as exc:
        problem = request_failure(exc).reason
        message = f"Airflow API auth {method}: token endpoint {url} did not answer ({problem})."
        raise AirflowApiAuthError(message) from None
    if response.status_code >= 400:
        raise AirflowApiAuthError(
            f"Airflow API auth {method}: token endpoint {url} refused the request (HTTP {response.status_code}). "
            "Check the client id/username and secret/password configured for it."
        )
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        payload = None
    if not isinstance(payload, dict):
        raise AirflowApiAuthError(f"Airflow API auth {method}: token endpoint {url} did not answer with a JSON object.")
    return payload


def _token_field(payload: dict[str, object], method: str, url: str) -> str:
    token = payload.get("access_token")
    if not isinstance(token, str) or not token:
        raise AirflowApiAuthError(f"Airflow API auth {method}: token endpoint {url} answered without an access_token.")
    return token


def _seconds_left(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and value > 0 else None


def jwt_lifetime(token: str, now: float | None = None) -> float | None:
    """Seconds until a JWT's `exp` (unverified: only to know when to fetch a new one)."""
    try:
        body = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        left = float(claims["exp"]) - (time.time() if now is None else now)
    except (IndexError, KeyError, TypeError, ValueError, orjson.JSONDecodeError):
        return None
    return left if left > 0 else None


def _required(value: str | None, setting: str, method: str) -> str:
    if not value:
        raise ConfigError(f"airflow_api.auth is {method!r} but airflow_api.{setting} is not set.")
    return value


def _secret(value: object, setting: str) -> str:
    secret = value.get_secret_value() if value is not None and hasattr(value, "get_secret_value") else None
    if not secret:
        raise ConfigError(f"airflow_api.{setting} is not set, and the chosen airflow_api.auth needs it.")
    return str(secret)
