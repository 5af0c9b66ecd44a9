"""Saving diary days: versions kept, replays ignored, the patient's calendar respected."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import Session, col, select

from app.models import DiaryEntry, EntryRevision, User
from app.schemas import DatedEntryAnswers, EntryAnswers
from app.services import entries
from tests.clock import freeze_diary_clock
from tests.factories import make_entry, make_user


def answers(**values: Any) -> EntryAnswers:
    return EntryAnswers.model_validate(values)


def revisions(session: Session, user: User, day: date) -> list[EntryRevision]:
    session.expire_all()
    assert user.id is not None
    return entries.list_revisions(session, user_id=user.id, day=day)


def stored(session: Session, user: User, day: date) -> DiaryEntry | None:
    session.expire_all()
    assert user.id is not None
    return entries.get_entry(session, user_id=user.id, day=day)


@pytest.fixture
def today(user: User) -> date:
    return entries.patient_today(user)


def opened_account(session: Session, user: User, when: datetime) -> None:
    """Date the account back: a device's edit time never counts from before the account."""
    user.created_at = when
    session.add(user)
    session.commit()
    session.refresh(user)


# --- created, replaced, unchanged, deleted -------------------------------------------------


def test_first_save_creates_the_day_and_keeps_no_revision(
    session: Session, user: User, today: date
) -> None:
    outcome = entries.save_entry(
        session, user=user, day=today, answers=answers(pain=40), source="web"
    )

    assert outcome.status == "created"
    entry = stored(session, user, today)
    assert entry is not None
    assert entry.ratings.get("pain") == 40
    assert entry.source == "web"
    assert revisions(session, user, today) == []


def test_unanswered_items_are_stored_as_null_never_zero(
    session: Session, user: User, today: date
) -> None:
    entries.save_entry(session, user=user, day=today, answers=answers(pain=0), source="web")

    entry = stored(session, user, today)
    assert entry is not None
    assert entry.ratings.get("pain") == 0
    assert entry.ratings.get("fatigue") is None
    assert entry.side_effects.get("headache") is None
    assert entry.dose_taken is None


def test_a_changed_save_replaces_the_day_and_keeps_the_old_version(
    session: Session, user: User, today: date
) -> None:
    entries.save_entry(
        session, user=user, day=today, answers=answers(pain=40, notes="first"), source="web"
    )

    outcome = entries.save_entry(
        session, user=user, day=today, answers=answers(pain=55), source="api"
    )

    assert outcome.status == "replaced"
    entry = stored(session, user, today)
    assert entry is not None
    assert (entry.ratings.get("pain"), entry.notes, entry.source) == (55, None, "api")
    [revision] = revisions(session, user, today)
    assert revision.reason == "edited"
    assert revision.source == "web"
    assert revision.data["pain"] == 40
    assert revision.data["notes"] == "first"
    assert revision.data["date"] == today.isoformat()


def test_the_saved_day_the_caller_gets_is_the_row_as_written(
    session: Session, user: User, today: date
) -> None:
    """The day is written with its own statements, not by the session at the commit: the entry
    a save returns holds what the database holds, with nothing left for the session to write
    (not committed here: a commit would read it back)."""
    entries.save_entry(session, user=user, day=today, answers=answers(pain=40), source="web")
    for pain, notes in ((55, "second"), (60, None)):
        outcome = entries.save_entry(
            session,
            user=user,
            day=today,
            answers=answers(pain=pain, notes=notes),
            source="api",
            commit=False,
        )
        assert outcome.entry is not None
        assert not session.dirty and not session.new
        returned = (outcome.entry.ratings, outcome.entry.notes, outcome.entry.updated_at)
        entry = stored(session, user, today)
        assert entry is not None
        assert returned == (entry.ratings, entry.notes, entry.updated_at)
        assert entry.ratings == {"pain": pain} and entry.notes == notes
    assert [revision.data["pain"] for revision in revisions(session, user, today)] == [55, 40]


