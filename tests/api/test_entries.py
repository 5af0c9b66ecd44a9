"""PUT/GET/DELETE /api/v1/entries/{date}, the range list and the all-or-nothing batch."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, select

from app.items import RATED_KEYS, SIDE_EFFECT_KEYS
from app.models import DiaryEntry, EntryRevision, User
from app.schemas import MAX_BATCH_DAYS
from app.services import entries as entries_service
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
    # Every built-in or tracked side effect, null when unanswered.
    assert set(body["side_effects"]) == set(SIDE_EFFECT_KEYS)
    assert all(value is None for value in body["side_effects"].values())
    assert set(body["ratings"]) == set(RATED_KEYS)
    assert body["ratings"]["pain"] == 0
    assert all(value is None for key, value in body["ratings"].items() if key != "pain")
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
    assert (stored.ratings.get("pain"), stored.ratings.get("fatigue"), stored.dose_taken) == (
        None,
        60,
        None,
    )


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


def test_a_blank_range_value_is_the_same_as_leaving_it_out(
    api: TestClient, session: Session, user: User
) -> None:
    for day in (10, 11, 12):
        make_entry(session, user=user, day=date(2026, 3, day), pain=day)

    def days(query: str) -> list[str]:
        response = api.get(f"/api/v1/entries{query}")
        assert response.status_code == 200, response.text
        return [entry["date"] for entry in response.json()]

    every_day = ["2026-03-10", "2026-03-11", "2026-03-12"]
    assert days("?start=&end=") == every_day  # written exactly as in SPEC §8
    assert days("?start=%20&end=") == every_day
    assert days("?start=&end=2026-03-11") == ["2026-03-10", "2026-03-11"]
    assert days("?start=2026-03-11&end=") == ["2026-03-11", "2026-03-12"]
    assert api.get("/api/v1/entries?start=soon&end=").status_code == 422
    backwards = api.get("/api/v1/entries?start=2026-03-12&end=2026-03-11")
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["loc"] == ["query", "end"]


def test_a_whole_number_dose_is_a_dose(api: TestClient) -> None:
    response = api.put(f"/api/v1/entries/{DAY}", json={"dose_mg": 3, "dose_taken": True})

    assert response.status_code == 201
    assert (response.json()["dose_mg"], response.json()["dose_taken"]) == (3.0, True)


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
    ({"dose_mg": 1.5555}, ["body", "dose_mg"]),
    ({"dose_mg": 51}, ["body", "dose_mg"]),
    ({"dose_mg": -0.5}, ["body", "dose_mg"]),
    ({"dose_taken": "maybe"}, ["body", "dose_taken"]),
    # Strict types: JSON numbers for the dose, real booleans for dose_taken.
    ({"dose_taken": "yes"}, ["body", "dose_taken"]),
    ({"dose_taken": "1"}, ["body", "dose_taken"]),
    ({"dose_taken": 1}, ["body", "dose_taken"]),
    ({"dose_mg": True}, ["body", "dose_mg"]),
    ({"dose_mg": "1.5"}, ["body", "dose_mg"]),
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
    assert (stored.ratings.get("pain"), stored.notes) == (30, "kept")
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


def test_a_batch_is_one_transaction_that_reads_nothing_back(
    app: FastAPI, api: TestClient, session: Session, user: User
) -> None:
    """Every other patient's save waits while a batch writes (on SQLite, the one writer): the
    batch reads its days once, in one statement of its own transaction, and reads nothing after
    its commit."""
    make_entry(session, user=user, day=date(2026, 3, 1), pain=10)
    transactions: list[object] = []
    day_reads: list[str] = []

    def began(connection):
        transactions.append(connection)

    def statement(connection, cursor, sql, parameters, context, executemany):
        if sql.lstrip().upper().startswith("SELECT") and "FROM diary_entry" in sql:
            day_reads.append(sql)

    writer = app.state.database.writer
    event.listen(writer, "begin", began)
    event.listen(writer, "before_cursor_execute", statement)
    try:
        response = api.post(
            "/api/v1/entries/batch",
            json={
                "entries": [
                    {"date": "2026-03-01", "pain": 15},
                    {"date": "2026-03-02", "pain": 20, "side_effects": {"insomnia": 2}},
                    {"date": "2026-03-03", "pain": 30, "notes": "slept"},
                ]
            },
        )
    finally:
        event.remove(writer, "begin", began)
        event.remove(writer, "before_cursor_execute", statement)
    assert response.status_code == 200, response.text
    assert len(transactions) == 1
    assert len(day_reads) == 1, day_reads
    returned = {entry["date"]: entry for entry in response.json()["entries"]}
    for day, saved in returned.items():
        assert saved == api.get(f"/api/v1/entries/{day}").json()
    assert returned["2026-03-02"]["side_effects"]["insomnia"] == 2
    assert returned["2026-03-03"]["notes"] == "slept"


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
    assert [
        (entry.day, entry.ratings.get("pain")) for entry in session.exec(select(DiaryEntry))
    ] == [(date(2026, 3, 1), 10)]
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


def test_a_batch_of_more_than_a_hundred_days_is_refused_naming_the_list(
    api: TestClient, user: User
) -> None:
    first = patient_today(user) - timedelta(days=200)
    days = [
        {"date": (first + timedelta(days=offset)).isoformat(), "pain": offset % 101}
        for offset in range(MAX_BATCH_DAYS + 1)
    ]
    refused = api.post("/api/v1/entries/batch", json={"entries": days})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "entries"]
    assert api.get("/api/v1/entries").json() == []
    saved = api.post("/api/v1/entries/batch", json={"entries": days[:MAX_BATCH_DAYS]})
    assert saved.status_code == 200, saved.text
    assert saved.json()["created"] == MAX_BATCH_DAYS == 100


def test_a_full_batch_reads_all_its_days_in_one_statement(
    app: FastAPI, api: TestClient, session: Session, user: User
) -> None:
    """100 days, 30 of them already saved: one read of all the days, an insert for each new
    day, and for each replaced day its kept version and its update. Each day was read in a
    statement of its own: 200 statements for 100 new days, where SQLite gives up Python's
    interpreter lock for each (bench/write_lock.py)."""
    first = patient_today(user) - timedelta(days=150)
    days = [first + timedelta(days=offset) for offset in range(MAX_BATCH_DAYS)]
    for day in days[::10] + days[1::10] + days[2::10]:
        make_entry(session, user=user, day=day, pain=1)
    statements: list[str] = []

    def note(connection, cursor, sql, parameters, context, executemany):
        statements.append(" ".join(sql.split()[:3]).upper())

    writer = app.state.database.writer
    event.listen(writer, "before_cursor_execute", note)
    try:
        response = api.post(
            "/api/v1/entries/batch",
            json={"entries": [{"date": day.isoformat(), "pain": 50} for day in days]},
        )
    finally:
        event.remove(writer, "before_cursor_execute", note)
    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["replaced"]) == (70, 30)
    assert statements.count("SELECT DIARY_ENTRY.ID, DIARY_ENTRY.USER_ID,") == 1
    assert statements.count("INSERT INTO DIARY_ENTRY") == 70
    assert statements.count("INSERT INTO ENTRY_REVISION") == 30
    assert statements.count("UPDATE DIARY_ENTRY SET") == 30
    saved = api.get("/api/v1/entries").json()
    assert [entry["date"] for entry in saved] == [day.isoformat() for day in days]
    assert {entry["ratings"]["pain"] for entry in saved} == {50}
    returned = {entry["date"]: entry for entry in response.json()["entries"]}
    assert returned == {entry["date"]: entry for entry in saved}


def test_a_new_day_of_a_batch_saved_meanwhile_by_another_process_becomes_an_edit_of_it(
    api: TestClient, session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another app process saves a day's first version after the batch read its days
    (PostgreSQL: nothing locks a row that does not exist yet). The batch's insert of the day
    leaves that row alone, and the batch's version replaces it, keeping it in the history, as
    a single save does."""
    make_entry(session, user=user, day=date(2026, 3, 2), pain=10)
    read = entries_service._locked_days

    def read_before_the_other_process_saved(connection, **where):
        found = read(connection, **where)
        found.pop(date(2026, 3, 2))
        return found

    monkeypatch.setattr(entries_service, "_locked_days", read_before_the_other_process_saved)
    response = api.post(
        "/api/v1/entries/batch",
        json={"entries": [{"date": "2026-03-01", "pain": 5}, {"date": "2026-03-02", "pain": 20}]},
    )
    assert response.status_code == 200, response.text
    assert [item["status"] for item in response.json()["results"]] == ["created", "replaced"]
    assert api.get("/api/v1/entries/2026-03-02").json()["ratings"]["pain"] == 20
    kept = session.exec(select(EntryRevision).where(EntryRevision.day == date(2026, 3, 2))).all()
    assert [revision.data["pain"] for revision in kept] == [10]
    assert len(session.exec(select(DiaryEntry)).all()) == 2


