"""PUT/GET/DELETE /api/v1/entries/{date}, the range list and the all-or-nothing batch."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.items import RATED_KEYS, SIDE_EFFECT_KEYS
from app.models import DiaryEntry, EntryRevision, User
from app.services.entries import patient_today
from tests.factories import make_entry, make_step

DAY = "2026-03-10"


def test_put_creates_then_replaces(api: TestClient) -> None:
    created = api.put(f"/api/v1/entries/{DAY}", json={"pain": 40, "side_effects": {"nausea": 1}})
    replaced = api.put(f"/api/v1/entries/{DAY}", json={"pain": 45})

    assert created.status_code == 201
    assert replaced.status_code == 200
    body = replaced.json()
    assert body["date"] == DAY
    assert body["pain"] == 45
    assert body["side_effects"]["nausea"] is None
    assert body["source"] == "api"


def test_an_entry_has_the_spec_keys_and_unanswered_is_null(api: TestClient) -> None:
    body = api.put(f"/api/v1/entries/{DAY}", json={"pain": 0}).json()

    assert body["pain"] == 0
    for key in RATED_KEYS:
        assert key in body
        if key != "pain":
            assert body[key] is None, key
    assert set(body["side_effects"]) == set(SIDE_EFFECT_KEYS)
    assert all(value is None for value in body["side_effects"].values())
    for key in ("dose_taken", "dose_time", "dose_mg", "notes", "tolerability", "pgic"):
        assert body[key] is None, key


def test_every_field_round_trips(api: TestClient) -> None:
    entry: dict[str, Any] = {key: index * 10 for index, key in enumerate(RATED_KEYS)}
    entry |= {
        "side_effects": {key: index % 4 for index, key in enumerate(SIDE_EFFECT_KEYS)},
        "other_text": "dry mouth",
        "dose_taken": False,
        "dose_time": "22:15",
        "dose_mg": 1.75,
        "notes": "Slept badly; busy day",
        "tolerability": 90,
        "pgic": 3,
    }
    api.put(f"/api/v1/entries/{DAY}", json=entry)

    body = api.get(f"/api/v1/entries/{DAY}").json()

    assert {key: body[key] for key in entry} == entry


def test_null_clears_an_answer(api: TestClient, session: Session) -> None:
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 40, "fatigue": 60, "dose_taken": True})

    response = api.put(
        f"/api/v1/entries/{DAY}", json={"pain": None, "fatigue": 60, "dose_taken": None}
    )

    assert response.status_code == 200
    assert response.json()["pain"] is None
    assert response.json()["dose_taken"] is None
    stored = session.exec(select(DiaryEntry)).one()
    assert (stored.pain, stored.fatigue, stored.dose_taken) == (None, 60, None)


def test_the_entry_says_which_dose_the_schedule_set(
    api: TestClient, session: Session, user: User
) -> None:
    make_step(session, user=user, start=date(2026, 3, 1), dose_mg=1.5)

    body = api.put(f"/api/v1/entries/{DAY}", json={"pain": 30}).json()

    assert body["scheduled_dose_mg"] == 1.5
    assert body["dose_mg"] is None


def test_get_and_delete(api: TestClient, session: Session) -> None:
    assert api.get(f"/api/v1/entries/{DAY}").status_code == 404
    api.put(f"/api/v1/entries/{DAY}", json={"mood": 70})

    assert api.get(f"/api/v1/entries/{DAY}").json()["mood"] == 70
    assert api.delete(f"/api/v1/entries/{DAY}").status_code == 204
    assert api.get(f"/api/v1/entries/{DAY}").status_code == 404
    assert api.delete(f"/api/v1/entries/{DAY}").status_code == 404
    assert session.exec(select(DiaryEntry)).all() == []
    # The deleted version is kept.
    assert session.exec(select(EntryRevision)).one().data["mood"] == 70


def test_list_is_ordered_and_its_range_inclusive(
    api: TestClient, session: Session, user: User
) -> None:
    for day in (12, 10, 11, 14, 13):
        make_entry(session, user=user, day=date(2026, 3, day), pain=day)

    def days(query: str) -> list[str]:
        response = api.get(f"/api/v1/entries{query}")
        assert response.status_code == 200
        return [entry["date"] for entry in response.json()]

    assert days("") == [f"2026-03-{day}" for day in range(10, 15)]
    assert days("?start=2026-03-11&end=2026-03-13") == ["2026-03-11", "2026-03-12", "2026-03-13"]
    assert days("?start=2026-03-13") == ["2026-03-13", "2026-03-14"]
    assert days("?end=2026-03-10") == ["2026-03-10"]
    assert days("?start=2026-03-15") == []
    assert api.get("/api/v1/entries?start=2026-02-30").status_code == 422


# --- validation: 422 naming the field, nothing written ------------------------------------

INVALID: list[tuple[dict[str, Any], list[str]]] = [
    ({"pain": 101}, ["body", "pain"]),
    ({"pain": -1}, ["body", "pain"]),
    ({"life_satisfaction": 1000}, ["body", "life_satisfaction"]),
    ({"pain": 50.5}, ["body", "pain"]),
    ({"pain": "50"}, ["body", "pain"]),
    ({"pain": True}, ["body", "pain"]),
    ({"side_effects": {"headache": 4}}, ["body", "side_effects", "headache"]),
    ({"side_effects": {"headache": -1}}, ["body", "side_effects", "headache"]),
    ({"side_effects": {"hair_loss": 1}}, ["body", "side_effects", "hair_loss"]),
    ({"pgic": 8}, ["body", "pgic"]),
    ({"pgic": 0}, ["body", "pgic"]),
    ({"tolerability": 101}, ["body", "tolerability"]),
    ({"notes": "x" * 2001}, ["body", "notes"]),
    ({"other_text": "x" * 201}, ["body", "other_text"]),
    ({"pain": 5, "mood_swings": 3}, ["body", "mood_swings"]),
    ({}, ["body"]),
    ({"notes": "   "}, ["body"]),
    ({"dose_time": "25:00"}, ["body", "dose_time"]),
    ({"dose_time": "9pm"}, ["body", "dose_time"]),
    ({"dose_mg": 1.555}, ["body", "dose_mg"]),
    ({"dose_mg": 51}, ["body", "dose_mg"]),
    ({"dose_mg": -0.5}, ["body", "dose_mg"]),
    ({"dose_taken": "maybe"}, ["body", "dose_taken"]),
]


@pytest.mark.parametrize(("entry", "loc"), INVALID)
def test_invalid_entry_is_422_naming_the_field_and_writes_nothing(
    api: TestClient, session: Session, entry: dict[str, Any], loc: list[str]
) -> None:
    response = api.put(f"/api/v1/entries/{DAY}", json=entry)

    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["detail"]]
    assert session.exec(select(DiaryEntry)).all() == []


@pytest.mark.parametrize(
    "edited_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "1999-12-31T23:00:00Z"]
)
def test_an_impossible_device_edit_time_is_422(
    api: TestClient, session: Session, edited_at: str
) -> None:
    entry = {"pain": 1, "client_id": "phone", "client_edited_at": edited_at}

    response = api.put(f"/api/v1/entries/{DAY}", json=entry)

    assert response.status_code == 422
    assert ["body", "client_edited_at"] in [error["loc"] for error in response.json()["detail"]]
    assert session.exec(select(DiaryEntry)).all() == []


@pytest.mark.parametrize(("entry", "loc"), INVALID[:3] + INVALID[15:17])
def test_invalid_entry_leaves_the_saved_day_as_it_was(
    api: TestClient, session: Session, entry: dict[str, Any], loc: list[str]
) -> None:
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 30, "notes": "kept"})

    assert api.put(f"/api/v1/entries/{DAY}", json=entry).status_code == 422

    stored = session.exec(select(DiaryEntry)).one()
    assert (stored.pain, stored.notes) == (30, "kept")
    assert session.exec(select(EntryRevision)).all() == []


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "yesterday", "2026-3-1"])
def test_an_impossible_date_is_422(api: TestClient, session: Session, day: str) -> None:
    response = api.put(f"/api/v1/entries/{day}", json={"pain": 10})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "date"]
    assert session.exec(select(DiaryEntry)).all() == []


def test_days_after_tomorrow_and_before_2000_are_refused(
    api: TestClient, session: Session, user: User
) -> None:
    tomorrow = patient_today(user) + timedelta(days=1)

    assert api.put(f"/api/v1/entries/{tomorrow}", json={"pain": 1}).status_code == 201
    for day in (tomorrow + timedelta(days=1), date(1999, 12, 31)):
        response = api.put(f"/api/v1/entries/{day}", json={"pain": 1})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["path", "date"]
    assert len(session.exec(select(DiaryEntry)).all()) == 1


# --- batch ---------------------------------------------------------------------------------


def test_batch_saves_all(api: TestClient, session: Session, user: User) -> None:
    make_entry(session, user=user, day=date(2026, 3, 1), pain=10)
    make_entry(session, user=user, day=date(2026, 3, 2), pain=20)

    response = api.post(
        "/api/v1/entries/batch",
        json={
            "entries": [
                {"date": "2026-03-01", "pain": 15},
                {"date": "2026-03-02", "pain": 20},
                {"date": "2026-03-03", "pain": 30, "side_effects": {"insomnia": 2}},
            ]
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["replaced"], body["unchanged"]) == (1, 1, 1)
    assert [entry["pain"] for entry in body["entries"]] == [15, 20, 30]
    listed = api.get("/api/v1/entries").json()
    assert [(entry["date"], entry["pain"]) for entry in listed] == [
        ("2026-03-01", 15),
        ("2026-03-02", 20),
        ("2026-03-03", 30),
    ]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"date": "2026-03-03", "pain": 101}, "pain"),
        ({"date": "2026-03-03", "side_effects": {"rash": 1}}, "side_effects"),
        ({"date": "2026-03-03"}, None),
        ({"date": "2026-02-30", "pain": 1}, "date"),
        ({"pain": 1}, "date"),
        ({"date": "2026-03-03", "notes": "x" * 2001}, "notes"),
    ],
)
def test_batch_with_one_bad_entry_writes_nothing(
    api: TestClient, session: Session, user: User, bad: dict[str, Any], field: str | None
) -> None:
    make_entry(session, user=user, day=date(2026, 3, 1), pain=10)
    good = [{"date": "2026-03-01", "pain": 99}, {"date": "2026-03-02", "pain": 20}]

    response = api.post("/api/v1/entries/batch", json={"entries": [*good, bad]})

    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    expected = ["body", "entries", 2] + ([field] if field else [])
    assert any(loc[: len(expected)] == expected for loc in locs), locs
    session.expire_all()
    assert [(entry.day, entry.pain) for entry in session.exec(select(DiaryEntry))] == [
        (date(2026, 3, 1), 10)
    ]
    assert session.exec(select(EntryRevision)).all() == []


@pytest.mark.parametrize("position", [0, 1])
def test_batch_with_a_future_day_writes_nothing(
    api: TestClient, session: Session, user: User, position: int
) -> None:
    future = (patient_today(user) + timedelta(days=2)).isoformat()
    batch: list[dict[str, Any]] = [{"date": "2026-03-01", "pain": 1}]
    batch.insert(position, {"date": future, "pain": 1})

    response = api.post("/api/v1/entries/batch", json={"entries": batch})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "entries", position, "date"]
    assert session.exec(select(DiaryEntry)).all() == []


def test_batch_rejects_an_unknown_top_level_key_and_an_empty_list(api: TestClient) -> None:
    extra = api.post(
        "/api/v1/entries/batch", json={"entries": [{"date": DAY, "pain": 1}], "force": True}
    )
    empty = api.post("/api/v1/entries/batch", json={"entries": []})

    assert extra.status_code == 422
    assert ["body", "force"] in [error["loc"] for error in extra.json()["detail"]]
    assert empty.status_code == 422
    assert ["body", "entries"] in [error["loc"] for error in empty.json()["detail"]]
