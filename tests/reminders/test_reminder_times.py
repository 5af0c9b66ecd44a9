"""When a reminder is due, minute by minute, on ordinary days and when the clocks change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from app.models import ReminderSettings
from app.reminders.sender import due_reminders
from tests.factories import make_user


def _due_minutes(
    session: Session, *, zone: str, at: str, start: datetime, hours: int = 30
) -> list[datetime]:
    """Every minute (UTC) in `hours` from `start` at which the diary reminder is due."""
    user = make_user(
        session, email=f"{zone.replace('/', '-').lower()}-{at}@example.org", timezone=zone
    )
    session.add(ReminderSettings(user_id=user.id, diary_enabled=True, diary_time=at))
    session.commit()
    minutes = []
    for minute in range(hours * 60):
        now = start + timedelta(minutes=minute)
        if any(due.user_id == user.id for due in due_reminders(session, now=now)):
            minutes.append(now)
    return minutes


def test_an_ordinary_day_gives_the_hour_after_the_time(session: Session) -> None:
    due = _due_minutes(
        session, zone="Europe/Berlin", at="20:00", start=datetime(2027, 1, 10, 12, tzinfo=UTC)
    )
    # 20:00 to 20:59 in Berlin (UTC+1), on one day only.
    assert due[0] == datetime(2027, 1, 10, 19, 0, tzinfo=UTC)
    assert due[-1] == datetime(2027, 1, 10, 19, 59, tzinfo=UTC) and len(due) == 60


@pytest.mark.parametrize(
    ("zone", "at", "start", "first"),
    [
        # Berlin skips 02:00–02:59 on 28 March 2027: both come when the clock shows 03:00.
        (
            "Europe/Berlin",
            "02:00",
            datetime(2027, 3, 27, 12, tzinfo=UTC),
            datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
        ),
        (
            "Europe/Berlin",
            "02:30",
            datetime(2027, 3, 27, 12, tzinfo=UTC),
            datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
        ),
        # Santiago skips from midnight to 01:00 on 6 September 2026.
        (
            "America/Santiago",
            "00:00",
            datetime(2026, 9, 5, 12, tzinfo=UTC),
            datetime(2026, 9, 6, 4, 0, tzinfo=UTC),
        ),
        # Berlin has 02:00–02:59 twice on 31 October 2027: the first time round.
        (
            "Europe/Berlin",
            "02:30",
            datetime(2027, 10, 30, 12, tzinfo=UTC),
            datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
        ),
    ],
)
def test_a_reminder_comes_on_the_days_the_clocks_change(
    session: Session, zone: str, at: str, start: datetime, first: datetime
) -> None:
    """A reminder at the very start of a skipped hour never came: measured on the wall
    clock, its window was the hour the clock jumped over."""
    due = _due_minutes(session, zone=zone, at=at, start=start)
    assert due, f"{at} in {zone} never came"
    assert due[0] == first
    # At most an hour of real time in all (once it is sent, the day's claim stops a repeat).
    assert len(due) <= 60 and due[-1] - due[0] < timedelta(hours=3)
