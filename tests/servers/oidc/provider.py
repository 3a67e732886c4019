"""The real OpenID Connect provider (npm's `oidc-provider`, OpenID Certified) as a subprocess on 127.0.0.1:
`running_provider` starts `provider.mjs` with two client-credentials clients, one allowed only
`client_secret_basic` and one only `client_secret_post`, whose JWT access tokens live `token_lifetime_s`
seconds; it waits until the provider answers its discovery document and stops it afterwards.

`JwksCheck` is what the local Airflow and GMS fakes are told to accept: a bearer token is valid when its RS256
signature verifies against the provider's own `/jwks`, and its issuer, audience and expiry are right (PyJWT).

The provider is installed by scripts/ensure-oidc-provider.sh (`make test` runs it); without it, or without
Node.js, `ProviderUnavailableError` says what is missing, so the tests that need it fail instead of skipping.
"""

from __future__ import annotations

import json
import secrets
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

import jwt
import requests

REPO = Path(__file__).resolve().parents[3]
MODULES = REPO / ".cache" / "oidc-provider" / "node_modules"
SCRIPT = Path(__file__).with_name("provider.mjs")
AUDIENCE = "urn:dbt-lineage-bridge:tests"
SCOPE = "metadata"
START_TIMEOUT_S = 20.0
AuthMethod = Literal["client_secret_basic", "client_secret_post"]


class ProviderUnavailableError(RuntimeError):
    """The provider could not be started or does not answer."""


@dataclass(frozen=True)
class OidcClient:
    client_id: str
    client_secret: str = field(repr=False)
    auth_method: AuthMethod


@dataclass
class JwksCheck:
    """Accepts a bearer token the provider signed for `audience` that has not expired; remembers each
    token it accepted and refused, in order."""

    issuer: str
    audience: str = AUDIENCE
    accepted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.keys = jwt.PyJWKClient(f"{self.issuer}/jwks", cache_keys=True)

    def __call__(self, token: str) -> bool:
        try:
            key = self.keys.get_signing_key_from_jwt(token)
            jwt.decode(token, key.key, algorithms=["RS256"], audience=self.audience, issuer=self.issuer,
                       options={"require": ["exp", "iat", "iss", "aud"]})  # fmt: skip
        except jwt.PyJWTError:
            self.refused.append(token)
            return False
        self.accepted.append(token)
        return True


@dataclass
class RunningProvider:
    issuer: str
    clients: dict[AuthMethod, OidcClient]
    token_lifetime_s: int

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/token"

    def settings(self, method: AuthMethod, **more: object) -> dict[str, object]:
        """The bridge's `oidc` settings for the client registered for `method`."""
        client = self.clients[method]
        return {"token_url": self.token_url, "client_id": client.client_id, "client_secret": client.client_secret,
                "auth_method": method, **more}  # fmt: skip

    def jwks_check(self) -> JwksCheck:
        return JwksCheck(self.issuer)


def make_clients() -> dict[AuthMethod, OidcClient]:
    """Two clients with fresh secrets holding the characters `client_secret_basic` must form-encode."""
    methods: tuple[AuthMethod, ...] = ("client_secret_basic", "client_secret_post")
    return {m: OidcClient(f"bridge-{m[14:]}", f"{secrets.token_urlsafe(12)}:+/ %{m[14:]}", m) for m in methods}


@contextmanager
def running_provider(token_lifetime_s: int = 2) -> Iterator[RunningProvider]:
    node = shutil.which("node")
    if node is None:
        raise ProviderUnavailableError("no `node` on PATH: install Node.js 20 or later for the OIDC tests")
    if not (MODULES / "oidc-provider" / "package.json").is_file():
        raise ProviderUnavailableError(f"oidc-provider is not installed in {MODULES.parent}: run "
                                       "scripts/ensure-oidc-provider.sh (make test does)")  # fmt: skip
    clients = make_clients()
    settings = {
        "modules": str(MODULES),
        "clients": [
            {"client_id": c.client_id, "client_secret": c.client_secret, "token_endpoint_auth_method": c.auth_method}
            for c in clients.values()
        ],
        "audience": AUDIENCE,
        "scope": SCOPE,
        "token_lifetime_s": token_lifetime_s,
    }
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen([node, str(SCRIPT), json.dumps(settings)], stdout=subprocess.PIPE,
                                   stderr=stderr, text=True)  # fmt: skip
        try:
            issuer = _wait_until_answering(process, stderr)
            yield RunningProvider(issuer, clients, token_lifetime_s)
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _wait_until_answering(process: subprocess.Popen[str], stderr: IO[str]) -> str:
    """The issuer the provider printed, once its discovery document answers; ProviderUnavailableError else."""
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout=START_TIMEOUT_S)
    line = process.stdout.readline() if ready else ""
    if not line:
        _stop(process)
        stderr.seek(0)
        said = stderr.read().strip()[-2000:] or f"exit code {process.returncode}"
        raise ProviderUnavailableError(f"the OIDC provider did not start within {START_TIMEOUT_S:g} s: {said}")
    issuer = str(json.loads(line)["issuer"])
    while time.monotonic() < deadline:
        try:
            answer = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2)
            if answer.ok and answer.json().get("token_endpoint") == f"{issuer}/token":
                return issuer
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise ProviderUnavailableError(f"the OIDC provider at {issuer} does not answer its discovery document")
