"""Reminder settings, Web Push subscriptions and the calendar address (SPEC §13).

These routes only store what the patient set up; app/reminders sends the reminders.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from sqlmodel import Session

from app.db import DatabaseDep
from app.deps import ApiUser
from app.models import User
from app.reminders import store, webpush
from app.schemas import (
    CalendarFeedCreated,
    PushSubscriptionIn,
    PushSubscriptionPublic,
    PushSubscriptionRemove,
    PushTestResult,
    RemindersSettingsIn,
    RemindersSettingsPublic,
)

router = APIRouter(tags=["reminders"])


def refused_field(field: str, message: str) -> HTTPException:
    """A 422 in FastAPI's shape, naming the field."""
    return HTTPException(
        status_code=422,
        detail=[{"loc": ["body", field], "msg": message, "type": "value_error"}],
    )


def _public(request: Request, session: Session, user: User) -> RemindersSettingsPublic:
    assert user.id is not None
    row = store.get_settings(session, user_id=user.id)
    return RemindersSettingsPublic(
        **store.as_schema(row).model_dump(),
        timezone=user.timezone,
        push_subscriptions=len(store.list_subscriptions(session, user_id=user.id)),
        vapid_public_key=webpush.public_key(
            request.app.state.settings.resolved_vapid_private_key()
        ),
    )


@router.get("/reminders", response_model=RemindersSettingsPublic)
def get_reminders(
    request: Request, user: ApiUser, database: DatabaseDep
) -> RemindersSettingsPublic:
    """Your reminders, at your local time (your time zone), and the key browsers subscribe with."""
    with database.read() as session:
        return _public(request, session, user)


@router.put("/reminders", response_model=RemindersSettingsPublic)
def put_reminders(
    data: RemindersSettingsIn, request: Request, user: ApiUser, database: DatabaseDep
) -> RemindersSettingsPublic:
    assert user.id is not None
    with database.write() as session:
        store.save_settings(session, user_id=user.id, data=data)
    with database.read() as session:
        return _public(request, session, user)


@router.post("/push-subscriptions", status_code=201, response_model=PushSubscriptionPublic)
def subscribe(
    data: PushSubscriptionIn,
    request: Request,
    response: Response,
    user: ApiUser,
    database: DatabaseDep,
) -> PushSubscriptionPublic:
    """Keep this browser's push subscription (PushSubscription.toJSON()). Only HTTPS endpoints
    of known push services, or origins in PUSH_ALLOWED_ORIGINS, are accepted (else 422)."""
    assert user.id is not None
    try:
        with database.write() as session:
            row, created = store.subscribe(
                session,
                user_id=user.id,
                data=data,
                allowed_origins=request.app.state.settings.allowed_push_origins,
            )
    except store.SubscriptionRefused as refusal:
        raise refused_field(refusal.field, str(refusal)) from None
    if not created:
        response.status_code = 200
    assert row.id is not None
    return PushSubscriptionPublic(id=row.id, endpoint=row.endpoint, created_at=row.created_at)


@router.delete("/push-subscriptions", status_code=204)
def unsubscribe(data: PushSubscriptionRemove, user: ApiUser, database: DatabaseDep) -> Response:
    assert user.id is not None
    with database.write() as session:
        removed = store.unsubscribe(session, user_id=user.id, endpoint=data.endpoint)
    if not removed:
        raise HTTPException(status_code=404, detail="No subscription at that endpoint")
    return Response(status_code=204)


@router.post("/push-subscriptions/test", response_model=PushTestResult)
def send_test(
    request: Request,
    database: DatabaseDep,
    user: ApiUser,
) -> PushTestResult:
    """A test notification to each of your browsers, now."""
    from app.reminders import sender  # the web server needs it for this button only

    assert user.id is not None
    report = sender.send_test(database, request.app.state.settings, user_id=user.id)
    return PushTestResult(sent=report.delivered, dropped=report.dropped, failed=report.failed)


@router.post("/calendar-feed", status_code=201, response_model=CalendarFeedCreated)
def new_calendar_feed(
    request: Request, user: ApiUser, database: DatabaseDep
) -> CalendarFeedCreated:
    """A private calendar address (iCalendar); an earlier one stops working."""
    assert user.id is not None
    with database.write() as session:
        token = store.new_calendar_feed(session, user_id=user.id)
    return CalendarFeedCreated(url=calendar_url(request, token))


@router.delete("/calendar-feed", status_code=204)
def stop_calendar_feed(user: ApiUser, database: DatabaseDep) -> Response:
    assert user.id is not None
    with database.write() as session:
        stopped = store.stop_calendar_feed(session, user_id=user.id)
    if not stopped:
        raise HTTPException(status_code=404, detail="No calendar address")
    return Response(status_code=204)


def calendar_url(request: Request, token: str) -> str:
    return str(request.base_url).rstrip("/") + f"/calendar/{token}.ics"
