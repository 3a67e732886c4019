"""How the REST client proves who it is: nothing, basic auth, a static bearer token, Airflow 3's own JWT
(`POST /auth/token`), or OIDC client credentials (the `oidc` settings: Keycloak or any token endpoint,
`client_secret_post` or `client_secret_basic`).

Tokens come from `bridge.http`'s token cache, the same as the DataHub sink's: fetched again shortly before
they expire (`expires_in`, or the JWT's own `exp`), and once more when the API answers 401. Secrets live in
`SecretStr` until the moment a request needs them and never enter a message: errors name the method and the
URL only.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import requests

from bridge.config import AirflowApiConfig, OidcSettings
from bridge.errors import AirflowApiAuthError, ConfigError
from bridge.http import ClientCredentials, Clock, Token, TokenCache, TokenRequestError, request_token


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
class TokenAuth:
    """A bearer token from `tokens` (Airflow JWT or OIDC); a token endpoint's failure is an AirflowApiAuthError."""

    name: str
    url: str
    tokens: TokenCache = field(repr=False)

    def headers(self) -> dict[str, str]:
        """The bearer header. A token endpoint that failed for good is an AirflowApiAuthError; one that may
        answer on a retry (no answer, 429, 5xx) raises its TokenRequestError for the client's retry loop."""
        try:
            return {"Authorization": f"Bearer {self.tokens.value()}"}
        except TokenRequestError as exc:
            if exc.failure.transient:
                raise
            raise AirflowApiAuthError(token_error_message(self.name, exc)) from None

    def invalidate(self) -> bool:
        self.tokens.invalidate()
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
    wall_clock: Clock = time.time,
) -> Auth:
    """The authentication method the configuration asks for; ConfigError when a setting it needs is missing.
    `said` receives what the report should know (a fallback to basic auth); `clock` times cached tokens."""
    method = config.auth
    if method == "none":
        return NoAuth()
    if method == "basic":
        return basic_auth(config)
    if method == "bearer":
        return StaticAuth("bearer", f"Bearer {_secret(config.token, 'token')}")
    if method == "airflow-jwt":
        url = f"{base_url}/auth/token"
        return TokenAuth("airflow-jwt", url, TokenCache(lambda: _airflow_jwt(session, url, config), clock, wall_clock))
    oidc = TokenAuth("oidc", *_client_credentials(config, session, clock, wall_clock))
    return FallbackAuth(oidc, basic_auth(config), said) if config.oidc_basic_auth_fallback else oidc


def basic_auth(config: AirflowApiConfig) -> StaticAuth:
    username, password = _required(config.username, "username", "basic"), _secret(config.password, "password")
    return StaticAuth("basic", "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode())


def _client_credentials(
    config: AirflowApiConfig, session: requests.Session, clock: Clock, wall_clock: Clock
) -> tuple[str, TokenCache]:
    oidc = config.oidc
    missing = (oidc or OidcSettings()).missing()
    if missing:
        names = ", ".join(f"airflow_api.oidc.{name}" for name in missing)
        raise ConfigError(f"airflow_api.auth is 'oidc' but {names} not set (or the flat airflow_api.oidc_* keys).")
    assert oidc is not None
    grant = ClientCredentials.from_settings(oidc, config.timeout)
    return grant.url, TokenCache(lambda: grant.fetch(session), clock, wall_clock)


def _airflow_jwt(session: requests.Session, url: str, config: AirflowApiConfig) -> Token:
    body = {"username": _required(config.username, "username", "airflow-jwt")}
    body["password"] = _secret(config.password, "password")
    return request_token(session, url, config.timeout, json=body)


def token_error_message(method: str, exc: TokenRequestError) -> str:
    """What a failed token request says, in the Airflow API's terms (its settings, never a secret)."""
    said = f"Airflow API auth {method}: token endpoint {exc.url} {exc.what_happened()}."
    if exc.refused:
        said += " Check the client id/username and secret/password configured for it."
    return said


def _required(value: str | None, setting: str, method: str) -> str:
    if not value:
        raise ConfigError(f"airflow_api.auth is {method!r} but airflow_api.{setting} is not set.")
    return value


def _secret(value: object, setting: str) -> str:
    secret = value.get_secret_value() if value is not None and hasattr(value, "get_secret_value") else None
    if not secret:
        raise ConfigError(f"airflow_api.{setting} is not set, and the chosen airflow_api.auth needs it.")
    return str(secret)
