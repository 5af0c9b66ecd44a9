"""The step-day question on /today in Chromium: asked first, and each answer recorded (SPEC §13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import LiveServer, sign_in

pytestmark = pytest.mark.browser

CHOICES = [
    ("start", "Start 2 mg", "started 2 mg as planned", 2.0),
    ("hold", "Stay at 1.5 mg for now", "stayed at 1.5 mg for now", 1.5),
    ("step_back", "Go back to 1 mg", "went back to 1 mg", 1.0),
]


def test_the_step_day_question_records_each_choice(
    chromium: Browser, live_server: LiveServer
) -> None:
    today = datetime.now(UTC).date()  # the patients' time zone is UTC
    for choice, button, recorded, dose in CHOICES:
        email = f"{choice}@example.org"
        live_server.register(email)
        with live_server.api(email) as api:
            for days_ago, mg in ((20, 1.0), (6, 1.5)):
                start = (today - timedelta(days=days_ago)).isoformat()
                api.post("/api/v1/dose-steps", json={"start_date": start, "dose_mg": mg})
            plan = api.post(
                "/api/v1/dose-plan",
                json={
                    "start_date": today.isoformat(),
                    "start_mg": 2,
                    "step_mg": 0.5,
                    "every_days": 7,
                    "target_mg": 3,
                    "hold_rule": "Two bad nights in a row: stay a week",
                },
            )
            assert plan.status_code == 201, plan.text
        context = chromium.new_context(viewport={"width": 360, "height": 740})
        try:
            page = context.new_page()
            page.set_default_timeout(15_000)
            sign_in(page, live_server, email)
            question = page.locator("[data-step-day]")
            expect(question).to_be_visible()
            expect(question.locator("h2")).to_have_text("Your plan moves to 2 mg today")
            expect(question).to_contain_text("Two bad nights in a row: stay a week")
            # Asked first: above the diary's own questions.
            top = question.bounding_box()
            form = page.locator("#entry-form").bounding_box()
            assert top is not None and form is not None and top["y"] < form["y"]
            if choice == "hold":
                page.select_option("#hold-days", "14")
            page.get_by_role("button", name=button).click()
            page.wait_for_url("**/today?decided=1")
            expect(page.locator("[data-step-day]")).to_have_count(0)
            expect(page.locator("[data-step-decision]")).to_contain_text(recorded)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
        finally:
            context.close()
        with live_server.api(email) as api:
            decisions = api.get("/api/v1/step-decisions").json()
            assert [(d["choice"], d["dose_mg"]) for d in decisions] == [(choice, dose)]
            if choice == "hold":
                assert decisions[0]["days"] == 14
                planned = [s for s in api.get("/api/v1/dose-steps").json() if s["planned"]]
                assert planned[0]["start_date"] == (today + timedelta(days=14)).isoformat()
