"""The doctor's summary sets the plan against what happened (SPEC §13)."""

from __future__ import annotations

import io
from datetime import timedelta

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session

from app.models import User
from app.services.entries import patient_today
from tests.factories import make_entry, make_step


def test_the_summary_shows_the_plan_and_each_step_day_choice(
    api: TestClient, session: Session, user: User
) -> None:
    today = patient_today(user)
    make_step(session, user=user, start=today - timedelta(days=30), dose_mg=0)
    make_step(session, user=user, start=today - timedelta(days=14), dose_mg=1.5)
    make_entry(session, user=user, day=today - timedelta(days=1), pain=40)
    plan = api.post(
        "/api/v1/dose-plan",
        json={
            "start_date": today.isoformat(),
            "start_mg": 2,
            "step_mg": 0.5,
            "every_days": 14,
            "target_mg": 3,
        },
    ).json()
    api.post(
        f"/api/v1/dose-steps/{plan['steps'][0]['id']}/decision", json={"choice": "hold", "days": 7}
    )
    start = (today - timedelta(days=30)).isoformat()

    pdf = api.get(f"/api/v1/report.pdf?start={start}&end={today.isoformat()}")

    assert pdf.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    text = " ".join(text.split())
    assert "The plan and what happened" in text
    assert "then 0.5 mg more every 14 days, up to 3 mg" in text
    assert "stayed at 1.5 mg for now (plan: 2 mg)" in text
    assert "Still planned: 2 mg from" in text


def test_the_summary_gives_a_liquid_dose_in_ml_and_only_steps_still_to_come(
    api: TestClient, session: Session, user: User
) -> None:
    """The API gave the volume, the summary did not; and it listed planned steps already
    under way as "still planned"."""
    today = patient_today(user)
    make_step(session, user=user, start=today - timedelta(days=30), dose_mg=0)
    make_step(
        session,
        user=user,
        start=today - timedelta(days=14),
        dose_mg=1.5,
        form="liquid",
        mg_per_ml=1.0,
        dosing_time="bedtime",
    )
    make_step(session, user=user, start=today - timedelta(days=3), dose_mg=2.0, planned=True)
    make_step(session, user=user, start=today + timedelta(days=11), dose_mg=2.5, planned=True)
    for offset in range(1, 30):
        make_entry(session, user=user, day=today - timedelta(days=offset), pain=40 + offset % 7)
    start = (today - timedelta(days=30)).isoformat()

    pdf = api.get(f"/api/v1/report.pdf?start={start}&end={today.isoformat()}")

    assert pdf.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    text = " ".join(text.split())
    assert "1.5 mg (1.5 ml of liquid) at bedtime" in text
    assert "Still planned: 2.5 mg from" in text
    assert "2 mg from" not in text.split("Still planned:")[1][:40]
