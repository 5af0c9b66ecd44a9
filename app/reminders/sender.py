"""The reminder sender (SPEC §13): every reminder due now, sent once, at the patient's local time.

`python -m app.reminders once` calls `send_due` and exits; `run` calls it every minute.

Exactly once across several senders: a sender first claims a reminder by inserting its row
into `reminder_delivery`, whose unique key (patient, kind, local date) lets one insert win;
the others' inserts do nothing (ON CONFLICT DO NOTHING), so they skip it. The claim is
committed before anything is sent, and no database connection is held while a push service
is being called: a slow push service never holds a transaction or a lock open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from app.config import Settings
from app.db import Database
from app.models import (
    DiaryEntry,
    DoseStep,
    PushSubscription,
    ReminderDelivery,
    ReminderSettings,
    User,
    utcnow,
)
from app.reminders import webpush

log = logging.getLogger("app.reminders")

# A reminder is sent within this long after its time; a sender that was down longer skips it
# rather than reminding hours late (and a time set earlier today does not fire at once).
WINDOW = timedelta(minutes=60)
# Claims older than this are forgotten (they only need to outlive the window).
KEEP_CLAIMS = timedelta(days=8)

# What a notification says: never the drug, never a symptom (a lock screen is public).
MESSAGES: dict[str, dict[str, str]] = {
    "diary": {"title": "Your diary", "body": "Time for your diary. It takes a minute."},
    "dose": {"title": "A reminder you set", "body": "Time for your dose."},
    "step_day": {
        "title": "Your plan",
        "body": "Your plan has a new step today. Open your diary to choose what you do.",
    },
    "test": {"title": "Reminders work", "body": "This is how your reminders will look."},
}


def message(kind: str) -> dict[str, str]:
    """The notification for a kind of reminder; a tap opens /today."""
    return {**MESSAGES[kind], "url": "/today", "tag": kind}


@dataclass(frozen=True)
class DueReminder:
    user_id: int
    kind: str
    local_date: date


@dataclass
class SendReport:
    """What one pass did: reminders claimed, pushes delivered, subscriptions dropped."""

    due: int = 0
    claimed: int = 0
    delivered: int = 0
    dropped: int = 0
    failed: int = 0
    kinds: list[str] = field(default_factory=list)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _in_window(local_now: datetime, at: str) -> bool:
    """Did the wall clock reach `at` today within the last WINDOW of real time?

    The wall clock, so a reminder at 02:30 on the night the clocks skip that hour comes at
    03:00, and one in the repeated hour comes the first time round. Real time for the window:
    measured on the wall clock, a reminder at the very start of a skipped hour (02:00, or
    00:00 where the clocks go forward at midnight) had a window the clock jumped right over.
    """
    wall = local_now.replace(tzinfo=None)
    start = datetime.combine(wall.date(), _clock(at))
    earlier = (local_now.astimezone(UTC) - WINDOW).astimezone(local_now.tzinfo)
    return earlier.replace(tzinfo=None) < start <= wall


def due_reminders(session: Session, *, now: datetime) -> list[DueReminder]:
    """Every reminder whose local time has come (and not passed the window) at `now`."""
    rows = session.exec(
        select(ReminderSettings, User)
        .join(User, col(User.id) == ReminderSettings.user_id)
        .where(
            or_(
                col(ReminderSettings.diary_enabled),
                col(ReminderSettings.dose_enabled),
                col(ReminderSettings.step_day),
            )
        )
    ).all()
    due: list[DueReminder] = []
    for settings, user in rows:
        assert user.id is not None
        local_now = now.astimezone(_zone(user.timezone))
        today = local_now.date()
        if settings.diary_enabled and _in_window(local_now, settings.diary_time):
            logged = session.exec(
                select(DiaryEntry.id).where(DiaryEntry.user_id == user.id, DiaryEntry.day == today)
            ).first()
            if logged is None:  # nobody needs reminding of a day already logged
                due.append(DueReminder(user.id, "diary", today))
        if settings.dose_enabled and _in_window(local_now, settings.dose_time):
            due.append(DueReminder(user.id, "dose", today))
        # A step day is told at the dose reminder's time, before the evening's dose.
        if settings.step_day and _in_window(local_now, settings.dose_time):
            step = session.exec(
                select(DoseStep.id).where(
                    DoseStep.user_id == user.id,
                    DoseStep.start_date == today,
                    col(DoseStep.planned),
                )
            ).first()
            if step is not None:
                due.append(DueReminder(user.id, "step_day", today))
    return due


def _claim(session: Session, reminder: DueReminder) -> list[webpush.PushTarget] | None:
    """Claim the reminder for this sender and commit; None when another sender has it."""
    # Each dialect's INSERT … ON CONFLICT DO NOTHING (imported here: the web server never
    # claims, and the PostgreSQL dialect takes a while to import).
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = (
        insert(ReminderDelivery.__table__)  # type: ignore[attr-defined]
        .values(
            user_id=reminder.user_id,
            kind=reminder.kind,
            local_date=reminder.local_date,
            claimed_at=utcnow(),
            delivered=0,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "kind", "local_date"])
        .returning(ReminderDelivery.__table__.c.id)  # type: ignore[attr-defined]
    )
    won = session.execute(statement).first()
    if won is None:
        session.rollback()
        return None
    targets = _targets(session, reminder.user_id)
    session.commit()
    return targets


def _targets(session: Session, user_id: int) -> list[webpush.PushTarget]:
    subscriptions = session.exec(
        select(PushSubscription).where(PushSubscription.user_id == user_id)
    ).all()
    return [webpush.PushTarget(row.endpoint, row.p256dh, row.auth) for row in subscriptions]


PushFunction = Callable[[webpush.PushTarget, dict[str, str]], webpush.Outcome]


def _pusher(settings: Settings) -> PushFunction:
    private_key = settings.resolved_vapid_private_key()
    allowed = settings.allowed_push_origins

    def push(target: webpush.PushTarget, payload: dict[str, str]) -> webpush.Outcome:
        return webpush.send(
            target,
            payload,
            private_key=private_key,
            subject=settings.vapid_subject,
            allowed_origins=allowed,
        )

    return push


def _deliver(
    database: Database,
    push: PushFunction,
    *,
    user_id: int,
    targets: list[webpush.PushTarget],
    payload: dict[str, str],
    report: SendReport,
) -> int:
    """Send to each of the patient's browsers (no connection held), then note the answers."""
    outcomes = [(target, push(target, payload)) for target in targets]
    delivered = [target.endpoint for target, outcome in outcomes if outcome.delivered]
    gone = [target.endpoint for target, outcome in outcomes if outcome.gone]
    report.delivered += len(delivered)
    report.dropped += len(gone)
    report.failed += len(outcomes) - len(delivered) - len(gone)
    if delivered or gone:
        with database.write() as session:
            if gone:
                session.execute(
                    delete(PushSubscription).where(
                        col(PushSubscription.user_id) == user_id,
                        col(PushSubscription.endpoint).in_(gone),
                    )
                )
            for row in session.exec(
                select(PushSubscription).where(col(PushSubscription.endpoint).in_(delivered))
            ):
                row.last_sent_at = utcnow()
                session.add(row)
            session.commit()
    return len(delivered)


