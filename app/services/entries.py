"""Diary entries (SPEC §2): saving a day, keeping every earlier version, listing days.

Every write goes through `save_entry` or `delete_entry`, which keep the version being
replaced in `entry_revision`, so nothing a patient wrote is ever lost silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.items import OTHER_ANSWER_KEYS, RATED_KEYS, SIDE_EFFECT_KEYS
from app.models import DiaryEntry, DoseStep, EntryRevision, User, utcnow
from app.schemas import EARLIEST_DIARY_DAY, DatedEntryAnswers, EntryAnswers, EntryPublic
from app.services.dose_steps import format_day, list_steps, step_in_force

Source = Literal["web", "api", "sync", "import"]
SaveStatus = Literal["created", "replaced", "unchanged", "kept_newer"]
ANSWER_KEYS: tuple[str, ...] = (
    *RATED_KEYS,
    *SIDE_EFFECT_KEYS,
    *OTHER_ANSWER_KEYS,
)
CHECK_IN_KEYS = ("tolerability", "pgic")


class DiaryDayRefused(ValueError):
    """The diary day is outside what can be recorded (after tomorrow, or implausibly old)."""

    index: int | None = None  # position in a batch, when the day came in one


@dataclass(frozen=True)
class SaveOutcome:
    entry: DiaryEntry
    status: SaveStatus


def patient_now(user: User) -> datetime:
    return datetime.now(ZoneInfo(user.timezone))


def patient_today(user: User) -> date:
    """Today on the patient's own calendar, not the server's."""
    return patient_now(user).date()


def check_diary_day(day: date, *, today: date) -> None:
    """Refuse days after tomorrow and days before the year 2000."""
    if day > today + timedelta(days=1):
        raise DiaryDayRefused(
            f"{format_day(day)} is in the future. You can fill in today or tomorrow, not later."
        )
    if day < EARLIEST_DIARY_DAY:
        raise DiaryDayRefused("Diary days start in the year 2000.")


def is_retrospective(day: date, *, first_saved: datetime, timezone: str) -> bool:
    """Saved after the end of the day following the diary day, on the patient's clock."""
    zone = ZoneInfo(timezone)
    deadline = datetime.combine(day + timedelta(days=2), time(0, 0), tzinfo=zone)
    return first_saved >= deadline


def answers_dict(entry: DiaryEntry) -> dict[str, Any]:
    """The entry's answers, in the flat column shape."""
    return {key: getattr(entry, key) for key in ANSWER_KEYS}


def _flat_answers(answers: EntryAnswers) -> dict[str, Any]:
    flat = {key: getattr(answers, key) for key in ANSWER_KEYS if key not in SIDE_EFFECT_KEYS}
    flat.update({key: getattr(answers.side_effects, key) for key in SIDE_EFFECT_KEYS})
    return flat


def entry_snapshot(entry: DiaryEntry) -> dict[str, Any]:
    """A JSON-ready copy of a version of the day, kept in the revision history."""
    data = answers_dict(entry)
    data["side_effects"] = {key: data.pop(key) for key in SIDE_EFFECT_KEYS}
    data["date"] = entry.day.isoformat()
    data["source"] = entry.source
    data["client_id"] = entry.client_id
    data["client_edited_at"] = (
        entry.client_edited_at.isoformat() if entry.client_edited_at else None
    )
    return data


def get_entry(session: Session, *, user_id: int, day: date) -> DiaryEntry | None:
    statement = select(DiaryEntry).where(DiaryEntry.user_id == user_id, DiaryEntry.day == day)
    return session.exec(statement).first()


def list_entries(
    session: Session, *, user_id: int, start: date | None = None, end: date | None = None
) -> list[DiaryEntry]:
    """The patient's entries between two dates (inclusive, both optional), oldest first."""
    statement = select(DiaryEntry).where(DiaryEntry.user_id == user_id)
    if start is not None:
        statement = statement.where(DiaryEntry.day >= start)
    if end is not None:
        statement = statement.where(DiaryEntry.day <= end)
    return list(session.exec(statement.order_by(col(DiaryEntry.day))))


def _keep_revision(
    session: Session, *, entry: DiaryEntry, reason: str, data: dict[str, Any] | None = None
) -> None:
    session.add(
        EntryRevision(
            user_id=entry.user_id,
            day=entry.day,
            data=data if data is not None else entry_snapshot(entry),
            source=entry.source,
            saved_at=entry.updated_at,
            reason=reason,
        )
    )


def _client_time(answers: EntryAnswers) -> datetime | None:
    """The device's edit time in UTC (naive means UTC), never later than now."""
    if answers.client_edited_at is None:
        return None
    stamp = answers.client_edited_at
    stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    return min(stamp, utcnow())


