"""The plan, step-day answers and reminder times travel in the JSON backup (SPEC §13)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import User
from app.services.entries import patient_today
from tests.factories import PASSWORD, make_step, make_user


def token_for(client: TestClient, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_plan_decisions_and_reminders_come_back_after_import(
    api: TestClient, client: TestClient, session: Session, user: User
) -> None:
    today = patient_today(user)
    make_step(session, user=user, start=today - timedelta(days=14), dose_mg=1.0)
    plan = api.post(
        "/api/v1/dose-plan",
        json={
            "start_date": today.isoformat(),
            "start_mg": 1.5,
            "step_mg": 0.5,
            "every_days": 7,
            "target_mg": 2.5,
            "form": "liquid",
            "mg_per_ml": 0.5,
            "hold_rule": "Two bad nights: hold a week",
        },
    ).json()
    decided = api.post(
        f"/api/v1/dose-steps/{plan['steps'][0]['id']}/decision", json={"choice": "hold", "days": 3}
    )
    assert decided.status_code == 201
    reminders = {
        "diary": {"enabled": True, "time": "19:45"},
        "dose": {"enabled": False, "time": "22:15"},
        "step_day": True,
    }
    api.put("/api/v1/reminders", json=reminders)
    backup: dict[str, Any] = api.get("/api/v1/export").json()
    assert backup["dose_plan"]["hold_rule"] == "Two bad nights: hold a week"
    assert [d["choice"] for d in backup["step_decisions"]] == ["hold"]
    assert backup["reminders"] == reminders
    assert [s["planned"] for s in backup["dose_steps"]] == [False, True, True, True]

    other = make_user(session, email="new-phone@example.org")
    headers = token_for(client, other.email)
    dry = client.post("/api/v1/import?dry_run=true", json=backup, headers=headers)
    assert dry.status_code == 200, dry.text
    assert dry.json()["step_decisions_added"] == 1
    assert dry.json()["dose_plan_restored"] is True
    done = client.post("/api/v1/import", json=backup, headers=headers)
    assert done.status_code == 200, done.text

    again: dict[str, Any] = client.get("/api/v1/export", headers=headers).json()
    for key in ("dose_plan", "reminders", "dose_steps"):
        assert _without_stamps(again[key]) == _without_stamps(backup[key]), key
    assert _without_stamps(again["step_decisions"]) == _without_stamps(backup["step_decisions"])
    steps = client.get("/api/v1/dose-steps", headers=headers).json()
    assert [s["volume_ml"] for s in steps][1:] == [3.0, 4.0, 5.0]
    # Importing the same file twice adds nothing more.
    twice = client.post("/api/v1/import?dry_run=true", json=backup, headers=headers).json()
    assert twice["step_decisions_added"] == 0


def test_a_bad_plan_in_a_backup_is_refused_by_name(api: TestClient) -> None:
    backup = api.get("/api/v1/export").json()
    backup["dose_plan"] = {"every_days": 0, "hold_rule": "x\x00"}
    backup["step_decisions"] = [
        {"decided_on": "2026-01-05", "choice": "maybe", "planned_mg": 1, "dose_mg": 1}
    ]
    response = api.post("/api/v1/import", json=backup)
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["detail"]}
    assert {"dose_plan.every_days", "dose_plan.hold_rule", "step_decisions[0].choice"} <= fields


def _without_stamps(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_stamps(item) for item in value]
    if isinstance(value, dict):
        return {
            k: _without_stamps(v) for k, v in value.items() if k not in ("created_at", "updated_at")
        }
    return value