def test_saving_the_same_answers_again_is_unchanged(
    session: Session, user: User, today: date
) -> None:
    first = entries.save_entry(
        session, user=user, day=today, answers=answers(pain=40), source="web"
    )
    saved_at = first.entry.updated_at

    outcome = entries.save_entry(
        session, user=user, day=today, answers=answers(pain=40), source="web"
    )

    assert outcome.status == "unchanged"
    assert outcome.entry.updated_at == saved_at
    assert revisions(session, user, today) == []


def test_deleting_a_day_keeps_its_last_version(session: Session, user: User, today: date) -> None:
    saved = entries.save_entry(
        session,
        user=user,
        day=today,
        answers=answers(fatigue=70, side_effects={"headache": 2}),
        source="web",
    )

    entries.delete_entry(session, entry=saved.entry)

    assert stored(session, user, today) is None
    [revision] = revisions(session, user, today)
    assert revision.reason == "deleted"
    assert revision.data["fatigue"] == 70
    assert revision.data["side_effects"]["headache"] == 2


def test_revisions_are_listed_newest_first(session: Session, user: User, today: date) -> None:
    for pain in (10, 20, 30):
        entries.save_entry(session, user=user, day=today, answers=answers(pain=pain), source="web")

    assert [revision.data["pain"] for revision in revisions(session, user, today)] == [20, 10]


# --- offline sync: replays and two devices ------------------------------------------------

EDITED = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)


def device_edit(client_id: str, edited_at: datetime, **values: Any) -> EntryAnswers:
    return answers(client_id=client_id, client_edited_at=edited_at.isoformat(), **values)


def test_a_replayed_device_edit_changes_nothing(session: Session, user: User, today: date) -> None:
    edit = device_edit("phone", EDITED, pain=30)
    entries.save_entry(session, user=user, day=today, answers=edit, source="sync")

    outcome = entries.save_entry(session, user=user, day=today, answers=edit, source="sync")

    assert outcome.status == "unchanged"
    assert revisions(session, user, today) == []
    assert len(list(session.exec(select(DiaryEntry)))) == 1


def test_a_replay_with_a_naive_edit_time_counts_as_utc(
    session: Session, user: User, today: date
) -> None:
    entries.save_entry(
        session, user=user, day=today, answers=device_edit("phone", EDITED, pain=30), source="sync"
    )
    naive = answers(client_id="phone", client_edited_at="2026-03-10T20:00:00", pain=30)

    outcome = entries.save_entry(session, user=user, day=today, answers=naive, source="sync")

    assert outcome.status == "unchanged"


def test_an_older_edit_from_another_device_is_kept_as_a_revision_and_the_newer_stays(
    session: Session, user: User, today: date
) -> None:
    newer = device_edit("phone", EDITED, pain=30)
    older = device_edit("tablet", EDITED - timedelta(hours=2), pain=80, notes="from the tablet")
    entries.save_entry(session, user=user, day=today, answers=newer, source="sync")

    outcome = entries.save_entry(session, user=user, day=today, answers=older, source="sync")

    assert outcome.status == "superseded"
    entry = stored(session, user, today)
    assert entry is not None
    assert (entry.ratings.get("pain"), entry.notes, entry.client_id) == (30, None, "phone")
    [revision] = revisions(session, user, today)
    assert revision.reason == "superseded"
    assert revision.data["pain"] == 80
    assert revision.data["notes"] == "from the tablet"

    # The older edit arriving again is not stored twice.
    again = entries.save_entry(session, user=user, day=today, answers=older, source="sync")
    assert again.status == "superseded"
    assert len(revisions(session, user, today)) == 1


