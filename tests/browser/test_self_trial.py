"""A blinded self-trial in Chromium at 360 px: set up, sheet, seal, /today, guesses, unblind.

The server runs in its own process on the real clock, so after sealing the test moves the
trial's dates into the past in the database (as if four months had gone by) and fills the
diary through the API; everything else is the patient's taps.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import LiveServer, sign_in, wait_for_worker
from tests.trials.helpers import read_sheet

pytestmark = pytest.mark.browser


def _signed_in_page(context: BrowserContext, live_server: LiveServer, email: str) -> Page:
    """A new patient, signed in, with the service worker running."""
    live_server.register(email)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_server, email)
    wait_for_worker(page)
    return page


def test_a_trial_from_set_up_to_result(context: BrowserContext, live_server: LiveServer) -> None:
    email = "trial@example.org"
    page = _signed_in_page(context, live_server, email)

    page.goto(f"{live_server.url}/trial")
    expect(page.locator("text=1/8 = 0.125").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_label("No, I start after my baseline").check()
    page.fill("#meaningful_change", "15")
    page.fill("#ldn_dose_mg", "4.5")
    page.click("text=Draw the order and set up")
    expect(page.locator("[role=status]")).to_contain_text("Trial set up")

    with page.expect_download(timeout=30_000) as download:
        page.click("text=Pharmacy sheet (PDF)")
    path = download.value.path()
    assert path is not None
    with open(path, "rb") as pdf:
        code, holds = read_sheet(pdf.read())
    page.click("text=The pharmacy has the sheet: seal it")
    expect(page.locator("[role=status]")).to_contain_text("Sealed")

    # Four months on: the last period ended yesterday.
    today = date.today()
    start = today - timedelta(days=126)
    database = live_server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database, timeout=10) as db:
        db.execute("UPDATE self_trial SET start_date = ?", (start.isoformat(),))
    with live_server.api(email) as api:
        for number in range(1, 7):
            first = start + timedelta(days=21 * (number - 1))
            level = 30 if holds[number] == "LDN" else 55
            entries = [
                {"date": (first + timedelta(days=i)).isoformat(), "pain": level + (i * 7) % 11}
                for i in range(21)
            ]
            assert api.post("/api/v1/entries/batch", json={"entries": entries}).status_code == 200

    page.goto(f"{live_server.url}/today")
    partial = page.locator(".trial-today")
    expect(partial).to_contain_text("all periods are over")
    expect(partial).to_contain_text("Period 1 has ended")
    partial.get_by_role("button", name="Don't know").click()
    expect(page.locator(".trial-today")).to_contain_text("Period 2 has ended")

    # No cached page (the service worker keeps visited pages) holds the code or the sheet.
    cached = page.evaluate(
        """async () => {
            let all = "";
            for (const name of await caches.keys()) {
              const cache = await caches.open(name);
              for (const request of await cache.keys()) {
                all += request.url + " " + await (await cache.match(request)).text();
              }
            }
            return all;
        }"""
    )
    assert code not in cached and "pharmacy-sheet" not in cached.split("href")[0]
    assert "Placebo (identical" not in cached

    page.goto(f"{live_server.url}/trial")
    for _ in range(5):
        page.locator("table button", has_text="LDN").first.click()
        page.wait_for_load_state()
    page.fill("#code", code.lower())
    page.click("button:has-text('Unblind')")
    expect(page.locator("[role=status]")).to_contain_text("Unblinded")
    result = page.locator(".trial-result")
    expect(result).to_contain_text("lower on LDN than on placebo")
    expect(result).to_contain_text("smallest possible with 3 pairs")
    expect(result.locator("table").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_wrong_codes_end_at_a_page_that_says_beside_the_field_when_to_try_again(
    context: BrowserContext, live_server: LiveServer
) -> None:
    """The sixth code within 15 minutes is refused (429) with the wait beside the field, as
    the browser shows it: the service worker does not stand an offline page in for it."""
    page = _signed_in_page(context, live_server, "guessed@example.org")
    page.goto(f"{live_server.url}/trial")
    page.get_by_label("No, I start after my baseline").check()
    page.fill("#meaningful_change", "15")
    page.click("text=Draw the order and set up")
    expect(page.locator("[role=status]")).to_contain_text("Trial set up")
    page.click("text=The pharmacy has the sheet: seal it")
    expect(page.locator("[role=status]")).to_contain_text("Sealed")
    database = live_server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database, timeout=10) as db:  # ten days into its first period
        db.execute(
            "UPDATE self_trial SET start_date = ?",
            ((date.today() - timedelta(days=10)).isoformat(),),
        )

    statuses = []
    for _ in range(6):
        page.goto(f"{live_server.url}/trial")
        page.fill("#code", "0000-0000-0000")
        with page.expect_response(lambda response: response.url.endswith("/unblind")) as sent:
            page.click("button:has-text('Unblind')")
        statuses.append(sent.value.status)
        page.wait_for_load_state()
    assert statuses == [422] * 5 + [429], statuses
    error = page.locator("#code-error")
    expect(error).to_contain_text("Try again in 15 minutes")
    expect(error).to_contain_text("the right code will still work then")
    expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
