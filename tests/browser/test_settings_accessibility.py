"""axe-core finds nothing serious on the Settings pages and a day page with its history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import _serious_violations
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser


def test_settings_pages_have_no_serious_accessibility_violations(
    chromium: Browser, live_server: LiveServer
) -> None:
    email = "axe-settings@example.org"
    live_server.register(email)
    day = (date.today() - timedelta(days=1)).isoformat()
    with live_server.api(email) as api:
        api.put(f"/api/v1/entries/{day}", json={"pain": 40, "side_effects": {"nausea": 1}})
        api.put(f"/api/v1/entries/{day}", json={"pain": 50, "notes": "better"})
        backup = api.get("/api/v1/export").json()
    backup["entries"][0]["pain"] = 70
    backup["entries"][0]["ratings"]["pain"] = 70  # one value per item, wherever it is given
    context = chromium.new_context(viewport={"width": 360, "height": 800}, bypass_csp=True)
    found: dict[str, list[str]] = {}
    try:
        page = context.new_page()
        sign_in(page, live_server, email)
        for path in (
            "/settings",
            "/settings/export",
            "/settings/import",
            "/settings/account",
            "/settings/reminders",
            "/settings/items",
            "/welcome",
            f"/entries/{day}",
        ):
            page.goto(f"{live_server.url}{path}")
            found[path] = _serious_violations(page)
        page.goto(f"{live_server.url}/settings/import")
        page.set_input_files(
            "#file",
            files=[
                {
                    "name": "backup.json",
                    "mimeType": "application/json",
                    "buffer": json.dumps(backup).encode(),
                }
            ],
        )
        page.click("form[enctype] button[type=submit]")
        page.wait_for_selector("[data-preview]")
        found["import preview"] = _serious_violations(page)
        page.click("form[action='/settings/import/confirm'] button")
        page.wait_for_url("**/settings/import?imported=1*")
        found["import done"] = _serious_violations(page)
    finally:
        context.close()
    assert {path: issues for path, issues in found.items() if issues} == {}


def test_a_settings_form_sent_back_says_so_and_takes_the_focus(
    chromium: Browser, live_server: LiveServer
) -> None:
    """The errors sat beside their fields, but nothing was announced and the focus went to
    the top of the page: a screen reader heard no sign that the save had failed."""
    with _signed_in_phone(chromium, live_server, "errors-said@example.org") as page:
        page.goto(f"{live_server.url}/settings/items")
        # Optional fields are not announced as required.
        assert page.get_attribute("#condition", "required") is None
        assert page.get_attribute("#low_anchor", "required") is None
        assert page.get_attribute("#label", "required") is not None
        page.click("form[action='/settings/items/own'] button[type=submit]")
        summary = page.locator("#error-summary")
        expect(summary).to_have_attribute("role", "alert")
        expect(summary).to_contain_text("The question:")
        expect(summary).to_be_focused()

        page.goto(f"{live_server.url}/settings/reminders")
        page.check("#diary_enabled")
        page.fill("#diary_time", "")
        page.click("form[action='/settings/reminders'] button[type=submit]")
        expect(page.locator("#error-summary")).to_contain_text("Diary reminder time:")
        expect(page.locator("#error-summary")).to_be_focused()
        expect(page.locator("#diary_time")).to_have_attribute("aria-invalid", "true")


def test_the_import_page_fits_a_360_px_screen(chromium: Browser, live_server: LiveServer) -> None:
    with _signed_in_phone(chromium, live_server, "import-width@example.org") as page:
        page.goto(f"{live_server.url}/settings/import")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        box = page.locator("#file").bounding_box()
        assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 360


@contextmanager
def _signed_in_phone(chromium: Browser, live_server: LiveServer, email: str) -> Iterator[Page]:
    """A new account, signed in on a 360 px wide page."""
    live_server.register(email)
    context = chromium.new_context(viewport={"width": 360, "height": 800})
    try:
        page = context.new_page()
        sign_in(page, live_server, email)
        yield page
    finally:
        context.close()
