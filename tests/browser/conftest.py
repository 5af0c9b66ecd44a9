"""Real-browser tests: the app served by uvicorn in its own process, driven in Chromium.

The server can be stopped and started again on the same port and database, which is how
these tests take the network away (the browser sees connections refused, as in airplane
mode) and bring it back.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.factories import PASSWORD
from tests.live_server import LiveServer

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    context = chromium.new_context(viewport={"width": 360, "height": 740}, service_workers="allow")
    yield context
    context.close()


def sign_in(page: Page, server: LiveServer, email: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/today*")


def wait_until(page: Page, script: str, timeout: float = 15.0) -> None:
    """Poll a page expression, awaiting it if it is a promise, until it is truthy.

    (Playwright's wait_for_function takes a returned promise itself as truthy, so it cannot
    wait for asynchronous answers such as the Cache Storage API's.)
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {script}")
        page.wait_for_timeout(100)


def wait_for_worker(page: Page) -> None:
    """Until the service worker controls the page (it claims clients on activate)."""
    wait_until(
        page, "navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller)"
    )


NO_PAGE_CACHE = "caches.keys().then(names => !names.some(n => n.startsWith('ldn-pages-')))"
