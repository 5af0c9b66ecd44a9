"""The JSON backup: every stored field out, back in losslessly, all or nothing, with a preview."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.items import RATED_KEYS, SIDE_EFFECT_KEYS
from app.models import DiaryEntry, DoseStep, EntryRevision, User
from app.schemas import EntryAnswers
from app.services import backup, entries
from app.services.entries import patient_today

BACKUP_FORMAT_DOC = Path(__file__).resolve().parents[2] / "docs" / "backup-format.md"
ENTRY_KEYS = {
    "date",
    *RATED_KEYS,
    "ratings",
    "side_effects",
    "other_text",
    "dose_taken",
    "dose_time",
    "dose_mg",
    "notes",
    "tolerability",
    "pgic",
    "source",
    "retrospective",
    "created_at",
    "updated_at",
    "client_id",
    "client_edited_at",
}


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """A backup without what legitimately differs between two accounts and two exports."""
    return {key: value for key, value in document.items() if key not in ("exported_at", "account")}


def build_diary(api: TestClient) -> None:
    """Steps, days from the web-less API and from a phone's outbox, edits and a deletion."""
    assert api.post(
        "/api/v1/dose-steps", json={"start_date": "2026-01-01", "dose_mg": 0}
    ).is_success
    step = {"start_date": "2026-01-15", "dose_mg": 1.5, "dosing_time": "bedtime", "note": "LDN"}
    assert api.post("/api/v1/dose-steps", json=step).is_success
    api.put(
        "/api/v1/entries/2026-01-10",
        json={"pain": 60, "fatigue": 55, "notes": 'Bad day, "very" bad', "dose_taken": False},
    )
    api.put("/api/v1/entries/2026-01-10", json={"pain": 50, "side_effects": {"headache": 2}})
    api.post(
        "/api/v1/entries/batch",
        json={
            "entries": [
                {
                    "date": "2026-01-20",
                    "sleep_quality": 70,
                    "dose_taken": True,
                    "dose_time": "22:30",
                    "dose_mg": 1.75,
                    "client_id": "phone-1",
                    "client_edited_at": "2026-01-20T21:00:00Z",
                    "other_text": "dry mouth",
                    "side_effects": {"other": 1},
                    "tolerability": 90,
                    "pgic": 3,
                },
                {"date": "2026-01-21", "mood": 80, "notes": "Wörter, ünïcode ✓"},
            ]
        },
    )
    api.put("/api/v1/entries/2026-01-22", json={"stress": 10})
    api.delete("/api/v1/entries/2026-01-22")  # its history stays, without a current day


def test_the_backup_holds_every_stored_field(api: TestClient, user: User) -> None:
    build_diary(api)

    response = api.get("/api/v1/export")

    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    document = response.json()
    assert document["format"] == "ldn-diary-backup"
    assert document["version"] == 2
    assert document["items"] == {
        "condition": None,
        "own": [],
        "tracked": [*RATED_KEYS, *SIDE_EFFECT_KEYS],
        "primary_item": None,
    }
    assert document["account"] == {"email": user.email, "timezone": "UTC"}
    datetime.fromisoformat(document["exported_at"])
    assert [step["start_date"] for step in document["dose_steps"]] == ["2026-01-01", "2026-01-15"]
    assert set(document["dose_steps"][1]) == {
        "start_date",
        "dose_mg",
        "dosing_time",
        "note",
        "planned",
        "form",
        "mg_per_ml",
        "created_at",
        "updated_at",
    }
    days = [entry["date"] for entry in document["entries"]]
    assert days == ["2026-01-10", "2026-01-20", "2026-01-21"]
    for entry in document["entries"]:
        assert set(entry) == ENTRY_KEYS
        assert set(entry["side_effects"]) <= set(SIDE_EFFECT_KEYS)
        assert {key: entry[key] for key in RATED_KEYS if entry[key] is not None} == entry["ratings"]
    assert document["entries"][1]["side_effects"] == {"other": 1}
    synced = document["entries"][1]
    assert synced["client_id"] == "phone-1"
    assert datetime.fromisoformat(synced["client_edited_at"]) == datetime(
        2026, 1, 20, 21, 0, tzinfo=UTC
    )
    assert synced["dose_mg"] == 1.75
    reasons = {(row["date"], row["reason"]) for row in document["revisions"]}
    assert reasons == {("2026-01-10", "edited"), ("2026-01-22", "deleted")}
    edited = next(row for row in document["revisions"] if row["date"] == "2026-01-10")
    assert edited["data"]["pain"] == 60
    assert edited["source"] == "api"