def test_batch_rejects_an_unknown_top_level_key_and_an_empty_list(api: TestClient) -> None:
    extra = api.post(
        "/api/v1/entries/batch", json={"entries": [{"date": DAY, "pain": 1}], "force": True}
    )
    empty = api.post("/api/v1/entries/batch", json={"entries": []})

    assert extra.status_code == 422
    assert ["body", "force"] in [error["loc"] for error in extra.json()["detail"]]
    assert empty.status_code == 422
    assert ["body", "entries"] in [error["loc"] for error in empty.json()["detail"]]


def test_batch_with_the_same_date_twice_is_422_naming_the_repeat_and_writes_nothing(
    api: TestClient, session: Session, user: User
) -> None:
    make_entry(session, user=user, day=date(2026, 3, 1), pain=10)
    batch = [
        {"date": "2026-03-01", "pain": 11},
        {"date": "2026-03-02", "pain": 20},
        {"date": "2026-03-01", "pain": 12},
    ]

    response = api.post("/api/v1/entries/batch", json={"entries": batch})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "entries", 2, "date"]
    assert "once" in error["msg"]
    session.expire_all()
    assert [
        (entry.day, entry.ratings.get("pain")) for entry in session.exec(select(DiaryEntry))
    ] == [(date(2026, 3, 1), 10)]
    assert session.exec(select(EntryRevision)).all() == []