def test_a_newer_edit_from_another_device_wins(session: Session, user: User, today: date) -> None:
    entries.save_entry(
        session, user=user, day=today, answers=device_edit("phone", EDITED, pain=30), source="sync"
    )
    later = device_edit("tablet", EDITED + timedelta(minutes=5), pain=35)

    outcome = entries.save_entry(session, user=user, day=today, answers=later, source="sync")

    assert outcome.status == "replaced"
    entry = stored(session, user, today)
    assert entry is not None
    assert (entry.ratings.get("pain"), entry.client_id) == (35, "tablet")
    [revision] = revisions(session, user, today)
    assert revision.data["pain"] == 30
    assert revision.data["client_id"] == "phone"


def test_an_offline_edit_older_than_the_last_online_save_does_not_win(
    session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 10:00: the patient saves the day on the laptop (a web save carries no device time).
    day = date(2026, 3, 10)
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 10, 0, tzinfo=UTC))
    entries.save_entry(session, user=user, day=day, answers=answers(pain=60), source="web")
    # 11:00: the phone syncs an edit it made offline at 09:00.
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 11, 0, tzinfo=UTC))
    phone = device_edit("phone", datetime(2026, 3, 10, 9, 0, tzinfo=UTC), pain=20)

    outcome = entries.save_entry(session, user=user, day=day, answers=phone, source="sync")

    assert outcome.status == "superseded"
    entry = stored(session, user, day)
    assert entry is not None
    assert (entry.ratings.get("pain"), entry.source) == (60, "web")
    [revision] = revisions(session, user, day)
    assert (revision.reason, revision.data["pain"]) == ("superseded", 20)

    # An edit the phone made after the laptop's save does win.
    later = device_edit("phone", datetime(2026, 3, 10, 10, 30, tzinfo=UTC), pain=25)
    assert entries.save_entry(session, user=user, day=day, answers=later, source="sync").status == (
        "replaced"
    )


# --- retrospective days, on the patient's clock -------------------------------------------


def test_retrospective_is_decided_by_the_patients_midnight_not_utc() -> None:
    day = date(2026, 3, 10)
    # 12 March 05:00 UTC is already after the end of 11 March in UTC, but in Pago Pago
    # (UTC−11) it is still 11 March, 18:00: the next day has not ended yet.
    saved = datetime(2026, 3, 12, 5, 0, tzinfo=UTC)

    assert entries.is_retrospective(day, first_saved=saved, timezone="UTC")
    assert not entries.is_retrospective(day, first_saved=saved, timezone="Pacific/Pago_Pago")
    # In Kiritimati (UTC+14) it is 12 March, 19:00.
    assert entries.is_retrospective(day, first_saved=saved, timezone="Pacific/Kiritimati")


def test_the_deadline_is_the_end_of_the_next_day() -> None:
    day = date(2026, 3, 10)
    midnight = datetime(2026, 3, 12, 0, 0, tzinfo=UTC)

    assert not entries.is_retrospective(
        day, first_saved=midnight - timedelta(seconds=1), timezone="UTC"
    )
    assert entries.is_retrospective(day, first_saved=midnight, timezone="UTC")


def test_saving_marks_late_days_retrospective_in_the_patients_time_zone(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 12, 5, 0, tzinfo=UTC))
    pago = make_user(session, email="pago@example.org", timezone="Pacific/Pago_Pago")
    kiritimati = make_user(session, email="kiri@example.org", timezone="Pacific/Kiritimati")

    def retrospective(user: User, day: date) -> bool:
        outcome = entries.save_entry(
            session, user=user, day=day, answers=answers(pain=10), source="web"
        )
        return outcome.entry.retrospective

    assert retrospective(pago, date(2026, 3, 11)) is False  # Pago Pago's today
    assert retrospective(pago, date(2026, 3, 10)) is False  # yesterday: still in time
    assert retrospective(pago, date(2026, 3, 9)) is True
    assert retrospective(kiritimati, date(2026, 3, 11)) is False
    assert retrospective(kiritimati, date(2026, 3, 10)) is True


