"""POST /sync, the offline outbox's route: each device edit applied once, the later edit wins."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from app.models import DiaryEntry, EntryRevision, User
from tests.clock import freeze_diary_clock
from tests.conftest import Browser

DAY = "2026-03-10"


def sync(browser: Browser, *days: dict[str, Any]) -> list[dict[str, Any]]:
    response = browser.client.post(
        "/sync", json={"entries": list(days)}, headers={"X-CSRF-Token": browser.csrf}
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def outbox_day(client_id: str, edited_at: str, **answers: Any) -> dict[str, Any]:
    return {"date": DAY, "client_id": client_id, "client_edited_at": edited_at, **answers}


def statuses(results: list[dict[str, Any]]) -> list[str]:
    return [result["status"] for result in results]


def rows(session: Session) -> list[tuple[int | None, str | None]]:
    session.expire_all()
    return [
        (entry.ratings.get("pain"), entry.client_id) for entry in session.exec(select(DiaryEntry))
    ]


def test_a_replay_is_unchanged_and_writes_nothing(browser: Browser, session: Session) -> None:
    edit = outbox_day("phone", "2026-03-10T20:00:00Z", pain=30)

    assert statuses(sync(browser, edit)) == ["created"]
    assert statuses(sync(browser, edit)) == ["unchanged"]
    assert rows(session) == [(30, "phone")]
    assert session.exec(select(EntryRevision)).all() == []


def test_an_older_edit_from_another_device_is_reported_as_superseded(
    browser: Browser, session: Session
) -> None:
    sync(browser, outbox_day("tablet", "2026-03-10T21:00:00Z", pain=70))

    results = sync(browser, outbox_day("phone", "2026-03-10T20:00:00Z", pain=30))

    assert results == [
        {"date": DAY, "client_edited_at": "2026-03-10T20:00:00Z", "status": "superseded"}
    ]
    assert rows(session) == [(70, "tablet")]
    [revision] = session.exec(select(EntryRevision)).all()
    assert (revision.reason, revision.data["pain"]) == ("superseded", 30)


def test_the_same_answers_saved_again_later_still_win_over_an_edit_made_in_between(
    browser: Browser, session: Session
) -> None:
    """The phone saves 30 at 20:00 and 30 again at 22:00; the tablet's 70 from 21:00 comes
    last. It used to replace the phone's: the second save changed nothing, so the day still
    counted as made at 20:00."""
    sync(browser, outbox_day("phone", "2026-03-10T20:00:00Z", pain=30))
    again = sync(browser, outbox_day("phone", "2026-03-10T22:00:00Z", pain=30))
    assert statuses(again) == ["unchanged"]

    results = sync(browser, outbox_day("tablet", "2026-03-10T21:00:00Z", pain=70))

    assert statuses(results) == ["superseded"]
    assert rows(session) == [(30, "phone")]
    [revision] = session.exec(select(EntryRevision)).all()
    assert (revision.reason, revision.data["pain"]) == ("superseded", 70)
    # The phone's first save, arriving again late: the same answers, nothing more to keep.
    late = sync(browser, outbox_day("phone", "2026-03-10T20:00:00Z", pain=30))
    assert statuses(late) == ["unchanged"]
    assert len(session.exec(select(EntryRevision)).all()) == 1


def test_a_replay_from_a_fast_clock_cannot_overwrite_a_later_edit(
    browser: Browser, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The phone's clock is an hour fast; the tablet edits after the phone's edit arrived.
    phone = outbox_day("phone", "2026-03-10T11:00:00Z", pain=10)
    tablet = outbox_day("tablet", "2026-03-10T10:30:00Z", pain=90)
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 10, 1, tzinfo=UTC))
    assert statuses(sync(browser, phone)) == ["created"]
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 10, 31, tzinfo=UTC))
    assert statuses(sync(browser, tablet)) == ["replaced"]
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 10, 50, tzinfo=UTC))

    assert statuses(sync(browser, phone)) == ["superseded"]
    assert rows(session) == [(90, "tablet")]
    assert len(session.exec(select(EntryRevision)).all()) == 1


def test_a_replay_after_the_day_was_deleted_stays_deleted(
    browser: Browser, session: Session, user: User
) -> None:
    edit = outbox_day("phone", "2026-03-10T20:00:00Z", pain=30)
    sync(browser, edit)
    browser.post(f"/entries/{DAY}/delete")
    assert rows(session) == []

    assert statuses(sync(browser, edit)) == ["stays_deleted"]
    assert rows(session) == []
    reasons = [revision.reason for revision in session.exec(select(EntryRevision))]
    assert reasons == ["deleted"]


def test_the_same_device_key_with_new_answers_is_a_new_edit(
    browser: Browser, session: Session
) -> None:
    sync(browser, outbox_day("phone", "2026-03-10T20:00:00Z", pain=30))

    results = sync(browser, outbox_day("phone", "2026-03-10T20:00:00Z", pain=35))

    assert statuses(results) == ["replaced"]
    assert rows(session) == [(35, "phone")]
    [revision] = session.exec(select(EntryRevision)).all()
    assert revision.data["pain"] == 30


def test_a_strict_type_is_rejected_for_that_day_only(browser: Browser, session: Session) -> None:
    results = sync(
        browser,
        outbox_day("phone", "2026-03-10T20:00:00Z", pain=30, dose_taken="yes"),
        {**outbox_day("phone", "2026-03-09T20:00:00Z", pain=20), "date": "2026-03-09"},
    )

    assert statuses(results) == ["rejected", "created"]
    assert "dose_taken" in results[0]["errors"]
    session.expire_all()
    assert [entry.day for entry in session.exec(select(DiaryEntry))] == [date(2026, 3, 9)]
