"""Another patient's entry or dose step is 404 through the API, exactly like a missing one."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import DiaryEntry, DoseStep, User
from tests.factories import PASSWORD, make_entry, make_step, make_user


@pytest.fixture
def intruder(client: TestClient, session: Session) -> dict[str, str]:
    """Authorization headers of a second patient."""
    other = make_user(session, email="intruder@example.org")
    response = client.post("/api/v1/auth/token", json={"email": other.email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def owned(session: Session, user: User) -> tuple[DiaryEntry, DoseStep]:
    entry = make_entry(session, user=user, day=date(2026, 3, 10), pain=40, notes="mine")
    step = make_step(session, user=user, start=date(2026, 3, 1), dose_mg=1.5)
    return entry, step


def test_another_patients_entry_is_404(
    api: TestClient, intruder: dict[str, str], owned: tuple[DiaryEntry, DoseStep]
) -> None:
    theirs = api.get("/api/v1/entries/2026-03-10", headers=intruder)
    missing = api.get("/api/v1/entries/2026-03-11", headers=intruder)

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert api.delete("/api/v1/entries/2026-03-10", headers=intruder).status_code == 404
    assert api.get("/api/v1/entries", headers=intruder).json() == []
    batch = {"entries": [{"date": "2026-03-10", "pain": 1}]}
    assert api.post("/api/v1/entries/batch", headers=intruder, json=batch).status_code == 200
    # The intruder's own day with the same date is theirs: the batch created it.
    put = api.put("/api/v1/entries/2026-03-10", headers=intruder, json={"pain": 2})
    assert put.status_code == 200

    mine = api.get("/api/v1/entries/2026-03-10")
    assert (mine.json()["pain"], mine.json()["notes"]) == (40, "mine")
    assert len(api.get("/api/v1/entries").json()) == 1


def test_another_patients_dose_step_is_404(
    api: TestClient, intruder: dict[str, str], owned: tuple[DiaryEntry, DoseStep]
) -> None:
    _, step = owned
    url = f"/api/v1/dose-steps/{step.id}"

    patched = api.patch(url, headers=intruder, json={"dose_mg": 50})
    missing = api.patch("/api/v1/dose-steps/999999", headers=intruder, json={"dose_mg": 50})

    assert patched.status_code == missing.status_code == 404
    assert patched.json() == missing.json()
    assert api.delete(url, headers=intruder).status_code == 404
    assert api.get("/api/v1/dose-steps", headers=intruder).json() == []
    # Their own step on the same date does not clash with someone else's.
    same_day = {"start_date": "2026-03-01", "dose_mg": 3}
    assert api.post("/api/v1/dose-steps", headers=intruder, json=same_day).status_code == 201

    assert [(s["id"], s["dose_mg"]) for s in api.get("/api/v1/dose-steps").json()] == [
        (step.id, 1.5)
    ]


def test_entries_show_the_owners_schedule_only(
    api: TestClient, intruder: dict[str, str], owned: tuple[DiaryEntry, DoseStep]
) -> None:
    body = api.put("/api/v1/entries/2026-03-12", headers=intruder, json={"pain": 5}).json()

    assert body["scheduled_dose_mg"] is None
