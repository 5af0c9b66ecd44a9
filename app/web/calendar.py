"""/calendar/<token>.ics: the private calendar feed (SPEC §13), no sign-in needed."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from app.db import DatabaseDep
from app.models import User
from app.reminders import store
from app.reminders.calendar import build_feed
from app.services.entries import patient_today

router = APIRouter()


@router.get("/calendar/{token}.ics")
def calendar_feed(token: str, request: Request, database: DatabaseDep) -> Response:
    with database.read() as session:
        user_id = store.calendar_owner(session, token=token)
        user = session.get(User, user_id) if user_id is not None else None
        if user is None:
            raise HTTPException(status_code=404, detail="No such calendar")
        body = build_feed(
            session,
            user=user,
            base_url=str(request.base_url).rstrip("/"),
            today=patient_today(user),
        )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'inline; filename="diary.ics"',
        },
    )
