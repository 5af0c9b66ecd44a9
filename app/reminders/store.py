"""What the patient set up for reminders: times, push subscriptions, the calendar address.

The pages and the API only store these; the sender (app/reminders/sender.py) reads them.
"""

from __future__ import annotations

import re
import secrets

from sqlmodel import Session, select

from app.models import CalendarFeed, PushSubscription, ReminderSettings, utcnow
from app.reminders import webpush
from app.schemas import PushSubscriptionIn, RemindersSettingsIn, ReminderTime
from app.services.accounts import hash_secret

# What secrets.token_urlsafe(32) produces: anything else is not looked up at all.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}\Z")


class SubscriptionRefused(ValueError):
    """The subscription cannot be used; `field` names the part that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def get_settings(session: Session, *, user_id: int) -> ReminderSettings:
    """The patient's reminder settings (all off until they turn one on)."""
    found = session.exec(
        select(ReminderSettings).where(ReminderSettings.user_id == user_id)
    ).first()
    return found or ReminderSettings(user_id=user_id)


def as_schema(row: ReminderSettings) -> RemindersSettingsIn:
    return RemindersSettingsIn(
        diary=ReminderTime(enabled=row.diary_enabled, time=row.diary_time),
        dose=ReminderTime(enabled=row.dose_enabled, time=row.dose_time),
        step_day=row.step_day,
    )


def save_settings(session: Session, *, user_id: int, data: RemindersSettingsIn) -> ReminderSettings:
    row = get_settings(session, user_id=user_id)
    row.diary_enabled = data.diary.enabled
    row.diary_time = data.diary.time
    row.dose_enabled = data.dose.enabled
    row.dose_time = data.dose.time
    row.step_day = data.step_day
    row.updated_at = utcnow()
    session.add(row)
    session.commit()
    return row


def list_subscriptions(session: Session, *, user_id: int) -> list[PushSubscription]:
    statement = select(PushSubscription).where(PushSubscription.user_id == user_id)
    return list(session.exec(statement.order_by(PushSubscription.id)))  # type: ignore[arg-type]


def subscribe(
    session: Session,
    *,
    user_id: int,
    data: PushSubscriptionIn,
    allowed_origins: frozenset[str],
) -> tuple[PushSubscription, bool]:
    """Keep a browser's subscription; returns it and whether it is new.

    Raises SubscriptionRefused for an endpoint the server must not post to, or unusable keys.
    An endpoint another account had is moved to this one (the browser signed in anew).
    """
    problem = webpush.endpoint_problem(data.endpoint, allowed_origins)
    if problem is not None:
        raise SubscriptionRefused("endpoint", problem)
    problem = webpush.keys_problem(data.keys.p256dh, data.keys.auth)
    if problem is not None:
        raise SubscriptionRefused("keys", problem)
    found = session.exec(
        select(PushSubscription).where(PushSubscription.endpoint == data.endpoint)
    ).first()
    created = found is None
    row = found or PushSubscription(user_id=user_id, endpoint=data.endpoint, p256dh="", auth="")
    row.user_id = user_id
    row.p256dh = data.keys.p256dh
    row.auth = data.keys.auth
    session.add(row)
    session.commit()
    session.refresh(row)
    return row, created


def unsubscribe(session: Session, *, user_id: int, endpoint: str) -> bool:
    """Forget this browser's subscription; False when the patient had none at that address."""
    row = session.exec(
        select(PushSubscription).where(
            PushSubscription.user_id == user_id, PushSubscription.endpoint == endpoint
        )
    ).first()
    if row is None:
        return False
    session.delete(row)
    session.commit()
    return True


def new_calendar_feed(session: Session, *, user_id: int) -> str:
    """A new private calendar token (shown once); any earlier address stops working."""
    token = secrets.token_urlsafe(32)
    feed = session.exec(select(CalendarFeed).where(CalendarFeed.user_id == user_id)).first()
    feed = feed or CalendarFeed(user_id=user_id, token_hash="")
    feed.token_hash = hash_secret(token)
    feed.created_at = utcnow()
    session.add(feed)
    session.commit()
    return token


def has_calendar_feed(session: Session, *, user_id: int) -> bool:
    statement = select(CalendarFeed.id).where(CalendarFeed.user_id == user_id)
    return session.exec(statement).first() is not None


def stop_calendar_feed(session: Session, *, user_id: int) -> bool:
    """Stop the calendar address; False when there was none."""
    feed = session.exec(select(CalendarFeed).where(CalendarFeed.user_id == user_id)).first()
    if feed is None:
        return False
    session.delete(feed)
    session.commit()
    return True


def calendar_owner(session: Session, *, token: str) -> int | None:
    """The user id a calendar token opens, or None."""
    if not _TOKEN_SHAPE.match(token):
        return None
    statement = select(CalendarFeed.user_id).where(CalendarFeed.token_hash == hash_secret(token))
    return session.exec(statement).first()
