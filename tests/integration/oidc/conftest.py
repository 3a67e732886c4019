"""The real OpenID Connect provider, started once per test worker. When it cannot be started (no Node.js, not
installed: scripts/ensure-oidc-provider.sh), every test that needs it fails with the reason."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.oidc.provider import ProviderUnavailableError, RunningProvider, running_provider

TOKEN_LIFETIME_S = 2  # short, so that a test sees a token expire (and waits at most this long for it)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[RunningProvider]:
    try:
        with running_provider(token_lifetime_s=TOKEN_LIFETIME_S) as provider:
            yield provider
            return
    except ProviderUnavailableError as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)
