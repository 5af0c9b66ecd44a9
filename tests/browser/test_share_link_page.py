"""The one-time share link on /report, in Chromium: shown in full and copied with one tap."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import LiveServer, sign_in

pytestmark = pytest.mark.browser


def test_the_new_share_link_is_copied_with_one_tap(
    context: BrowserContext, live_server: LiveServer
) -> None:
    email = "copy@example.org"
    live_server.register(email)
    with live_server.api(email) as api:
        api.put("/api/v1/entries/2026-11-02", json={"pain": 40})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    sign_in(page, live_server, email)
    page.goto(f"{live_server.url}/report?start=2026-11-01&end=2026-11-10")

    page.click("text=Create share link")
    link = page.locator("#new-link-url").input_value()
    assert "/shared/" in link
    expect(page.locator(".link-text")).to_have_text(link)  # all of it, wrapped, readable

    page.click("[data-copy]")

    expect(page.locator("[data-copy]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