# --- device edits through the API: retrospective, older edits, deleted days ----------------


def device(edited_at: str, **answers: Any) -> dict[str, Any]:
    return {"client_id": "script", "client_edited_at": edited_at, **answers}


def test_a_backdated_device_time_does_not_make_an_api_save_timely(
    api: TestClient, user: User
) -> None:
    day = patient_today(user) - timedelta(days=30)

    response = api.put(f"/api/v1/entries/{day}", json=device(f"{day}T20:00:00Z", pain=30))

    assert response.status_code == 201
    assert response.json()["retrospective"] is True
    assert api.get(f"/api/v1/entries/{day}").json()["retrospective"] is True


def test_put_of_an_edit_older_than_the_day_is_409_and_kept_in_its_history(
    api: TestClient, session: Session
) -> None:
    assert api.put(f"/api/v1/entries/{DAY}", json={"pain": 40}).status_code == 201
    older = device("2026-03-10T08:00:00Z", pain=80)

    response = api.put(f"/api/v1/entries/{DAY}", json=older)
    again = api.put(f"/api/v1/entries/{DAY}", json=older)

    assert response.status_code == 409
    assert "newer version" in response.json()["detail"]
    assert again.status_code == 409
    assert api.get(f"/api/v1/entries/{DAY}").json()["pain"] == 40
    history = api.get(f"/api/v1/entries/{DAY}/revisions").json()
    assert [(item["reason"], item["data"]["pain"]) for item in history] == [("superseded", 80)]


def test_put_of_an_edit_made_before_the_day_was_deleted_is_409_and_stays_deleted(
    api: TestClient,
) -> None:
    edit = device("2026-03-10T08:00:00Z", pain=30)
    assert api.put(f"/api/v1/entries/{DAY}", json=edit).status_code == 201
    assert api.delete(f"/api/v1/entries/{DAY}").status_code == 204

    response = api.put(f"/api/v1/entries/{DAY}", json=edit)

    assert response.status_code == 409
    assert "deleted" in response.json()["detail"]
    assert api.get(f"/api/v1/entries/{DAY}").status_code == 404
    # A new edit, without an older device time, brings the day back.
    assert api.put(f"/api/v1/entries/{DAY}", json={"pain": 35}).status_code == 201


def test_batch_reports_an_older_edit_as_superseded_not_unchanged(
    api: TestClient, session: Session, user: User
) -> None:
    make_entry(session, user=user, day=date(2026, 3, 1), pain=10)
    api.put("/api/v1/entries/2026-03-02", json={"pain": 20})
    batch = [
        {"date": "2026-03-01", "pain": 10},
        {"date": "2026-03-02", **device("2026-03-02T08:00:00Z", pain=25)},
        {"date": "2026-03-03", "pain": 30},
    ]

    response = api.post("/api/v1/entries/batch", json={"entries": batch})

    assert response.status_code == 200
    body = response.json()
    counts = {key: body[key] for key in ("created", "replaced", "unchanged", "superseded")}
    assert counts == {"created": 1, "replaced": 0, "unchanged": 1, "superseded": 1}
    assert body["stays_deleted"] == 0
    assert [(item["date"], item["status"]) for item in body["results"]] == [
        ("2026-03-01", "unchanged"),
        ("2026-03-02", "superseded"),
        ("2026-03-03", "created"),
    ]
    assert [entry["pain"] for entry in body["entries"]] == [10, 20, 30]


def test_batch_reports_a_day_that_stays_deleted(api: TestClient) -> None:
    edit = device("2026-03-02T08:00:00Z", pain=25)
    api.put("/api/v1/entries/2026-03-02", json=edit)
    api.delete("/api/v1/entries/2026-03-02")

    response = api.post(
        "/api/v1/entries/batch",
        json={"entries": [{"date": "2026-03-01", "pain": 1}, {"date": "2026-03-02", **edit}]},
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["stays_deleted"]) == (1, 1)
    assert [item["status"] for item in body["results"]] == ["created", "stays_deleted"]
    assert [entry["date"] for entry in body["entries"]] == ["2026-03-01"]
    assert api.get("/api/v1/entries/2026-03-02").status_code == 404