def send_due(
    database: Database,
    settings: Settings,
    *,
    now: datetime | None = None,
    push: PushFunction | None = None,
) -> SendReport:
    """Send every reminder due at `now` that no other sender has claimed."""
    now = now or datetime.now(UTC)
    push = push or _pusher(settings)
    report = SendReport()
    with database.read() as session:
        due = due_reminders(session, now=now)
    report.due = len(due)
    for reminder in due:
        with database.write() as session:
            targets = _claim(session, reminder)
        if targets is None:
            continue
        report.claimed += 1
        report.kinds.append(reminder.kind)
        delivered = _deliver(
            database,
            push,
            user_id=reminder.user_id,
            targets=targets,
            payload=message(reminder.kind),
            report=report,
        )
        if delivered:
            with database.write() as session:
                row = session.exec(
                    select(ReminderDelivery).where(
                        ReminderDelivery.user_id == reminder.user_id,
                        ReminderDelivery.kind == reminder.kind,
                        ReminderDelivery.local_date == reminder.local_date,
                    )
                ).one()
                row.delivered = delivered
                session.add(row)
                session.commit()
    _forget_old_claims(database, now)
    return report


def _forget_old_claims(database: Database, now: datetime) -> None:
    with database.write() as session:
        cutoff = (now - KEEP_CLAIMS).date()
        session.execute(delete(ReminderDelivery).where(col(ReminderDelivery.local_date) < cutoff))
        session.commit()


def send_test(
    database: Database, settings: Settings, *, user_id: int, push: PushFunction | None = None
) -> SendReport:
    """A test notification to each of the patient's browsers, now (Settings' test button)."""
    push = push or _pusher(settings)
    report = SendReport()
    with database.read() as session:
        targets = _targets(session, user_id)
    _deliver(
        database, push, user_id=user_id, targets=targets, payload=message("test"), report=report
    )
    return report