def test_a_day_edited_offline_in_time_is_not_retrospective_when_it_syncs_late(
    session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened_account(session, user, datetime(2026, 3, 1, tzinfo=UTC))
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 15, 9, 0, tzinfo=UTC))
    edit = device_edit("phone", datetime(2026, 3, 10, 21, 0, tzinfo=UTC), pain=20)

    outcome = entries.save_entry(
        session, user=user, day=date(2026, 3, 10), answers=edit, source="sync"
    )

    assert outcome.entry.retrospective is False


def test_retrospective_is_fixed_at_the_first_save(
    session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = date(2026, 3, 10)
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 21, 0, tzinfo=UTC))
    entries.save_entry(session, user=user, day=day, answers=answers(pain=20), source="web")

    freeze_diary_clock(monkeypatch, datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    outcome = entries.save_entry(
        session, user=user, day=day, answers=answers(pain=25), source="web"
    )

    assert outcome.status == "replaced"
    assert outcome.entry.retrospective is False


# --- which days can be recorded -----------------------------------------------------------


def test_tomorrow_is_the_last_day_on_the_patients_own_calendar(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 12 March 10:30 UTC: 13 March 00:30 in Kiritimati, 11 March 23:30 in Pago Pago.
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 12, 10, 30, tzinfo=UTC))
    kiritimati = make_user(session, email="kiri@example.org", timezone="Pacific/Kiritimati")
    pago = make_user(session, email="pago@example.org", timezone="Pacific/Pago_Pago")
    assert entries.patient_today(kiritimati) == date(2026, 3, 13)
    assert entries.patient_today(pago) == date(2026, 3, 11)

    def save(user: User, day: date) -> None:
        entries.save_entry(session, user=user, day=day, answers=answers(mood=50), source="api")

    save(kiritimati, date(2026, 3, 14))
    save(pago, date(2026, 3, 12))
    with pytest.raises(entries.DiaryDayRefused):
        save(kiritimati, date(2026, 3, 15))
    with pytest.raises(entries.DiaryDayRefused):
        save(pago, date(2026, 3, 13))
    session.expire_all()
    assert {entry.day for entry in session.exec(select(DiaryEntry))} == {
        date(2026, 3, 14),
        date(2026, 3, 12),
    }


def test_days_before_2000_are_refused(session: Session, user: User) -> None:
    with pytest.raises(entries.DiaryDayRefused):
        entries.save_entry(
            session, user=user, day=date(1999, 12, 31), answers=answers(pain=1), source="api"
        )
    outcome = entries.save_entry(
        session, user=user, day=date(2000, 1, 1), answers=answers(pain=1), source="api"
    )
    assert outcome.status == "created"


def test_a_batch_with_a_refused_day_writes_nothing(
    app: FastAPI, session: Session, user: User
) -> None:
    today = entries.patient_today(user)
    batch = [
        DatedEntryAnswers.model_validate({"date": today.isoformat(), "pain": 10}),
        DatedEntryAnswers.model_validate(
            {"date": (today + timedelta(days=5)).isoformat(), "pain": 10}
        ),
    ]
    # The app's own engine: the batch relies on a real transaction to roll back.
    with Session(app.state.engine) as app_session:
        owner = app_session.get(User, user.id)
        assert owner is not None
        with pytest.raises(entries.DiaryDayRefused) as refused:
            entries.save_batch(app_session, user=owner, entries=batch, source="api")

    assert refused.value.index == 1
    assert list(session.exec(select(DiaryEntry))) == []


def test_a_batch_saves_every_day_in_one_go(app: FastAPI, session: Session, user: User) -> None:
    today = entries.patient_today(user)
    make_entry(session, user=user, day=today, pain=5)
    batch = [
        DatedEntryAnswers.model_validate({"date": today.isoformat(), "pain": 10}),
        DatedEntryAnswers.model_validate(
            {"date": (today - timedelta(days=1)).isoformat(), "pain": 20}
        ),
    ]
    with Session(app.state.engine) as app_session:
        owner = app_session.get(User, user.id)
        assert owner is not None
        outcomes = entries.save_batch(app_session, user=owner, entries=batch, source="api")

    assert [outcome.status for outcome in outcomes] == ["replaced", "created"]
    session.expire_all()
    saved = session.exec(select(DiaryEntry).order_by(col(DiaryEntry.day))).all()
    assert [(entry.day, entry.ratings.get("pain")) for entry in saved] == [
        (today - timedelta(days=1), 20),
        (today, 10),
    ]


