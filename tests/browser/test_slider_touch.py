"""A finger on a phone (SPEC §11): a swipe that starts on a slider scrolls and answers nothing.

Real touch input through Chromium's own input pipeline (CDP Input.dispatchTouchEvent), on a
phone-sized page with a touch screen, so the browser itself decides between scroll and drag.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, expect

from tests.browser.conftest import LiveServer, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(chromium: Browser) -> Iterator[BrowserContext]:
    context = chromium.new_context(
        viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2
    )
    yield context
    context.close()


class Finger:
    """One finger on the touch screen, in CSS pixels of the viewport."""

    def __init__(self, page: Page, cdp: CDPSession) -> None:
        self.page = page
        self.cdp = cdp

    def _send(self, kind: str, points: list[dict[str, float]]) -> None:
        self.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    def swipe(self, start: tuple[float, float], end: tuple[float, float], steps: int = 12) -> None:
        (x0, y0), (x1, y1) = start, end
        self._send("touchStart", [{"x": x0, "y": y0}])
        for step in range(1, steps + 1):
            share = step / steps
            self._send("touchMove", [{"x": x0 + (x1 - x0) * share, "y": y0 + (y1 - y0) * share}])
            self.page.wait_for_timeout(16)  # about one frame per move, as a finger does
        self._send("touchEnd", [])
        self.page.wait_for_timeout(300)  # the scroll and any late events settle

    def tap(self, x: float, y: float) -> None:
        self._send("touchStart", [{"x": x, "y": y}])
        self.page.wait_for_timeout(50)
        self._send("touchEnd", [])
        self.page.wait_for_timeout(100)


def _on_phone(phone: BrowserContext, server: LiveServer, email: str) -> tuple[Page, Finger]:
    server.register(email)
    page = phone.new_page()
    sign_in(page, server, email)
    return page, Finger(page, phone.new_cdp_session(page))


def _point_on(page: Page, selector: str, share: float) -> tuple[float, float]:
    """A point on the slider's track, `share` of the way along, scrolled into view first."""
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    assert box is not None
    return box["x"] + 14 + (box["width"] - 28) * share, box["y"] + box["height"] / 2


def _scroll_y(page: Page) -> float:
    return float(page.evaluate("window.scrollY"))


def _state(page: Page, key: str) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """key => ({
                value: document.getElementById(key).value,
                unanswered: document.querySelector(`[name=${key}_unanswered]`).checked,
                readout: document.getElementById(key + '-value').textContent,
            })""",
            key,
        )
    )


def _saved(server: LiveServer, email: str) -> list[dict[str, Any]]:
    with server.api(email) as api:
        return list(api.get("/api/v1/entries").json())


def test_a_vertical_swipe_on_a_slider_scrolls_and_answers_nothing(
    phone: BrowserContext, live_server: LiveServer
) -> None:
    email = "thumb@example.org"
    page, finger = _on_phone(phone, live_server, email)

    # An answered item saved first: stress at 11.
    x, y = _point_on(page, "#stress", 0.11)
    finger.tap(x, y)
    stress = _state(page, "stress")
    assert not stress["unanswered"] and stress["readout"] == stress["value"]
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-save-status]")).to_contain_text("Saved")
    before = _saved(live_server, email)
    assert before[0]["pain"] is None and before[0]["stress"] == int(stress["value"])

    page.evaluate("window.scrollTo(0, 0)")
    for key, share in (("pain", 0.12), ("stress", 0.89)):
        untouched = _state(page, key)
        x, y = _point_on(page, f"#{key}", share)
        top = _scroll_y(page)
        # Mostly up the screen, a little sideways: a scroll.
        finger.swipe((x, y), (x + 25, y - 250))
        assert _scroll_y(page) > top + 100, "the page should have scrolled"
        assert _state(page, key) == untouched, f"a scroll changed {key}"
        # And down again: still a scroll.
        top = _scroll_y(page)
        x, y = _point_on(page, f"#{key}", share)
        finger.swipe((x, y), (x - 20, y + 200))
        assert _scroll_y(page) < top - 50
        assert _state(page, key) == untouched, f"a scroll changed {key}"

    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-save-status]")).to_contain_text("Saved")
    assert _answers(_saved(live_server, email)) == _answers(before), "the saved day changed"


def _answers(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    skip = {"updated_at", "created_at", "revision", "source"}
    return [{k: v for k, v in day.items() if k not in skip} for day in days]


def test_a_tap_or_a_sideways_drag_on_a_slider_still_answers(
    phone: BrowserContext, live_server: LiveServer
) -> None:
    email = "drag@example.org"
    page, finger = _on_phone(phone, live_server, email)

    x, y = _point_on(page, "#pain", 0.3)
    finger.tap(x, y)
    pain = _state(page, "pain")
    assert not pain["unanswered"] and 25 <= int(pain["value"]) <= 35

    x, y = _point_on(page, "#fatigue", 0.2)
    top = _scroll_y(page)
    finger.swipe((x, y), (x + 200, y + 15))  # sideways, a little down
    fatigue = _state(page, "fatigue")
    assert not fatigue["unanswered"] and int(fatigue["value"]) > 50
    assert fatigue["readout"] == fatigue["value"]
    assert abs(_scroll_y(page) - top) < 5, "a sideways drag should not scroll"

    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-save-status]")).to_contain_text("Saved")
    saved = _saved(live_server, email)[0]
    assert (saved["pain"], saved["fatigue"]) == (int(pain["value"]), int(fatigue["value"]))