def test_a_backup_imports_into_an_empty_account_losslessly(
    api: TestClient, other_api: TestClient
) -> None:
    build_diary(api)
    original = api.get("/api/v1/export").json()

    imported = other_api.post("/api/v1/import", json=original)

    assert imported.status_code == 200, imported.text
    assert imported.json()["days_added"] == 3
    assert imported.json()["revisions_added"] == 2
    again = other_api.get("/api/v1/export").json()
    assert comparable(again) == comparable(original)
    # The first account is untouched and still its own.
    assert comparable(api.get("/api/v1/export").json()) == comparable(original)


def test_a_restored_backup_is_a_working_diary(api: TestClient, other_api: TestClient) -> None:
    build_diary(api)
    other_api.post("/api/v1/import", json=api.get("/api/v1/export").json())

    day = other_api.get("/api/v1/entries/2026-01-20").json()
    history = other_api.get("/api/v1/entries/2026-01-10/revisions").json()

    assert day["sleep_quality"] == 70
    assert day["scheduled_dose_mg"] == 1.5
    assert [version["data"]["pain"] for version in history] == [60]


def valid_document() -> dict[str, Any]:
    return {
        "format": "ldn-diary-backup",
        "version": 1,
        "dose_steps": [{"start_date": "2026-02-01", "dose_mg": 0}],
        "entries": [
            {"date": "2026-02-02", "pain": 40},
            {"date": "2026-02-03", "pain": 45, "side_effects": {"nausea": 1}},
            {"date": "2026-02-04", "fatigue": 30},
        ],
        "revisions": [],
    }


def count_rows(session: Session, user: User) -> dict[str, int]:
    session.expire_all()
    return {
        model.__name__: session.exec(
            select(func.count()).select_from(model).where(model.user_id == user.id)  # type: ignore[attr-defined]
        ).one()
        for model in (DiaryEntry, DoseStep, EntryRevision)
    }


def test_a_bad_file_writes_nothing_and_names_every_bad_row(
    api: TestClient, session: Session, user: User
) -> None:
    api.put("/api/v1/entries/2026-02-03", json={"pain": 10})
    before = count_rows(session, user)
    document = valid_document()
    document["entries"][1]["pain"] = 101
    document["entries"][2]["side_effects"] = {"nausea": 5}
    document["entries"].append({"date": "2026-02-05", "notes": "x" * 2001})
    document["dose_steps"].append({"start_date": "2026-02-10", "dose_mg": 60})
    document["revisions"].append(
        {
            "date": "2026-02-02",
            "data": {"pain": "lots"},
            "source": "web",
            "saved_at": "2026-02-02T10:00:00Z",
            "replaced_at": "2026-02-02T11:00:00Z",
            "reason": "edited",
        }
    )

    response = api.post("/api/v1/import", json=document)

    assert response.status_code == 422
    problems = {item["field"]: item["msg"] for item in response.json()["detail"]}
    assert problems == {
        "entries[1].pain": "must be 100 or less",
        "entries[2].side_effects.nausea": "must be 3 or less",
        "entries[3].notes": "must be at most 2000 characters",
        "dose_steps[1].dose_mg": "must be 50 or less",
        "revisions[0].data.pain": "must be a whole number",
    }
    locs = [item["loc"] for item in response.json()["detail"]]
    assert ["body", "entries", 1, "pain"] in locs
    assert count_rows(session, user) == before
    assert api.get("/api/v1/entries/2026-02-03").json()["pain"] == 10


def test_a_problem_found_after_the_rows_are_valid_still_writes_nothing(
    api: TestClient, session: Session, user: User
) -> None:
    api.post("/api/v1/dose-steps", json={"start_date": "2026-02-01", "dose_mg": 1.5})
    before = count_rows(session, user)

    response = api.post("/api/v1/import", json=valid_document())  # 0 mg from the same day

    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["field"] == "dose_steps[0].start_date"
    assert "already has a different dose step" in problem["msg"]
    assert count_rows(session, user) == before


def test_days_the_api_would_refuse_are_refused(api: TestClient, user: User) -> None:
    document = valid_document()
    far = patient_today(user) + timedelta(days=5)
    document["entries"].append({"date": far.isoformat(), "pain": 1})
    document["entries"].append({"date": "2026-02-02", "pain": 2})
    document["entries"].append({"date": "2026-02-06"})
    document["entries"].append({"date": "2026-02-07", "pain": 2, "source": "fax"})
    document["dose_steps"].append({"start_date": "2026-02-01", "dose_mg": 1.5})

    response = api.post("/api/v1/import", json=document)

    assert response.status_code == 422
    problems = {item["field"]: item["msg"] for item in response.json()["detail"]}
    assert "in the future" in problems["entries[3].date"]
    assert "twice" in problems["entries[4].date"]
    assert "Answer at least one question" in problems["entries[5]"]
    assert problems["entries[6].source"].startswith("must be one of")
    assert "dose_steps[0]" in problems["dose_steps[1].start_date"]


