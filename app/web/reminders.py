"""/settings/reminders: reminder times, this browser's push subscription, the calendar address.

Only stores what the patient sets up (app/reminders sends). The times form is a plain form;
subscribing needs the browser's Push API, so static/js/reminders.js posts the subscription
JSON here with the page's CSRF token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.db import Database, DatabaseDep
from app.deps import WebUser
from app.models import User
from app.reminders import store, webpush
from app.responses import JSONResponse
from app.schemas import PushSubscriptionIn, PushSubscriptionRemove, RemindersSettingsIn
from app.web.templating import render

router = APIRouter(prefix="/settings/reminders")
_TIME_MESSAGE = "Enter a time like 20:00"


def _page(
    request: Request,
    database: Database,
    user: User,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    calendar_url: str | None = None,
    status_code: int = 200,
) -> Response:
    assert user.id is not None
    with database.read() as session:
        current = store.as_schema(store.get_settings(session, user_id=user.id))
        subscriptions = len(store.list_subscriptions(session, user_id=user.id))
        has_calendar = store.has_calendar_feed(session, user_id=user.id)
    if values is None:
        values = {
            "diary_enabled": current.diary.enabled,
            "diary_time": current.diary.time,
            "dose_enabled": current.dose.enabled,
            "dose_time": current.dose.time,
            "step_day": current.step_day,
        }
    message = {
        "saved": "Reminder times saved.",
        "calendar-stopped": "The calendar address is stopped: calendars using it get nothing more.",
    }.get(request.query_params.get("message", ""))
    return render(
        request,
        "settings/reminders.html",
        {
            "values": values,
            "errors": errors or {},
            "message": message,
            "timezone": user.timezone,
            "subscriptions": subscriptions,
            "vapid_public_key": webpush.public_key(
                request.app.state.settings.resolved_vapid_private_key()
            ),
            "has_calendar": has_calendar,
            "calendar_url": calendar_url,
        },
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
def reminders_page(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    return _page(request, database, user)


@router.post("", response_class=HTMLResponse)
async def save_times(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    assert user.id is not None
    form = await request.form()
    values: dict[str, Any] = {
        "diary_enabled": form.get("diary_enabled") == "on",
        "diary_time": str(form.get("diary_time") or "").strip(),
        "dose_enabled": form.get("dose_enabled") == "on",
        "dose_time": str(form.get("dose_time") or "").strip(),
        "step_day": form.get("step_day") == "on",
    }
    try:
        data = RemindersSettingsIn.model_validate(
            {
                "diary": {"enabled": values["diary_enabled"], "time": values["diary_time"]},
                "dose": {"enabled": values["dose_enabled"], "time": values["dose_time"]},
                "step_day": values["step_day"],
            }
        )
    except ValidationError as invalid:
        errors = {f"{error['loc'][0]}_time": _TIME_MESSAGE for error in invalid.errors()}
        return await run_in_threadpool(
            _page, request, database, user, values=values, errors=errors, status_code=422
        )
    await run_in_threadpool(_save_settings, database, user, data)
    return RedirectResponse("/settings/reminders?message=saved", status_code=303)


def _save_settings(database: Database, user: User, data: RemindersSettingsIn) -> None:
    assert user.id is not None
    with database.write() as session:
        store.save_settings(session, user_id=user.id, data=data)


def _problem(field: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"loc": ["body", field], "msg": message, "type": "value_error"}]},
        status_code=422,
    )


@router.post("/subscription")
async def subscribe(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    """This browser's PushSubscription.toJSON(), sent by static/js/reminders.js."""
    assert user.id is not None
    try:
        data = PushSubscriptionIn.model_validate_json(await request.body())
    except ValidationError as invalid:
        error = invalid.errors()[0]
        return _problem(str(error["loc"][0]) if error["loc"] else "body", str(error["msg"]))
    allowed = request.app.state.settings.allowed_push_origins

    def keep() -> None:
        assert user.id is not None
        with database.write() as session:
            store.subscribe(session, user_id=user.id, data=data, allowed_origins=allowed)

    try:
        await run_in_threadpool(keep)
    except store.SubscriptionRefused as refusal:
        return _problem(refusal.field, str(refusal))
    return JSONResponse({"subscribed": True}, status_code=201)


@router.post("/subscription/delete")
async def unsubscribe(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    assert user.id is not None
    try:
        data = PushSubscriptionRemove.model_validate_json(await request.body())
    except ValidationError:
        return _problem("endpoint", "Send the endpoint of this browser's subscription")

    def forget() -> bool:
        assert user.id is not None
        with database.write() as session:
            return store.unsubscribe(session, user_id=user.id, endpoint=data.endpoint)

    return JSONResponse({"removed": await run_in_threadpool(forget)})


@router.post("/test")
def send_test(
    request: Request,
    database: DatabaseDep,
    user: WebUser,
) -> Response:
    """A test notification to each of the patient's browsers, now (no session is open while
    pushing: WebUser reads in its own short block)."""
    from app.reminders import sender  # only this button needs it in the web server

    assert user.id is not None
    report = sender.send_test(database, request.app.state.settings, user_id=user.id)
    return JSONResponse(
        {"sent": report.delivered, "dropped": report.dropped, "failed": report.failed}
    )


@router.post("/calendar", response_class=HTMLResponse)
def new_calendar(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    """A new private calendar address, shown once; an earlier one stops working."""
    assert user.id is not None
    with database.write() as session:
        token = store.new_calendar_feed(session, user_id=user.id)
    url = str(request.base_url).rstrip("/") + f"/calendar/{token}.ics"
    return _page(request, database, user, calendar_url=url)


@router.post("/calendar/stop")
def stop_calendar(database: DatabaseDep, user: WebUser) -> Response:
    assert user.id is not None
    with database.write() as session:
        store.stop_calendar_feed(session, user_id=user.id)
    return RedirectResponse("/settings/reminders?message=calendar-stopped", status_code=303)
