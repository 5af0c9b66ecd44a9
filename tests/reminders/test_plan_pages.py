"""The plan on /doses and the step-day question on /today, without JavaScript (SPEC §13)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from app.models import DoseStep, StepDecision, User
from app.services.entries import patient_today
from tests.conftest import Browser
from tests.factories import make_step
from tests.pages import parse


def test_a_plan_from_a_template_shows_planned_steps(browser: Browser, session: Session) -> None:
    response = browser.post(
        "/doses/plan",
        {
            "template": "one_and_a_half_steps",
            "start_date": "2026-04-06",
            "form": "liquid",
            "mg_per_ml": "0.5",
        },
    )
    assert response.status_code == 303, response.text
    page = parse(browser.get("/doses"))
    labels = [li.get_text(" ", strip=True) for li in page.select("ol.timeline li")]
    assert len(labels) == 3
    assert all("(planned)" in label for label in labels)
    assert "1.5 mg (3 ml of liquid)" in labels[0]
    steps = session.exec(select(DoseStep)).all()
    assert all(step.planned for step in steps)


def test_a_bad_custom_plan_says_which_field(browser: Browser, session: Session) -> None:
    response = browser.post(
        "/doses/plan",
        {
            "template": "custom",
            "start_date": "2026-04-06",
            "start_mg": "2",
            "step_mg": "0.5",
            "every_days": "seven",
            "target_mg": "4",
        },
    )
    assert response.status_code == 422
    page = parse(response)
    error = page.select_one("#plan-every_days-error")
    assert error is not None and error.get_text(strip=True)
    assert session.exec(select(DoseStep)).all() == []


def test_today_asks_on_a_step_day_and_records_the_answer(
    browser: Browser, session: Session, user: User
) -> None:
    today = patient_today(user)
    make_step(session, user=user, start=today - timedelta(days=20), dose_mg=1.0)
    make_step(session, user=user, start=today - timedelta(days=6), dose_mg=1.5)
    step = make_step(session, user=user, start=today, dose_mg=2.0, planned=True)
    browser.post("/doses/hold-rule", {"hold_rule": "Moderate headache two days: hold"})

    page = parse(browser.get("/today"))
    question = page.select_one("[data-step-day]")
    assert question is not None
    text = question.get_text(" ", strip=True)
    assert "Your plan moves to 2 mg today" in text
    assert "Moderate headache two days: hold" in text
    buttons = [b.get_text(strip=True) for b in question.select("button")]
    assert buttons == ["Start 2 mg", "Stay at 1.5 mg for now", "Go back to 1 mg"]
    # It comes before the diary's questions.
    html = str(page)
    assert html.index("data-step-day") < html.index('id="entry-form"')

    response = browser.post(f"/doses/{step.id}/decision", {"choice": "hold", "days": "7"})
    assert response.status_code == 303
    page = parse(browser.get("/today"))
    assert page.select_one("[data-step-day]") is None
    recorded = page.select_one("[data-step-decision]")
    assert recorded is not None and "stayed at 1.5 mg" in recorded.get_text()
    decision = session.exec(select(StepDecision)).one()
    assert (decision.choice, decision.days) == ("hold", 7)
    timeline = parse(browser.get("/doses")).select_one("[data-decisions]")
    assert timeline is not None and "stayed at 1.5 mg" in timeline.get_text()


def test_a_tampered_answer_writes_nothing(browser: Browser, session: Session, user: User) -> None:
    step = make_step(session, user=user, start=patient_today(user), dose_mg=2.0, planned=True)
    response = browser.post(f"/doses/{step.id}/decision", {"choice": "hold", "days": "x"})
    assert response.status_code == 422
    assert session.exec(select(StepDecision)).all() == []