# --- the two-week check-in ----------------------------------------------------------------


def test_check_in_is_not_due_in_a_new_diary(session: Session, user: User) -> None:
    assert user.id is not None
    day = date(2026, 3, 20)
    assert not entries.check_in_due(session, user_id=user.id, day=day)
    make_entry(session, user=user, day=day - timedelta(days=12), pain=10)
    assert not entries.check_in_due(session, user_id=user.id, day=day)


def test_check_in_is_due_once_the_diary_has_run_two_weeks(session: Session, user: User) -> None:
    assert user.id is not None
    day = date(2026, 3, 20)
    make_entry(session, user=user, day=day - timedelta(days=13), pain=10)

    assert entries.check_in_due(session, user_id=user.id, day=day)


def test_check_in_is_not_due_within_14_days_of_the_last_one(session: Session, user: User) -> None:
    assert user.id is not None
    day = date(2026, 3, 20)
    make_entry(session, user=user, day=day - timedelta(days=30), pain=10)
    make_entry(session, user=user, day=day - timedelta(days=13), pgic=3)

    assert not entries.check_in_due(session, user_id=user.id, day=day)
    assert entries.check_in_due(session, user_id=user.id, day=day + timedelta(days=1))


def test_check_in_ignores_another_patients_answers(session: Session, user: User) -> None:
    assert user.id is not None
    other = make_user(session, email="other@example.org")
    day = date(2026, 3, 20)
    make_entry(session, user=user, day=day - timedelta(days=20), pain=10)
    make_entry(session, user=other, day=day - timedelta(days=2), tolerability=90)

    assert entries.check_in_due(session, user_id=user.id, day=day)


# --- retrospective: whose clock counts ------------------------------------------------------


def test_a_device_time_sent_through_the_api_does_not_hide_a_back_filled_day(
    session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened_account(session, user, datetime(2026, 1, 1, tzinfo=UTC))
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    day = date(2026, 2, 18)
    edit = device_edit("script", datetime(2026, 2, 18, 20, 0, tzinfo=UTC), pain=20)

    for source in ("api", "web", "import"):
        outcome = entries.save_entry(
            session, user=user, day=day, answers=edit, source=source, reason="edited"
        )
        assert outcome.entry is not None
        assert outcome.entry.retrospective is True, source
        session.delete(outcome.entry)
        session.commit()


def test_a_synced_device_time_never_counts_from_before_the_account_existed(
    session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The account was opened on 15 March; a "phone" claims it wrote 1 March that very evening.
    opened_account(session, user, datetime(2026, 3, 15, 8, 0, tzinfo=UTC))
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 15, 9, 0, tzinfo=UTC))
    backdated = device_edit("phone", datetime(2026, 3, 1, 21, 0, tzinfo=UTC), pain=20)
    in_time = device_edit("phone", datetime(2026, 3, 15, 8, 30, tzinfo=UTC), pain=30)

    late = entries.save_entry(
        session, user=user, day=date(2026, 3, 1), answers=backdated, source="sync"
    )
    fine = entries.save_entry(
        session, user=user, day=date(2026, 3, 14), answers=in_time, source="sync"
    )

    assert late.entry is not None and late.entry.retrospective is True
    assert fine.entry is not None and fine.entry.retrospective is False


