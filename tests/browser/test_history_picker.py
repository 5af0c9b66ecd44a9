"""/history in Chromium at phone size: choosing the item redraws the calendar at once with script
(touch and keyboard, strict CSP), and the Show button still does it without script."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.browser.conftest import LiveServer, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _diary(live_server: LiveServer, email: str) -> str:
    """A few days this month with pain and sleep; the ISO day of the first of them."""
    live_server.register(email)
    today = datetime.now(UTC).date()  # the patient's time zone is UTC
    first = today.replace(day=1)
    with live_server.api(email) as api:
        for offset in range(min(3, today.day)):
            day = (first + timedelta(days=offset)).isoformat()
            saved = api.put(
                f"/api/v1/entries/{day}", json={"pain": 20 + offset, "sleep_quality": 70 + offset}
            )
            assert saved.status_code in (200, 201), saved.text
    return first.isoformat()


def _watch_console(page: Page) -> list[str]:
    problems: list[str] = []

    def seen(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", seen)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_choosing_an_item_redraws_the_month_with_touch_and_keyboard(
    chromium: Browser, live_server: LiveServer
) -> None:
    email = "picker@example.org"
    first_day = _diary(live_server, email)
    context = chromium.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems = _watch_console(page)
        sign_in(page, live_server, email)
        page.goto(f"{live_server.url}/history")
        cell = page.locator(f'a.day-cell[href="/entries/{first_day}"]')
        expect(cell).to_have_attribute("aria-label", re.compile("Pain 20"))
        show = page.locator(".item-pick button[type=submit]")
        expect(show).to_be_hidden()  # script is on: no Show tap needed

        # Touch: tap the list, choose Sleep; the month redraws without a page load.
        page.evaluate("window.sameDocument = true")
        page.locator("#item").tap()
        page.select_option("#item", "sleep_quality")
        expect(cell).to_have_attribute("aria-label", re.compile("Sleep 70"))
        expect(page.locator("table.calendar caption")).to_contain_text("Sleep")
        expect(page.locator("#item-pick-status")).to_have_text("The calendar now shows sleep.")
        assert page.evaluate("window.sameDocument") is True
        assert "item=sleep_quality" in page.url
        expect(page.locator("#month-nav a").first).to_have_attribute(
            "href", re.compile("item=sleep_quality")
        )

        # Back: the whole page comes again (not the month alone), Show still hidden.
        page.go_back()
        expect(page.locator("h1")).to_have_text("History")
        expect(page.locator("#item")).to_have_value("sleep_quality")
        expect(show).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        box = page.locator("#item").bounding_box()
        assert box is not None and box["height"] >= 44  # a big touch target
        assert problems == []
    finally:
        context.close()


def test_the_item_is_chosen_from_the_keyboard_and_the_focus_stays(
    chromium: Browser, live_server: LiveServer
) -> None:
    email = "keys@example.org"
    first_day = _diary(live_server, email)
    context = chromium.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems = _watch_console(page)
        sign_in(page, live_server, email)
        page.goto(f"{live_server.url}/history")
        cell = page.locator(f'a.day-cell[href="/entries/{first_day}"]')
        expect(cell).to_have_attribute("aria-label", re.compile("Pain 20"))
        page.locator("#month-nav a").last.focus()
        for _ in range(10):  # Tab along until the list has the focus
            if page.evaluate("document.activeElement.id") == "item":
                break
            page.keyboard.press("Tab")
        expect(page.locator("#item")).to_be_focused()
        page.keyboard.press("ArrowDown")
        chosen = page.locator("#item").input_value()
        assert chosen != "pain"
        label = page.locator(f'#item option[value="{chosen}"]').inner_text()
        expect(cell).to_have_attribute("aria-label", re.compile(label))
        expect(page.locator("#item")).to_be_focused()
        expect(page.locator("#month-nav a").first).to_have_attribute(
            "href", re.compile(f"item={chosen}")
        )
        assert problems == []
    finally:
        context.close()


def test_without_script_the_show_button_still_works(
    chromium: Browser, live_server: LiveServer
) -> None:
    email = "noscript@example.org"
    first_day = _diary(live_server, email)
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, live_server, email)
        page.goto(f"{live_server.url}/history")
        show = page.locator(".item-pick button[type=submit]")
        expect(show).to_be_visible()
        page.select_option("#item", "sleep_quality")
        show.click()
        page.wait_for_url("**item=sleep_quality*")
        cell = page.locator(f'a.day-cell[href="/entries/{first_day}"]')
        expect(cell).to_have_attribute("aria-label", re.compile("Sleep 70"))
    finally:
        context.close()
