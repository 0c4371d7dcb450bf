"""Fixtures for the web chat: the real server on an ephemeral port, real Redis, real Chromium.

The browser is Debian's `chromium` driven by Playwright for Python (`executable_path`;
nothing is downloaded). When Playwright or Chromium is missing, each browser test fails
with one line saying what to install - it never skips.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, CookieJar

from bot.runtime import Runtime
from bot.web.app import WebConfig
from bot.web.limits import RateLimit
from bot.web.server import RunningWeb, running_web
from tests.bot import test_end_to_end

SCREENSHOTS = Path(__file__).resolve().parents[3] / ".data" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]
INSTALL_HINT = ("apt-get install -y chromium fonts-wqy-microhei fonts-noto-color-emoji && "
                ".venv/bin/pip install -e '.[dev]' (or run tests/run.sh)")


def chromium_path() -> str | None:
    """CHROMIUM_PATH, else Debian's /usr/bin/chromium, else `chromium` on PATH."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


dialog, runtime = test_end_to_end.dialog, test_end_to_end.runtime  # the real core's fixtures


@pytest.fixture
def web_config() -> WebConfig:
    """The server's settings; a test may override this fixture (e.g. a tighter rate)."""
    return WebConfig(session_key="test-session-key", rate=RateLimit(limit=30, window_ms=10_000))


@pytest.fixture
async def web(runtime: Runtime, web_config: WebConfig) -> AsyncIterator[RunningWeb]:
    async with running_web("127.0.0.1", 0, web_config, runtime=runtime) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    """A client that keeps cookies like a browser (unsafe=True: the server is an IP address)."""
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as session:
        yield session


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the whole session; each test opens its own contexts."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail(f"web browser tests need Playwright for Python: {INSTALL_HINT}", pytrace=False)
    path = chromium_path()
    if path is None:
        looked = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium or chromium on PATH"
        pytest.fail(f"web browser tests need Debian's chromium (looked for {looked}): {INSTALL_HINT}",
                    pytrace=False)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