def test_a_synced_device_time_in_the_future_counts_as_now(
    session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened_account(session, user, datetime(2026, 1, 1, tzinfo=UTC))
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    # A wrong clock far ahead still does not date the day before its own diary day.
    edit = device_edit("phone", datetime(2027, 1, 1, tzinfo=UTC), pain=20)

    outcome = entries.save_entry(
        session, user=user, day=date(2026, 3, 10), answers=edit, source="sync"
    )

    assert outcome.entry is not None and outcome.entry.retrospective is True


# --- replays: device clocks, deletions, same key with new answers ---------------------------


def test_a_replay_from_a_fast_device_clock_cannot_undo_a_later_edit(
    session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = date(2026, 3, 10)
    # The phone's clock runs an hour fast: its edit made at 10:00 says 11:00.
    phone = device_edit("phone", datetime(2026, 3, 10, 11, 0, tzinfo=UTC), pain=10)
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 10, 1, tzinfo=UTC))
    assert entries.save_entry(session, user=user, day=day, answers=phone, source="sync").status == (
        "created"
    )
    # 10:30: the tablet edits the day; it arrives at 10:31 and wins (10:30 is after 10:01).
    tablet = device_edit("tablet", datetime(2026, 3, 10, 10, 30, tzinfo=UTC), pain=90)
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 10, 31, tzinfo=UTC))
    assert entries.save_entry(
        session, user=user, day=day, answers=tablet, source="sync"
    ).status == ("replaced")
    # 10:50: the phone's outbox sends its old edit again.
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 10, 50, tzinfo=UTC))

    replay = entries.save_entry(session, user=user, day=day, answers=phone, source="sync")

    assert replay.status == "superseded"
    entry = stored(session, user, day)
    assert entry is not None
    assert (entry.ratings.get("pain"), entry.client_id) == (90, "tablet")
    [revision] = revisions(session, user, day)
    assert (revision.reason, revision.data["pain"]) == ("edited", 10)
    # The device's own time is what is kept, so the replay is recognised.
    assert revision.data["client_edited_at"] == "2026-03-10T11:00:00+00:00"


def test_a_fast_clock_edit_orders_by_when_it_arrived(
    session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = date(2026, 3, 10)
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 10, 1, tzinfo=UTC))
    fast = device_edit("phone", datetime(2026, 3, 10, 11, 0, tzinfo=UTC), pain=10)
    entries.save_entry(session, user=user, day=day, answers=fast, source="sync")
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 10, 40, tzinfo=UTC))
    # Made at 10:20, after the phone's edit reached the server at 10:01: it is the later edit.
    tablet = device_edit("tablet", datetime(2026, 3, 10, 10, 20, tzinfo=UTC), pain=90)

    outcome = entries.save_entry(session, user=user, day=day, answers=tablet, source="sync")

    assert outcome.status == "replaced"
    entry = stored(session, user, day)
    assert entry is not None
    assert entry.ratings.get("pain") == 90


def test_a_replay_after_the_day_was_deleted_does_not_bring_it_back(
    session: Session, user: User, today: date
) -> None:
    edit = device_edit("phone", EDITED, pain=30)
    saved = entries.save_entry(session, user=user, day=today, answers=edit, source="sync")
    assert saved.entry is not None
    entries.delete_entry(session, entry=saved.entry)

    replay = entries.save_entry(session, user=user, day=today, answers=edit, source="sync")

    assert replay.status == "stays_deleted"
    assert replay.entry is None
    assert stored(session, user, today) is None
    [revision] = revisions(session, user, today)
    assert revision.reason == "deleted"


