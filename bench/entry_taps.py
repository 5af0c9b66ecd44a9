"""A full day on /today with a finger (SPEC §11): taps and the form's height on a phone.

python bench/entry_taps.py      prints the taps and the form's height at 390×844 and 360×740

In a real Chromium with a touch screen: eight sliders, "No side effects", "Yes" to the dose,
Save — each a touch tap, counted; scrolling between them is not a tap. The same routine runs
in tests/browser/test_full_day.py, which holds the budget: ≤ 12 taps, form ≤ 2.5 screens.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

SCREENS = {"390×844": {"width": 390, "height": 844}, "360×740": {"width": 360, "height": 740}}
TAP_BUDGET = 12
SCREEN_BUDGET = 2.5


@dataclass(frozen=True)
class FullDay:
    taps: int
    form_px: float
    screen_px: int
    saved: dict[str, Any]

    @property
    def screens(self) -> float:
        return self.form_px / self.screen_px


def form_height(page: Page) -> float:
    return float(page.evaluate("document.getElementById('entry-form').offsetHeight"))


def log_full_day(page: Page) -> int:
    """Answer every item, no side effects, dose taken, Save: returns the taps it took."""
    taps = 0
    sliders = page.locator("#entry-form [data-items] input[type=range]")
    for index in range(sliders.count()):
        slider = sliders.nth(index)
        slider.scroll_into_view_if_needed()
        box = slider.bounding_box()
        assert box is not None
        share = 0.2 + 0.6 * ((index * 37) % 100) / 100  # anywhere along the line
        page.touchscreen.tap(box["x"] + box["width"] * share, box["y"] + box["height"] / 2)
        taps += 1
    for target in ("label.toggle:has([data-no-side-effects])", "label:has(#dose_taken-yes)"):
        page.locator(target).tap()
        taps += 1
    page.locator("#entry-form button[type=submit]").tap()
    taps += 1
    page.locator("[data-save-status]").get_by_text("Saved").wait_for(timeout=10_000)
    return taps


def full_day(browser: Browser, base_url: str, email: str, password: str, screen: str) -> FullDay:
    """Sign in as `email` (whose dose step is in force) and log a full day on a phone."""
    viewport = SCREENS[screen]
    context = browser.new_context(viewport=viewport, has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base_url}/login")
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/today*")
        height = form_height(page)
        taps = log_full_day(page)
        height = max(height, form_height(page))
    finally:
        context.close()
    with httpx.Client(base_url=base_url, timeout=10) as client:
        token = client.post("/api/v1/auth/token", json={"email": email, "password": password})
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        saved = client.get("/api/v1/entries").json()[-1]
    return FullDay(taps=taps, form_px=height, screen_px=viewport["height"], saved=saved)


def prepare(base_url: str, email: str, password: str) -> None:
    """An account on its second dose week: the form asks about the dose, no check-in yet."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        made = client.post("/api/v1/auth/register", json={"email": email, "password": password})
        assert made.status_code == 201, made.text
        token = client.post("/api/v1/auth/token", json={"email": email, "password": password})
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        start = (date.today() - timedelta(days=7)).isoformat()
        step = client.post("/api/v1/dose-steps", json={"start_date": start, "dose_mg": 1.5})
        assert step.status_code == 201, step.text


def main() -> None:
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.conftest import migrate
    from tests.live_server import LiveServer

    password = "a long bench passphrase"
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "taps.db"
        migrate(f"sqlite:///{database}")
        server = LiveServer(database, Path(folder))
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for number, screen in enumerate(SCREENS):
                    email = f"bench{number}@example.org"
                    prepare(server.url, email, password)
                    day = full_day(browser, server.url, email, password, screen)
                    print(
                        f"{screen}: a full day in {day.taps} taps (budget {TAP_BUDGET}); "
                        f"form {day.form_px:.0f} px = {day.screens:.2f} screens "
                        f"(budget {SCREEN_BUDGET})"
                    )
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
