"""The daily form in Chromium: sliders start unanswered, with and without JavaScript (SPEC §2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import LiveServer, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def no_script(chromium: Browser) -> Iterator[BrowserContext]:
    context = chromium.new_context(
        viewport={"width": 360, "height": 740}, java_script_enabled=False
    )
    yield context
    context.close()


def _today(context: BrowserContext, server: LiveServer, email: str) -> Page:
    server.register(email)
    page = context.new_page()
    sign_in(page, server, email)
    return page


def _saved_pain(server: LiveServer, email: str) -> list[object]:
    with server.api(email) as api:
        return [day["pain"] for day in api.get("/api/v1/entries").json()]


def test_a_tap_where_the_hidden_thumb_rests_answers_the_item(
    context: BrowserContext, live_server: LiveServer
) -> None:
    email = "tap@example.org"
    page = _today(context, live_server, email)
    expect(page.locator("[data-no-script-hint]")).to_have_count(0)  # with script, not needed
    slider = page.locator("#pain")
    unanswered = page.locator("input[name=pain_unanswered]")
    expect(slider).to_have_attribute("aria-valuetext", "not answered")
    expect(page.locator("#pain-value")).to_have_text("not answered")

    slider.click()  # the middle of the track: 50, where the thumb already rests, so no input event

    expect(slider).to_have_value("50")
    expect(unanswered).not_to_be_checked()
    expect(slider).to_have_attribute("aria-valuetext", "50 out of 100")
    expect(page.locator("#pain-value")).to_have_text("50")

    unanswered.check()  # and back: the patient can take an answer back
    expect(slider).to_have_attribute("aria-valuetext", "not answered")
    expect(page.locator("#pain-value")).to_have_text("not answered")

    slider.click()
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-save-status]")).to_contain_text("Saved")
    assert _saved_pain(live_server, email) == [50]


def test_an_unanswered_slider_looks_the_same_whatever_value_it_holds(
    context: BrowserContext, live_server: LiveServer
) -> None:
    """No thumb and no fill up to it: nothing on the screen suggests a value before an answer."""
    page = _today(context, live_server, "blank@example.org")
    slider = page.locator("#pain")
    looks = []
    for value in ("5", "95"):
        # Set without an input event, as a browser's own default would be: still unanswered.
        slider.evaluate("(range, value) => { range.value = value; }", value)
        expect(page.locator("input[name=pain_unanswered]")).to_be_checked()
        looks.append(slider.screenshot())
    assert looks[0] == looks[1]

    page.uncheck("input[name=pain_unanswered]")
    assert slider.screenshot() != looks[1], "an answered slider shows its thumb"


def test_without_javascript_the_thumb_shows_once_not_answered_is_unticked(
    no_script: BrowserContext, live_server: LiveServer
) -> None:
    email = "noscript@example.org"
    page = _today(no_script, live_server, email)
    expect(page.locator("[data-no-script-hint]")).to_be_visible()  # how, said before it matters
    slider = page.locator("#pain")
    untouched = slider.screenshot()
    # No stale readout: without a script it could not follow the slider.
    expect(page.locator("#pain-value")).to_be_hidden()

    page.uncheck("input[name=pain_unanswered]")
    assert slider.screenshot() != untouched, "the thumb should appear"
    slider.focus()
    for _ in range(5):
        slider.press("ArrowRight")
    page.click("#entry-form button[type=submit]")

    page.wait_for_url("**/entries/*?saved=1")
    assert _saved_pain(live_server, email) == [55]


@pytest.mark.parametrize("path", ["/today", "/history", "/doses", "/trends", "/compare", "/report"])
def test_pages_fit_a_360_pixel_phone(context: BrowserContext, live_server: LiveServer, path: str):
    page = _today(context, live_server, f"narrow{path.strip('/')}@example.org")
    page.goto(f"{live_server.url}{path}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    if path == "/today":
        # The save button stays within thumb's reach while the form scrolls under it.
        page.mouse.wheel(0, 1500)
        expect(page.locator("#entry-form button[type=submit]")).to_be_in_viewport()


def test_the_field_with_the_keyboard_focus_is_never_under_the_save_bar(
    context: BrowserContext, live_server: LiveServer
) -> None:
    page = _today(context, live_server, "keys@example.org")
    savebar = page.locator(".savebar")
    hidden = []
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || el.closest(".savebar") || el === document.body) return null;
                const box = el.getBoundingClientRect();
                return {name: el.name || el.id || el.tagName, bottom: box.bottom};
            }"""
        )
        if focused is None:
            continue
        bar_top = savebar.evaluate("bar => bar.getBoundingClientRect().top")
        if focused["bottom"] > bar_top + 1:
            hidden.append(focused["name"])
    assert hidden == []


def test_after_saving_from_the_keyboard_the_focus_is_on_saved(
    context: BrowserContext, live_server: LiveServer
) -> None:
    page = _today(context, live_server, "enter@example.org")
    page.locator("#pain").focus()
    page.keyboard.press("ArrowRight")
    page.locator("#entry-form button[type=submit]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-save-status]")).to_contain_text("Saved")
    expect(page.locator("[data-save-status]")).to_be_focused()


def test_answers_to_check_are_listed_on_top_and_get_the_focus(
    context: BrowserContext, live_server: LiveServer
) -> None:
    page = _today(context, live_server, "check@example.org")
    page.click("summary:has-text('different dose')")
    page.fill("#dose_mg", "lots")
    page.locator("#notes").evaluate("notes => { notes.value = 'x'.repeat(2001); }")
    page.click("#entry-form button[type=submit]")

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    # Every problem at once, not one round at a time.
    expect(summary).to_contain_text("The different dose: Use a dose from 0 to 50 mg")
    expect(summary).to_contain_text("Notes: This is too long")
    summary.locator("a", has_text="The different dose").click()
    expect(page.locator("#dose_mg")).to_be_focused()
    expect(page.locator("#dose_mg")).to_have_value("lots")


def test_saving_an_empty_form_says_why_beside_save_and_moves_the_focus_there(
    context: BrowserContext, live_server: LiveServer
) -> None:
    page = _today(context, live_server, "empty@example.org")
    page.mouse.wheel(0, 3000)  # at the bottom of the form, where Save is
    page.click("#entry-form button[type=submit]")

    error = page.locator(".savebar #save-error")
    expect(error).to_contain_text("Answer at least one")
    expect(error).to_be_focused()
    expect(error).to_be_in_viewport()
    expect(page.locator("#entry-form button[type=submit]")).to_be_in_viewport()
