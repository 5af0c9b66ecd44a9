"""/history in Chromium at phone size: choosing the item redraws the calendar at once with script
(touch and keyboard, strict CSP), and the Show button still does it without script."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect

from tests.browser.conftest import LiveServer, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@dataclass
class HistoryPage:
    page: Page
    first_day: Locator  # the calendar's cell for the 1st of this month (pain 20, sleep 70)
    show: Locator
    problems: list[str] = field(default_factory=list)  # console errors, CSP reports

    def pick(self) -> Locator:
        return self.page.locator("#item")


@contextmanager
def history_page(
    chromium: Browser, live_server: LiveServer, email: str, **options: Any
) -> Iterator[HistoryPage]:
    """A patient with a few days this month, signed in on /history in a fresh context."""
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
    context = chromium.new_context(viewport=PHONE, **options)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        view = HistoryPage(
            page=page,
            first_day=page.locator(f'a.day-cell[href="/entries/{first.isoformat()}"]'),
            show=page.locator(".item-pick button[type=submit]"),
        )

        def seen(message: ConsoleMessage) -> None:
            if message.type == "error" or "Content Security Policy" in message.text:
                view.problems.append(message.text)

        page.on("console", seen)
        page.on("pageerror", lambda error: view.problems.append(str(error)))
        sign_in(page, live_server, email)
        page.goto(f"{live_server.url}/history")
        expect(view.first_day).to_have_attribute("aria-label", re.compile("Pain 20"))
        yield view
    finally:
        context.close()


def test_choosing_an_item_by_touch_redraws_the_month_without_a_show_tap(
    chromium: Browser, live_server: LiveServer
) -> None:
    with history_page(
        chromium, live_server, "picker@example.org", has_touch=True, is_mobile=True
    ) as view:
        page = view.page
        expect(view.show).to_be_hidden()  # script is on: no Show tap needed

        page.evaluate("window.sameDocument = true")
        # The status is changed in place: a live region replaced by a new node is often not
        # read out.
        page.evaluate("document.getElementById('item-pick-status').dataset.mark = 'kept'")
        view.pick().tap()
        page.select_option("#item", "sleep_quality")
        expect(view.first_day).to_have_attribute("aria-label", re.compile("Sleep 70"))
        expect(page.locator("table.calendar caption")).to_contain_text("Sleep")
        expect(page.locator("#item-pick-status")).to_have_text("The calendar now shows sleep.")
        expect(page.locator("#item-pick-status")).to_have_attribute("data-mark", "kept")
        assert page.evaluate("window.sameDocument") is True  # no page load
        assert "item=sleep_quality" in page.url
        expect(page.locator("#month-nav a").first).to_have_attribute(
            "href", re.compile("item=sleep_quality")
        )

        # Back: the whole page as it was comes again (not the month alone), Show still hidden.
        page.go_back()
        expect(page.locator("h1")).to_have_text("History")
        expect(view.pick()).to_have_value("pain")
        expect(view.first_day).to_have_attribute("aria-label", re.compile("Pain 20"))
        expect(view.show).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        box = view.pick().bounding_box()
        assert box is not None and box["height"] >= 44  # a big touch target
        assert view.problems == []


def test_the_item_is_chosen_from_the_keyboard_and_the_focus_stays(
    chromium: Browser, live_server: LiveServer
) -> None:
    with history_page(chromium, live_server, "keys@example.org") as view:
        page = view.page
        page.locator("#month-nav a").last.focus()
        for _ in range(10):  # Tab along until the list has the focus
            if page.evaluate("document.activeElement.id") == "item":
                break
            page.keyboard.press("Tab")
        expect(view.pick()).to_be_focused()
        page.keyboard.press("ArrowDown")
        chosen = view.pick().input_value()
        assert chosen != "pain"
        label = page.locator(f'#item option[value="{chosen}"]').inner_text()
        expect(view.first_day).to_have_attribute("aria-label", re.compile(label))
        expect(view.pick()).to_be_focused()
        expect(page.locator("#month-nav a").first).to_have_attribute(
            "href", re.compile(f"item={chosen}")
        )
        assert view.problems == []


def test_without_script_the_show_button_still_works(
    chromium: Browser, live_server: LiveServer
) -> None:
    with history_page(
        chromium, live_server, "noscript@example.org", java_script_enabled=False
    ) as view:
        expect(view.show).to_be_visible()
        view.page.select_option("#item", "sleep_quality")
        view.show.click()
        view.page.wait_for_url("**item=sleep_quality*")
        expect(view.first_day).to_have_attribute("aria-label", re.compile("Sleep 70"))
