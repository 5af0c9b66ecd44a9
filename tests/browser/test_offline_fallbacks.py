"""SPEC §7 when the network is worse than gone: it hangs, or the session ended elsewhere.

A server that accepts connections and never answers stands in for a network that hangs (a
captive portal, one bar of signal); the app's own server stopped stands in for one that
refuses (airplane mode).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import (
    NO_PAGE_CACHE,
    LiveServer,
    sign_in,
    wait_for_worker,
    wait_until,
)

pytestmark = pytest.mark.browser


@contextmanager
def hanging_network(port: int) -> Iterator[None]:
    """Accept every connection on `port` and never answer, until the block ends."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()


def _signed_in_with_worker(context: BrowserContext, server: LiveServer, email: str) -> Page:
    server.register(email)
    page = context.new_page()
    sign_in(page, server, email)
    wait_for_worker(page)
    page.goto(f"{server.url}/today")
    page.goto(f"{server.url}/history")
    return page


def test_a_hanging_network_gives_the_kept_page_or_the_offline_page_within_seconds(
    context: BrowserContext, live_server: LiveServer
) -> None:
    page = _signed_in_with_worker(context, live_server, "hang@example.org")
    live_server.stop()
    with hanging_network(live_server.port):
        for path, heading in (
            ("/today", "Today"),
            ("/never-opened-before", "You are offline"),
            ("/report", "You are offline"),
        ):
            started = time.monotonic()
            page.goto(f"{live_server.url}{path}", timeout=25_000)
            expect(page.locator("h1")).to_contain_text(heading)
            # A few seconds (the page's own), not the browser's minutes; the report may
            # take longer to make, so it waits longer.
            assert time.monotonic() - started < (25 if path == "/report" else 10), path


@pytest.mark.parametrize("path", ["/report", "/settings", "/settings/export"])
def test_pages_never_cached_open_offline_as_the_apps_offline_page(
    context: BrowserContext, live_server: LiveServer, path: str
) -> None:
    page = _signed_in_with_worker(context, live_server, f"never{path.count('/')}@example.org")
    page.goto(f"{live_server.url}{path}")  # seen online: still not kept
    live_server.stop()
    page.goto(f"{live_server.url}{path}")
    expect(page.locator("h1")).to_have_text("You are offline")


def test_a_sync_that_finds_the_session_ended_clears_the_kept_pages(
    context: BrowserContext, live_server: LiveServer
) -> None:
    """Signed out everywhere from another device: the first contact clears this one's pages."""
    email = "everywhere@example.org"
    page = _signed_in_with_worker(context, live_server, email)
    page.goto(f"{live_server.url}/today")
    live_server.stop()
    page.reload()
    slider = page.locator("#pain")
    slider.focus()
    slider.press("ArrowRight")
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-outbox-badge]")).to_have_text("1 day waiting to sync")
    assert page.evaluate("caches.keys()")  # the pages are kept

    live_server.start()
    with live_server.api(email) as api:
        assert api.post("/api/v1/account/logout-everywhere").status_code == 204
    # No navigation: the page's own sync is the first contact, and the server says 401.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_until(page, NO_PAGE_CACHE)
    # The day itself stays on the phone until the patient signs in again.
    expect(page.locator("[data-outbox-badge]")).to_have_text("1 day waiting to sync")


def test_a_page_that_sends_on_to_sign_in_clears_the_kept_pages(
    context: BrowserContext, live_server: LiveServer
) -> None:
    email = "deleted@example.org"
    page = _signed_in_with_worker(context, live_server, email)
    with live_server.api(email) as api:
        assert api.post("/api/v1/account/logout-everywhere").status_code == 204
    page.goto(f"{live_server.url}/report")  # a page never kept; the answer: sign in
    assert "/login" in page.url
    wait_until(page, NO_PAGE_CACHE)
    live_server.stop()
    page.goto(f"{live_server.url}/history")
    expect(page.locator("h1")).to_have_text("You are offline")


def test_the_words_under_save_say_synced_once_the_day_reached_the_server(
    context: BrowserContext, live_server: LiveServer
) -> None:
    email = "synced@example.org"
    page = _signed_in_with_worker(context, live_server, email)
    page.goto(f"{live_server.url}/today")
    live_server.stop()
    page.reload()
    slider = page.locator("#pain")
    slider.focus()
    slider.press("ArrowRight")
    page.click("#entry-form button[type=submit]")
    status = page.locator("[data-save-status]")
    expect(status).to_have_text("Saved on this phone — will sync when you're online.")

    live_server.start()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-outbox-badge]")).to_be_hidden(timeout=15_000)
    expect(status).to_have_text("Saved and synced.")
    with live_server.api(email) as api:
        assert [day["pain"] for day in api.get("/api/v1/entries").json()] == [51]
