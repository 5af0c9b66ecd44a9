"""The titration plan and step days through the API (SPEC §13)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import User
from app.schemas import latest_step_start
from app.services.entries import patient_today
from tests.conftest import Browser
from tests.factories import make_step


def steps(api: TestClient) -> list[dict[str, Any]]:
    response = api.get("/api/v1/dose-steps")
    assert response.status_code == 200
    listed: list[dict[str, Any]] = response.json()
    return listed


def test_a_custom_plan_makes_planned_steps_up_to_the_target(api: TestClient) -> None:
    response = api.post(
        "/api/v1/dose-plan",
        json={
            "start_date": "2026-03-02",
            "start_mg": 0.5,
            "step_mg": 0.5,
            "every_days": 7,
            "target_mg": 1.75,
            "dosing_time": "bedtime",
        },
    )
    assert response.status_code == 201, response.text
    made = response.json()["steps"]
    assert [(s["start_date"], s["dose_mg"]) for s in made] == [
        ("2026-03-02", 0.5),
        ("2026-03-09", 1.0),
        ("2026-03-16", 1.5),
        ("2026-03-23", 1.75),
    ]
    listed = steps(api)
    assert all(s["planned"] is True and s["dosing_time"] == "bedtime" for s in listed)
    assert api.get("/api/v1/dose-plan").json()["target_mg"] == 1.75


def test_a_template_plan_and_liquid_volume(api: TestClient) -> None:
    response = api.post(
        "/api/v1/dose-plan",
        json={
            "start_date": "2026-03-02",
            "template": "one_and_a_half_steps",
            "form": "liquid",
            "mg_per_ml": 1.0,
        },
    )
    assert response.status_code == 201, response.text
    listed = steps(api)
    assert [(s["dose_mg"], s["volume_ml"]) for s in listed] == [(1.5, 1.5), (3.0, 3.0), (4.5, 4.5)]
    assert [s["start_date"] for s in listed] == ["2026-03-02", "2026-03-16", "2026-03-30"]


def test_doses_go_down_to_a_microgram_and_no_further(api: TestClient) -> None:
    ok = api.post("/api/v1/dose-steps", json={"start_date": "2026-01-05", "dose_mg": 0.125})
    assert ok.status_code == 201 and ok.json()["dose_mg"] == 0.125
    micro = api.post("/api/v1/dose-steps", json={"start_date": "2026-01-06", "dose_mg": 0.001})
    assert micro.status_code == 201 and micro.json()["dose_mg"] == 0.001
    too_fine = api.post("/api/v1/dose-steps", json={"start_date": "2026-01-07", "dose_mg": 0.0005})
    assert too_fine.status_code == 422
    assert too_fine.json()["detail"][0]["loc"][-1] == "dose_mg"


def test_a_strength_without_liquid_is_refused(api: TestClient) -> None:
    response = api.post(
        "/api/v1/dose-steps",
        json={"start_date": "2026-01-05", "dose_mg": 1.5, "form": "capsule", "mg_per_ml": 1},
    )
    assert response.status_code == 422
    assert "liquid" in response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start_date": "2026-03-02", "start_mg": 0.5}, "step_mg"),
        ({"start_date": "2026-03-02", "template": "guess"}, "template"),
        (
            {
                "start_date": "2026-03-02",
                "start_mg": 3,
                "step_mg": 1,
                "every_days": 7,
                "target_mg": 1,
            },
            "target_mg",
        ),
        (
            {
                "start_date": "2026-03-02",
                "start_mg": 1,
                "step_mg": 1,
                "every_days": 0,
                "target_mg": 2,
            },
            "every_days",
        ),
    ],
)
def test_a_plan_that_cannot_be_is_refused_by_name(
    api: TestClient, body: dict[str, Any], field: str
) -> None:
    response = api.post("/api/v1/dose-plan", json=body)
    assert response.status_code == 422
    assert field in response.text
    assert steps(api) == []


def test_a_plan_of_too_many_steps_is_refused(api: TestClient) -> None:
    response = api.post(
        "/api/v1/dose-plan",
        json={
            "start_date": "2026-03-02",
            "start_mg": 0.001,
            "step_mg": 0.001,
            "every_days": 1,
            "target_mg": 50,
        },
    )
    assert response.status_code == 422
    assert steps(api) == []


def test_a_plan_starts_and_ends_within_the_years_a_dose_step_may_start(
    api: TestClient, browser: Browser
) -> None:
    """A plan in year 9999 overflowed the calendar (500) and one in year 9000 made steps
    no dose step may have; now the plan keeps to the dose steps' 5 years."""
    latest = latest_step_start()
    far = {"start_mg": 2, "step_mg": 0.5, "every_days": 90, "target_mg": 4.5}
    for start in ("9999-12-01", "9000-01-01", (latest + timedelta(days=1)).isoformat()):
        too_late = api.post("/api/v1/dose-plan", json={**far, "start_date": start})
        assert too_late.status_code == 422, start
        assert too_late.json()["detail"][0]["loc"] == ["body", "start_date"]
        template = api.post(
            "/api/v1/dose-plan", json={"template": "half_mg_weekly", "start_date": start}
        )
        assert template.status_code == 422, start
    # Within the years at the start, but raising the dose past them: refused whole.
    running_on = api.post(
        "/api/v1/dose-plan", json={**far, "start_date": (latest - timedelta(days=90)).isoformat()}
    )
    assert running_on.status_code == 422 and "years from now" in running_on.text
    form = browser.post(
        "/doses/plan",
        {
            "template": "custom",
            "start_date": "9999-12-25",
            "start_mg": "2",
            "step_mg": "0.5",
            "every_days": "90",
            "target_mg": "4.5",
        },
    )
    assert form.status_code == 422 and 'id="plan-start_date-error"' in form.text
    assert steps(api) == []


