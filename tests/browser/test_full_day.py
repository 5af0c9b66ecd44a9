"""SPEC §11 on a phone with a touch screen: a full day in ≤ 12 taps, the form ≤ 2.5 screens.

The routine is bench/entry_taps.py's, which prints the figures.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from bench.entry_taps import SCREEN_BUDGET, TAP_BUDGET, full_day, prepare
from tests.browser.conftest import LiveServer
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_a_full_day_takes_at_most_12_taps_on_at_most_2_5_screens(
    chromium: Browser, live_server: LiveServer
) -> None:
    email = "full-day@example.org"
    prepare(live_server.url, email, PASSWORD)

    day = full_day(chromium, live_server.url, email, PASSWORD, "390×844")

    assert day.taps <= TAP_BUDGET
    assert day.screens <= SCREEN_BUDGET, f"the form is {day.form_px:.0f} px"
    saved = day.saved
    rated = ["pain", "fatigue", "sleep_quality", "overall", "mood", "stress"]
    assert all(isinstance(saved[key], int) for key in rated), saved
    assert set(saved["side_effects"].values()) == {0}, "no side effects: every one is none"
    assert saved["dose_taken"] is True
    assert saved["tolerability"] is None and saved["pgic"] is None
