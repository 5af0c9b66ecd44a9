"""GET/POST /api/v1/dose-steps, PATCH/DELETE /api/v1/dose-steps/{id}."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import DoseStep


def add(api: TestClient, **step: Any) -> dict[str, Any]:
    response = api.post("/api/v1/dose-steps", json=step)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_add_answers_201_with_an_id(api: TestClient) -> None:
    body = add(api, start_date="2026-01-19", dose_mg=1.5, dosing_time="bedtime", note="first")

    assert isinstance(body["id"], int)
    assert body == {
        "id": body["id"],
        "start_date": "2026-01-19",
        "dose_mg": 1.5,
        "dosing_time": "bedtime",
        "note": "first",
        "planned": False,
        "form": None,
        "mg_per_ml": None,
        "volume_ml": None,
    }


def test_list_is_ordered_by_start_date(api: TestClient) -> None:
    add(api, start_date="2026-02-02", dose_mg=3)
    add(api, start_date="2026-01-05", dose_mg=0)
    add(api, start_date="2026-01-19", dose_mg=1.5)

    listed = api.get("/api/v1/dose-steps").json()

    assert [(step["start_date"], step["dose_mg"]) for step in listed] == [
        ("2026-01-05", 0),
        ("2026-01-19", 1.5),
        ("2026-02-02", 3),
    ]


def test_patch_changes_only_what_is_sent(api: TestClient) -> None:
    step = add(api, start_date="2026-01-19", dose_mg=1.5, dosing_time="bedtime", note="first")

    response = api.patch(f"/api/v1/dose-steps/{step['id']}", json={"dose_mg": 2.25})

    assert response.status_code == 200
    assert response.json() == step | {"dose_mg": 2.25}
    moved = api.patch(f"/api/v1/dose-steps/{step['id']}", json={"start_date": "2026-01-20"})
    assert moved.json()["start_date"] == "2026-01-20"
    cleared = api.patch(f"/api/v1/dose-steps/{step['id']}", json={"note": None})
    assert cleared.json()["note"] is None


def test_delete(api: TestClient, session: Session) -> None:
    step = add(api, start_date="2026-01-19", dose_mg=1.5)

    assert api.delete(f"/api/v1/dose-steps/{step['id']}").status_code == 204
    assert api.get("/api/v1/dose-steps").json() == []
    assert api.delete(f"/api/v1/dose-steps/{step['id']}").status_code == 404
    assert api.patch(f"/api/v1/dose-steps/{step['id']}", json={"dose_mg": 1}).status_code == 404
    assert session.exec(select(DoseStep)).all() == []


def test_two_steps_on_one_date_is_409_when_adding(api: TestClient) -> None:
    add(api, start_date="2026-01-19", dose_mg=1.5)

    response = api.post("/api/v1/dose-steps", json={"start_date": "2026-01-19", "dose_mg": 3})

    assert response.status_code == 409
    assert "19 Jan 2026" in response.json()["detail"]
    assert len(api.get("/api/v1/dose-steps").json()) == 1


def test_two_steps_on_one_date_is_409_when_moving(api: TestClient) -> None:
    add(api, start_date="2026-01-05", dose_mg=0)
    step = add(api, start_date="2026-01-19", dose_mg=1.5)

    response = api.patch(f"/api/v1/dose-steps/{step['id']}", json={"start_date": "2026-01-05"})

    assert response.status_code == 409
    listed = api.get("/api/v1/dose-steps").json()
    assert [item["start_date"] for item in listed] == ["2026-01-05", "2026-01-19"]


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"start_date": "2026-01-19", "dose_mg": 50.5}, "dose_mg"),
    ({"start_date": "2026-01-19", "dose_mg": 51}, "dose_mg"),
    ({"start_date": "2026-01-19", "dose_mg": -1}, "dose_mg"),
    ({"start_date": "2026-01-19", "dose_mg": 1.1255}, "dose_mg"),
    ({"start_date": "2026-01-19"}, "dose_mg"),
    ({"dose_mg": 1.5}, "start_date"),
    ({"start_date": "2026-02-30", "dose_mg": 1.5}, "start_date"),
    ({"start_date": "1999-12-31", "dose_mg": 1.5}, "start_date"),
    ({"start_date": "2026-01-19", "dose_mg": 1.5, "dosing_time": "noon"}, "dosing_time"),
    ({"start_date": "2026-01-19", "dose_mg": 1.5, "note": "x" * 501}, "note"),
    ({"start_date": "2026-01-19", "dose_mg": 1.5, "colour": "blue"}, "colour"),
    # JSON numbers only: a boolean or a string is not a dose.
    ({"start_date": "2026-01-19", "dose_mg": True}, "dose_mg"),
    ({"start_date": "2026-01-19", "dose_mg": False}, "dose_mg"),
    ({"start_date": "2026-01-19", "dose_mg": "1.5"}, "dose_mg"),
]


@pytest.mark.parametrize(("step", "field"), INVALID)
def test_invalid_step_is_422_naming_the_field(
    api: TestClient, session: Session, step: dict[str, Any], field: str
) -> None:
    response = api.post("/api/v1/dose-steps", json=step)

    assert response.status_code == 422
    assert ["body", field] in [error["loc"] for error in response.json()["detail"]]
    assert session.exec(select(DoseStep)).all() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [({"dose_mg": 51}, "dose_mg"), ({"dose_mg": True}, "dose_mg"), ({"x": 1}, "x")],
)
def test_invalid_patch_is_422_and_changes_nothing(
    api: TestClient, change: dict[str, Any], field: str
) -> None:
    step = add(api, start_date="2026-01-19", dose_mg=1.5)

    response = api.patch(f"/api/v1/dose-steps/{step['id']}", json=change)

    assert response.status_code == 422
    assert ["body", field] in [error["loc"] for error in response.json()["detail"]]
    assert api.get("/api/v1/dose-steps").json() == [step]


@pytest.mark.parametrize("step_id", ["0", "-1", str(2**63), "99999999999999999999999"])
def test_an_impossible_step_id_is_simply_not_found(api: TestClient, step_id: str) -> None:
    assert api.patch(f"/api/v1/dose-steps/{step_id}", json={"dose_mg": 1}).status_code == 404
    assert api.delete(f"/api/v1/dose-steps/{step_id}").status_code == 404


def test_a_step_far_in_the_future_is_refused_by_name(api: TestClient) -> None:
    response = api.post("/api/v1/dose-steps", json={"start_date": "9999-01-01", "dose_mg": 1.5})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "start_date"


def test_the_schedule_holds_a_bounded_number_of_steps(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services import dose_steps

    monkeypatch.setattr(dose_steps, "MAX_STEPS", 3)
    for day in ("2026-01-01", "2026-01-08", "2026-01-15"):
        assert (
            api.post("/api/v1/dose-steps", json={"start_date": day, "dose_mg": 1}).status_code
            == 201
        )
    response = api.post("/api/v1/dose-steps", json={"start_date": "2026-01-22", "dose_mg": 1})
    assert response.status_code == 409
    assert "3 steps" in response.json()["detail"]


def test_a_plan_cannot_take_the_schedule_past_its_limit(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services import dose_steps

    monkeypatch.setattr(dose_steps, "MAX_STEPS", 3)
    plan = {
        "start_date": "2026-03-01",
        "start_mg": 0.5,
        "step_mg": 0.5,
        "every_days": 7,
        "target_mg": 4.5,
    }
    response = api.post("/api/v1/dose-plan", json=plan)
    assert response.status_code == 422
    assert "3 steps" in response.json()["detail"]
    assert api.get("/api/v1/dose-steps").json() == []