def test_a_plan_onto_a_step_of_your_own_is_409_and_changes_nothing(
    api: TestClient, session: Session, user: User
) -> None:
    make_step(session, user=user, start=date(2026, 3, 9), dose_mg=2)
    response = api.post(
        "/api/v1/dose-plan",
        json={"start_date": "2026-03-02", "template": "half_mg_weekly"},
    )
    assert response.status_code == 409
    assert [s["start_date"] for s in steps(api)] == ["2026-03-09"]


def test_a_new_plan_replaces_the_earlier_plans_future_steps(api: TestClient) -> None:
    api.post("/api/v1/dose-plan", json={"start_date": "2026-03-02", "template": "half_mg_weekly"})
    response = api.post(
        "/api/v1/dose-plan", json={"start_date": "2026-03-02", "template": "one_and_a_half_steps"}
    )
    assert response.status_code == 201
    assert [s["dose_mg"] for s in steps(api)] == [1.5, 3.0, 4.5]
    assert api.delete("/api/v1/dose-plan").status_code == 204
    assert steps(api) == []
    assert api.delete("/api/v1/dose-plan").status_code == 404


@pytest.fixture
def step_day(api: TestClient, session: Session, user: User) -> dict[str, Any]:
    """1.0 mg three weeks ago, 1.5 mg a week ago, a plan whose 2.0 mg step starts today."""
    today = patient_today(user)
    make_step(session, user=user, start=today - timedelta(days=21), dose_mg=1.0)
    make_step(session, user=user, start=today - timedelta(days=7), dose_mg=1.5)
    response = api.post(
        "/api/v1/dose-plan",
        json={
            "start_date": today.isoformat(),
            "start_mg": 2,
            "step_mg": 0.5,
            "every_days": 7,
            "target_mg": 3,
            "hold_rule": "Moderate headache two days running: hold",
        },
    )
    assert response.status_code == 201, response.text
    first: dict[str, Any] = response.json()["steps"][0]
    return first


def test_start_ends_the_planned_mark_and_is_recorded(
    api: TestClient, step_day: dict[str, Any], user: User
) -> None:
    response = api.post(f"/api/v1/dose-steps/{step_day['id']}/decision", json={"choice": "start"})
    assert response.status_code == 201, response.text
    decision = response.json()
    assert decision["choice"] == "start"
    assert decision["decided_on"] == patient_today(user).isoformat()
    assert (decision["planned_mg"], decision["dose_mg"]) == (2.0, 2.0)
    listed = {s["id"]: s for s in steps(api)}
    assert listed[step_day["id"]]["planned"] is False
    assert api.get("/api/v1/step-decisions").json() == [decision]
    again = api.post(f"/api/v1/dose-steps/{step_day['id']}/decision", json={"choice": "start"})
    assert again.status_code == 409


def test_hold_moves_the_rest_of_the_plan_by_the_days_picked(
    api: TestClient, step_day: dict[str, Any], user: User
) -> None:
    today = patient_today(user)
    before = [s["start_date"] for s in steps(api) if s["planned"]]
    response = api.post(
        f"/api/v1/dose-steps/{step_day['id']}/decision", json={"choice": "hold", "days": 5}
    )
    assert response.status_code == 201, response.text
    assert (response.json()["planned_mg"], response.json()["dose_mg"]) == (2.0, 1.5)
    after = [s["start_date"] for s in steps(api) if s["planned"]]
    assert after == [(date.fromisoformat(day) + timedelta(days=5)).isoformat() for day in before]
    assert after[0] == (today + timedelta(days=5)).isoformat()


def test_hold_needs_days(api: TestClient, step_day: dict[str, Any]) -> None:
    response = api.post(f"/api/v1/dose-steps/{step_day['id']}/decision", json={"choice": "hold"})
    assert response.status_code == 422
    assert "days" in response.text


def test_step_back_starts_the_dose_before_today(
    api: TestClient, step_day: dict[str, Any], user: User
) -> None:
    response = api.post(
        f"/api/v1/dose-steps/{step_day['id']}/decision", json={"choice": "step_back"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["dose_mg"] == 1.0
    listed = {s["id"]: s for s in steps(api)}
    assert listed[step_day["id"]]["dose_mg"] == 1.0
    assert listed[step_day["id"]]["planned"] is False


def test_a_future_step_is_not_a_step_day_yet(api: TestClient, step_day: dict[str, Any]) -> None:
    later = next(s for s in steps(api) if s["planned"] and s["id"] != step_day["id"])
    response = api.post(f"/api/v1/dose-steps/{later['id']}/decision", json={"choice": "start"})
    assert response.status_code == 409


def test_another_patients_step_is_404(
    api: TestClient, session: Session, step_day: dict[str, Any]
) -> None:
    from tests.factories import make_user

    other = make_user(session, email="other@example.org")
    theirs = make_step(session, user=other, start=date(2026, 1, 1), dose_mg=1, planned=True)
    response = api.post(f"/api/v1/dose-steps/{theirs.id}/decision", json={"choice": "start"})
    assert response.status_code == 404


def test_the_hold_rule_is_kept_and_changed(api: TestClient, step_day: dict[str, Any]) -> None:
    assert api.get("/api/v1/dose-plan").json()["hold_rule"].startswith("Moderate headache")
    response = api.patch("/api/v1/dose-plan", json={"hold_rule": "Bad sleep three nights"})
    assert response.status_code == 200
    assert api.get("/api/v1/dose-plan").json()["hold_rule"] == "Bad sleep three nights"