def test_what_is_not_a_backup_is_refused_clearly(api: TestClient) -> None:
    wrong_format = api.post("/api/v1/import", json={"format": "something", "version": 1})
    newer = api.post("/api/v1/import", json={**valid_document(), "version": 3})
    not_json = api.post(
        "/api/v1/import", content=b"date,pain\n", headers={"content-type": "text/csv"}
    )
    a_list = api.post("/api/v1/import", json=[1, 2])
    extra = api.post("/api/v1/import", json={**valid_document(), "surprise": True})
    not_lists = api.post("/api/v1/import", json={**valid_document(), "entries": {}})

    assert wrong_format.status_code == 422
    assert "not an LDN Diary backup" in wrong_format.json()["detail"][0]["msg"]
    assert "newer than this app reads" in newer.json()["detail"][0]["msg"]
    assert not_json.status_code == 422
    assert "not JSON" in not_json.json()["detail"][0]["msg"]
    assert a_list.status_code == 422
    assert extra.json()["detail"][0]["field"] == "surprise"
    assert not_lists.json()["detail"][0] == {
        "loc": ["body", "entries"],
        "field": "entries",
        "msg": "must be a list",
        "type": "value_error",
    }


def test_a_file_larger_than_any_backup_is_413(api: TestClient) -> None:
    huge = b'{"format": "ldn-diary-backup", "notes": "' + b"x" * backup.MAX_IMPORT_BYTES + b'"}'

    response = api.post(
        "/api/v1/import", content=huge, headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert "larger than 10 MB" in response.json()["detail"]


def test_the_preview_says_what_will_change_and_writes_nothing(
    api: TestClient, session: Session, user: User
) -> None:
    api.post("/api/v1/dose-steps", json={"start_date": "2026-02-01", "dose_mg": 0})
    api.put("/api/v1/entries/2026-02-02", json={"pain": 40})  # the same as in the file
    api.put("/api/v1/entries/2026-02-03", json={"pain": 80})  # different: will be replaced
    document = valid_document()
    document["dose_steps"].append({"start_date": "2026-02-10", "dose_mg": 1.5})
    document["revisions"].append(
        {
            "date": "2026-02-03",
            "data": {"date": "2026-02-03", "pain": 20, "side_effects": {}},
            "source": "sync",
            "saved_at": "2026-02-03T08:00:00Z",
            "replaced_at": "2026-02-03T09:00:00Z",
            "reason": "edited",
        }
    )
    before = count_rows(session, user)

    preview = api.post("/api/v1/import?dry_run=true", json=document)

    assert preview.status_code == 200
    assert preview.json() == {
        "dry_run": True,
        "days_added": 1,
        "days_replaced": 1,
        "days_unchanged": 1,
        "dose_steps_added": 1,
        "dose_steps_unchanged": 1,
        "revisions_added": 1,
        "revisions_already_there": 0,
        "replaced_dates": ["2026-02-03"],
        "step_decisions_added": 0,
        "dose_plan_restored": False,
        "reminders_restored": False,
        "own_items_added": 0,
        "self_trials_added": 0,
    }
    assert count_rows(session, user) == before

    done = api.post("/api/v1/import", json=document)

    assert done.json() == {**preview.json(), "dry_run": False}
    replaced = api.get("/api/v1/entries/2026-02-03").json()
    assert (replaced["pain"], replaced["side_effects"]["nausea"]) == (45, 1)
    assert replaced["source"] == "import"
    history = api.get("/api/v1/entries/2026-02-03/revisions").json()
    kept = next(version for version in history if version["reason"] == "imported")
    assert kept["data"]["pain"] == 80  # the account's own version is not lost
    assert kept["source"] == "api"
    added = api.get("/api/v1/entries/2026-02-04").json()
    assert added["source"] == "import"  # the file said nothing, so: imported


def test_importing_the_same_backup_again_changes_nothing(
    api: TestClient, session: Session, user: User
) -> None:
    build_diary(api)
    document = api.get("/api/v1/export").json()
    before = count_rows(session, user)

    response = api.post("/api/v1/import", json=document)

    assert response.status_code == 200
    summary = response.json()
    assert (summary["days_added"], summary["days_replaced"], summary["revisions_added"]) == (
        0,
        0,
        0,
    )
    assert summary["days_unchanged"] == 3
    assert summary["revisions_already_there"] == 2
    assert count_rows(session, user) == before
    assert comparable(api.get("/api/v1/export").json()) == comparable(document)


def test_import_needs_a_token(client: TestClient) -> None:
    assert client.post("/api/v1/import", json=valid_document()).status_code == 401
    assert client.get("/api/v1/export").status_code == 401


def test_export_is_only_ones_own(api: TestClient, other_api: TestClient) -> None:
    api.put("/api/v1/entries/2026-02-02", json={"pain": 40, "notes": "mine"})

    theirs = other_api.get("/api/v1/export").json()

    assert theirs["entries"] == [] and theirs["revisions"] == []
    assert "mine" not in json.dumps(theirs)


def test_the_documented_example_imports(api: TestClient) -> None:
    text = BACKUP_FORMAT_DOC.read_text()
    example = json.loads(text.split("```json", 1)[1].split("```", 1)[0])

    response = api.post("/api/v1/import?dry_run=true", json=copy.deepcopy(example))

    assert response.status_code == 200, response.text
    assert response.json()["days_added"] == len(example["entries"])


def test_moments_are_kept_to_the_microsecond(api: TestClient, other_api: TestClient) -> None:
    document = valid_document()
    document["entries"][0] |= {
        "created_at": "2026-02-02T07:08:09.123456+02:00",
        "updated_at": "2026-02-02T05:08:09.654321Z",
        "client_edited_at": "2026-02-02T05:00:00.000001",
        "retrospective": True,
        "source": "sync",
    }

    assert other_api.post("/api/v1/import", json=document).status_code == 200

    [first, *_] = other_api.get("/api/v1/export").json()["entries"]
    assert datetime.fromisoformat(first["created_at"]) == datetime(
        2026, 2, 2, 5, 8, 9, 123456, tzinfo=UTC
    )
    assert first["updated_at"] == "2026-02-02T05:08:09.654321+00:00"
    assert first["client_edited_at"] == "2026-02-02T05:00:00.000001+00:00"
    assert (first["retrospective"], first["source"]) == (True, "sync")
    assert date.fromisoformat(first["date"]) == date(2026, 2, 2)


def test_a_crafted_backup_cannot_hide_back_filled_days(
    api: TestClient, other_api: TestClient
) -> None:
    """A file that says a long-past day was kept on time is judged like a save made now,
    unless this server sealed it; a sealed file that was edited loses the seal."""
    crafted = valid_document()
    crafted["entries"][0] |= {"retrospective": False, "created_at": "2026-01-06T20:00:00Z"}
    assert other_api.post("/api/v1/import", json=crafted).status_code == 200
    days = {row["date"]: row for row in other_api.get("/api/v1/export").json()["entries"]}
    assert days["2026-02-02"]["retrospective"] is True


def test_a_backup_this_server_sealed_keeps_its_on_time_days(
    api: TestClient, other_api: TestClient
) -> None:
    api.put("/api/v1/entries/" + date.today().isoformat(), json={"pain": 20})
    sealed = api.get("/api/v1/export").json()
    assert sealed["entries"][0]["retrospective"] is False
    assert other_api.post("/api/v1/import", json=sealed).status_code == 200
    assert other_api.get("/api/v1/export").json()["entries"][0]["retrospective"] is False

    tampered = json.loads(json.dumps(sealed))
    tampered["entries"][0]["date"] = "2026-01-05"
    tampered["entries"][0]["created_at"] = "2026-01-05T20:00:00Z"
    assert api.post("/api/v1/import", json=tampered).status_code == 200
    days = {row["date"]: row for row in api.get("/api/v1/export").json()["entries"]}
    assert days["2026-01-05"]["retrospective"] is True


def test_exports_are_never_cached(api: TestClient) -> None:
    for url in ("/api/v1/export", "/api/v1/export.csv", "/api/v1/export/fhir"):
        assert api.get(url).headers["cache-control"] == "no-store", url


def saving_a_day_while_the_file_is_checked(
    monkeypatch: pytest.MonkeyPatch, app: FastAPI, user: User, day: date
) -> None:
    """The check (in a worker process) finds `day` new; the patient's phone saves it before
    the checked rows are written."""
    check = backup.check_in_worker

    async def check_then_the_phone_saves(*args: Any, **kwargs: Any) -> backup.ImportPlan:
        plan = await check(*args, **kwargs)
        with app.state.database.write() as writing:
            answers = EntryAnswers(pain=12)
            entries.save_entry(writing, user=user, day=day, answers=answers, source="sync")
        return plan

    monkeypatch.setattr(backup, "check_in_worker", check_then_the_phone_saves)


def test_a_day_saved_while_the_file_was_checked_makes_the_import_write_nothing(
    monkeypatch: pytest.MonkeyPatch, app: FastAPI, api: TestClient, session: Session, user: User
) -> None:
    saving_a_day_while_the_file_is_checked(monkeypatch, app, user, date(2026, 2, 4))

    response = api.post("/api/v1/import", json=valid_document())

    assert response.status_code == 409
    assert response.json() == {
        "detail": "The diary changed while importing. Nothing was imported: try again."
    }
    assert count_rows(session, user) == {"DiaryEntry": 1, "DoseStep": 0, "EntryRevision": 0}
    assert api.get("/api/v1/entries/2026-02-04").json()["pain"] == 12  # the phone's day stays