def test_an_offline_edit_made_before_the_deletion_stays_in_the_history_only(
    session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = date(2026, 3, 10)
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    saved = entries.save_entry(session, user=user, day=day, answers=answers(pain=60), source="web")
    assert saved.entry is not None
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 10, 0, tzinfo=UTC))
    entries.delete_entry(session, entry=saved.entry)
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 11, 0, tzinfo=UTC))
    # Edited on the phone at 09:30, offline; it reaches the server at 11:00.
    phone = device_edit("phone", datetime(2026, 3, 10, 9, 30, tzinfo=UTC), pain=20)

    outcome = entries.save_entry(session, user=user, day=day, answers=phone, source="sync")
    again = entries.save_entry(session, user=user, day=day, answers=phone, source="sync")

    assert (outcome.status, again.status) == ("stays_deleted", "stays_deleted")
    assert stored(session, user, day) is None
    kept = revisions(session, user, day)
    assert [(revision.reason, revision.data["pain"]) for revision in kept] == [
        ("superseded", 20),
        ("deleted", 60),
    ]

    # An edit made after the deletion brings the day back.
    later = device_edit("phone", datetime(2026, 3, 10, 10, 30, tzinfo=UTC), pain=25)
    back = entries.save_entry(session, user=user, day=day, answers=later, source="sync")
    assert back.status == "created"
    assert back.entry is not None and back.entry.ratings.get("pain") == 25


def test_the_same_device_key_with_other_answers_is_a_new_edit(
    session: Session, user: User, today: date
) -> None:
    entries.save_entry(
        session, user=user, day=today, answers=device_edit("phone", EDITED, pain=30), source="sync"
    )
    different = device_edit("phone", EDITED, pain=45)

    outcome = entries.save_entry(session, user=user, day=today, answers=different, source="sync")

    assert outcome.status == "replaced"
    entry = stored(session, user, today)
    assert entry is not None
    assert entry.ratings.get("pain") == 45
    [revision] = revisions(session, user, today)
    assert revision.data["pain"] == 30


def test_the_same_device_key_with_other_answers_is_not_taken_for_a_replay_of_history(
    session: Session, user: User, today: date
) -> None:
    first = device_edit("phone", EDITED, pain=30)
    entries.save_entry(session, user=user, day=today, answers=first, source="sync")
    entries.save_entry(
        session,
        user=user,
        day=today,
        answers=device_edit("tablet", EDITED + timedelta(hours=1), pain=50),
        source="sync",
    )
    # The phone's key again, with other answers and still older than the tablet's edit.
    other = device_edit("phone", EDITED, pain=31)

    outcome = entries.save_entry(session, user=user, day=today, answers=other, source="sync")

    assert outcome.status == "superseded"
    assert sorted(revision.data["pain"] for revision in revisions(session, user, today)) == [
        30,
        31,
    ]


def test_deleting_keeps_the_version_saved_after_the_day_was_loaded(
    app: FastAPI, session: Session, user: User, today: date
) -> None:
    entries.save_entry(session, user=user, day=today, answers=answers(pain=10), source="web")
    loaded = stored(session, user, today)
    assert loaded is not None
    # Another request saves a new version before this one deletes the day it loaded.
    with Session(app.state.engine) as other:
        owner = other.get(User, user.id)
        assert owner is not None
        entries.save_entry(other, user=owner, day=today, answers=answers(pain=20), source="api")

    entries.delete_entry(session, entry=loaded)

    assert [
        (revision.reason, revision.data["pain"]) for revision in revisions(session, user, today)
    ] == [("deleted", 20), ("edited", 10)]


# --- batches --------------------------------------------------------------------------------


def test_a_batch_with_the_same_day_twice_writes_nothing(
    app: FastAPI, session: Session, user: User
) -> None:
    today = entries.patient_today(user)
    batch = [
        DatedEntryAnswers.model_validate(
            {"date": (today - timedelta(days=1)).isoformat(), "pain": 1}
        ),
        DatedEntryAnswers.model_validate({"date": today.isoformat(), "pain": 10}),
        DatedEntryAnswers.model_validate({"date": today.isoformat(), "pain": 20}),
    ]
    with Session(app.state.engine) as app_session:
        owner = app_session.get(User, user.id)
        assert owner is not None
        with pytest.raises(entries.DayRepeated) as repeated:
            entries.save_batch(app_session, user=owner, entries=batch, source="api")

    assert repeated.value.index == 2
    assert list(session.exec(select(DiaryEntry))) == []