def save_entry(
    session: Session,
    *,
    user: User,
    day: date,
    answers: EntryAnswers,
    source: Source,
    commit: bool = True,
    reason: str = "edited",
) -> SaveOutcome:
    """Create or replace the patient's entry for `day`, keeping the replaced version.

    Replays of the same device edit change nothing. When two devices edited the same day,
    the later client edit time wins and the other version goes to the revision history.
    """
    assert user.id is not None
    check_diary_day(day, today=patient_today(user))
    new_values = _flat_answers(answers)
    client_time = _client_time(answers)
    now = utcnow()
    entry = get_entry(session, user_id=user.id, day=day)

    if entry is None:
        first_saved = client_time or now
        entry = DiaryEntry(
            user_id=user.id,
            day=day,
            source=source,
            retrospective=is_retrospective(day, first_saved=first_saved, timezone=user.timezone),
            created_at=now,
            updated_at=now,
            client_id=answers.client_id,
            client_edited_at=client_time,
            **new_values,
        )
        session.add(entry)
        status: SaveStatus = "created"
    elif (
        answers.client_id is not None
        and entry.client_id == answers.client_id
        and entry.client_edited_at == client_time
    ):
        status = "unchanged"  # the same device edit arriving again
    elif client_time is not None and client_time < (entry.client_edited_at or entry.updated_at):
        # An older edit from another device (or one made before the day was last saved
        # online, which has no device time: its save time stands in): keep it in the history.
        status = "kept_newer"
        incoming = DiaryEntry(
            user_id=user.id,
            day=day,
            source=source,
            updated_at=now,
            client_id=answers.client_id,
            client_edited_at=client_time,
            **new_values,
        )
        snapshot = entry_snapshot(incoming)
        if not _revision_exists(session, user_id=user.id, day=day, snapshot=snapshot):
            _keep_revision(session, entry=incoming, reason="superseded", data=snapshot)
    elif answers_dict(entry) == new_values and entry.client_id == answers.client_id:
        status = "unchanged"
    else:
        _keep_revision(session, entry=entry, reason=reason)
        for key, value in new_values.items():
            setattr(entry, key, value)
        entry.source = source
        entry.updated_at = now
        entry.client_id = answers.client_id
        entry.client_edited_at = client_time
        session.add(entry)
        status = "replaced"

    if commit:
        session.commit()  # every field is set here, so nothing needs reading back
    else:
        session.flush()
    return SaveOutcome(entry=entry, status=status)


def _revision_exists(
    session: Session, *, user_id: int, day: date, snapshot: dict[str, Any]
) -> bool:
    statement = select(EntryRevision).where(
        EntryRevision.user_id == user_id, EntryRevision.day == day
    )
    return any(revision.data == snapshot for revision in session.exec(statement))


def save_batch(
    session: Session, *, user: User, entries: Sequence[DatedEntryAnswers], source: Source
) -> list[SaveOutcome]:
    """Save every entry or none: one transaction, rolled back on the first refusal."""
    today = patient_today(user)
    for index, item in enumerate(entries):
        try:
            check_diary_day(item.date, today=today)
        except DiaryDayRefused as refusal:
            refusal.index = index
            raise
    try:
        outcomes = [
            save_entry(session, user=user, day=item.date, answers=item, source=source, commit=False)
            for item in entries
        ]
        session.commit()
    except Exception:
        session.rollback()
        raise
    for outcome in outcomes:
        session.refresh(outcome.entry)
    return outcomes


def delete_entry(session: Session, *, entry: DiaryEntry) -> None:
    """Remove a day from the diary; its last version stays in the revision history."""
    _keep_revision(session, entry=entry, reason="deleted")
    session.delete(entry)
    session.commit()


def list_revisions(session: Session, *, user_id: int, day: date) -> list[EntryRevision]:
    """Earlier versions of a day, newest first."""
    statement = (
        select(EntryRevision)
        .where(EntryRevision.user_id == user_id, EntryRevision.day == day)
        .order_by(col(EntryRevision.replaced_at).desc(), col(EntryRevision.id).desc())
    )
    return list(session.exec(statement))


def entry_public(entry: DiaryEntry, *, steps: Sequence[DoseStep]) -> EntryPublic:
    """The API shape of an entry, with the dose the schedule sets for that day."""
    step = step_in_force(steps, entry.day)
    values = answers_dict(entry)
    side_effects = {key: values.pop(key) for key in SIDE_EFFECT_KEYS}
    return EntryPublic(
        date=entry.day,
        side_effects=side_effects,
        scheduled_dose_mg=step.dose_mg if step else None,
        source=entry.source,
        retrospective=entry.retrospective,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
        **values,
    )


def entries_public(session: Session, *, user_id: int, entries: Sequence[DiaryEntry]) -> list[Any]:
    steps = list_steps(session, user_id=user_id)
    return [entry_public(entry, steps=steps) for entry in entries]


def check_in_due(session: Session, *, user_id: int, day: date) -> bool:
    """True when the 14-day check-in (tolerability, PGIC) should be asked on `day`."""
    window_start = day - timedelta(days=13)
    recent = select(DiaryEntry.id).where(
        DiaryEntry.user_id == user_id,
        DiaryEntry.day >= window_start,
        DiaryEntry.day < day,
        (col(DiaryEntry.tolerability).is_not(None)) | (col(DiaryEntry.pgic).is_not(None)),
    )
    if session.exec(recent).first() is not None:
        return False
    # A new diary asks first once it has run for two weeks.
    earlier = select(DiaryEntry.id).where(
        DiaryEntry.user_id == user_id, DiaryEntry.day <= window_start
    )
    return session.exec(earlier).first() is not None
