"""Three senders at once on one PostgreSQL send each due reminder exactly once (SPEC §13)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import Session

from app.config import Settings
from app.db import make_database
from app.models import ReminderSettings, User
from app.reminders import sender, webpush
from tests.factories import make_user
from tests.reminders.push_receiver import BrowserKeys, PushReceiver, push_receiver

pytestmark = pytest.mark.postgres_only  # SQLite runs one sender
SENDERS = 3
PATIENTS = 12
NOW = datetime(2026, 3, 10, 20, 5, tzinfo=UTC)


@pytest.fixture
def receiver(settings: Settings) -> Iterator[PushReceiver]:
    with push_receiver() as service:
        settings.push_allowed_origins = service.origin
        yield service


def test_three_senders_at_once_send_each_reminder_once(
    app: FastAPI, session: Session, settings: Settings, receiver: PushReceiver
) -> None:
    from app.models import PushSubscription

    for index in range(PATIENTS):
        patient: User = make_user(session, email=f"p{index}@example.org")
        assert patient.id is not None
        session.add(
            ReminderSettings(
                user_id=patient.id,
                diary_enabled=True,
                diary_time="20:00",
                dose_enabled=True,
                dose_time="20:05",
            )
        )
        keys = BrowserKeys.new().subscription(f"{receiver.origin}/push/{index}")
        session.add(
            PushSubscription(
                user_id=patient.id,
                endpoint=str(keys["endpoint"]),
                p256dh=keys["keys"]["p256dh"],  # type: ignore[index]
                auth=keys["keys"]["auth"],  # type: ignore[index]
            )
        )
    session.commit()

    # Every sender lists the same due reminders before any of them claims one.
    listed = threading.Barrier(SENDERS, timeout=30)
    real_due = sender.due_reminders

    def due_then_wait(db: Session, **kwargs: Any) -> list[sender.DueReminder]:
        found = real_due(db, **kwargs)
        listed.wait(timeout=30)
        return found

    reports: list[Any] = [None] * SENDERS

    def run(index: int) -> None:
        database = make_database(settings)  # one process each: its own engine and connections
        try:
            reports[index] = sender.send_due(database, settings, now=NOW)
        except Exception as error:  # reported below, not lost in the thread
            reports[index] = error
        finally:
            database.dispose()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sender, "due_reminders", due_then_wait)
        threads = [threading.Thread(target=run, args=(index,)) for index in range(SENDERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)

    assert not [report for report in reports if isinstance(report, Exception)], reports
    assert all(report.due == 2 * PATIENTS for report in reports)
    assert sum(report.claimed for report in reports) == 2 * PATIENTS
    paths = sorted(request.path for request in receiver.received)
    assert paths == sorted(f"/push/{index}" for index in range(PATIENTS) for _ in range(2))
    assert webpush.TTL_SECONDS > 0
