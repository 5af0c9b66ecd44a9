"""GET /api/v1/comparison: the SPEC §4.1 fields and ?reference= (SPEC §8)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import DoseStep, User
from app.services.entries import patient_today
from tests.factories import make_entry, make_step, make_user


def three_steps(session: Session, user: User) -> list[DoseStep]:
    """Baseline pain 60, then 3 mg (pain 40), then 4.5 mg (pain 45), 21 days each."""
    start = patient_today(user) - timedelta(days=62)
    steps = [
        make_step(session, user=user, start=start, dose_mg=0),
        make_step(session, user=user, start=start + timedelta(days=21), dose_mg=3),
        make_step(session, user=user, start=start + timedelta(days=42), dose_mg=4.5),
    ]
    for offset in range(63):
        level = 60 if offset < 21 else 40 if offset < 42 else 45
        make_entry(
            session,
            user=user,
            day=start + timedelta(days=offset),
            pain=level + (offset % 3) - 1,
            fatigue=50 + (offset % 2),
            sleep_quality=40 + (offset % 2),
        )
    return steps


def test_comparison_has_the_new_fields(api: TestClient, session: Session, user: User):
    three_steps(session, user)
    body = api.get("/api/v1/comparison").json()
    assert body["primary_item"] == "pain"
    assert body["reference_step_id"] == body["steps"][0]["step_id"]
    dose = body["steps"][1]
    assert dose["headline"] == ["pain"]
    assert dose["comparisons"] == 3
    pain = dose["items"]["pain"]
    assert pain["verdict"] == "improved" and pain["cautions"] == []
    assert set(pain["days_to_detect"]) == {"10", "15", "20"}
    assert pain["more_days"] is None
    assert dose["responder"] is False  # neither fatigue nor sleep improved


def test_any_step_can_be_the_reference(api: TestClient, session: Session, user: User):
    steps = three_steps(session, user)
    body = api.get(f"/api/v1/comparison?reference={steps[2].id}").json()
    assert body["reference_step_id"] == steps[2].id
    baseline, three_mg, reference = body["steps"]
    assert reference["is_reference"] and reference["items"]["pain"]["verdict"] == "reference"
    # 3 mg against 4.5 mg: five points less pain; the baseline is fifteen points more.
    assert three_mg["items"]["pain"]["diff_vs_baseline"] == -5.0
    assert baseline["items"]["pain"]["verdict"] == "worse"
    assert three_mg["responder"] is None


def test_reference_must_be_the_patients_own_step(api: TestClient, session: Session, user: User):
    three_steps(session, user)
    other = make_user(session, email="other@example.org")
    theirs = make_step(session, user=other, start=patient_today(other), dose_mg=1.5)
    response = api.get(f"/api/v1/comparison?reference={theirs.id}")
    assert response.status_code == 404
    assert api.get("/api/v1/comparison?reference=999999").status_code == 404
    assert api.get("/api/v1/comparison?reference=abc").status_code == 422
