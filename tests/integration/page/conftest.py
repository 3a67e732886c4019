"""Real headless Chromium (Debian's package; `scripts/ensure-chromium.sh` installs it) driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

SCREENSHOTS = REPO / ".cache" / "screenshots"
# Chromium's own background traffic (updates, safe browsing, sync) is off, so every request is the page's.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--no-first-run", "--disable-quic"]  # fmt: skip


def chromium_path() -> str:
    found = os.environ.get("BRIDGE_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("no chromium on PATH: run scripts/ensure-chromium.sh (make test runs it) or set BRIDGE_CHROMIUM")
    return found


@pytest.fixture
def browser() -> Iterator[Any]:
    """A browser per test: Playwright's sync API keeps an event loop running in this thread while it is open,
    which other tests of the same worker (DataHub's pipeline runs asyncio) must not meet."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class OpenedPage:
    """A page opened from a file, with what it asked of the network and what it logged as errors."""

    page: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def evaluate(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    contexts = []

    def opener(path: Path) -> OpenedPage:
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        opened = OpenedPage(page)
        page.on("request", lambda request: opened.requests.append(request.url))
        page.on("console", lambda message: opened.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: opened.errors.append(f"uncaught: {error}"))
        page.goto(path.as_uri())
        page.wait_for_function("() => window.bridgePage !== undefined")
        return opened

    yield opener
    for context in contexts:
        context.close()
