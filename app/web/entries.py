"""/today, /entries/{date} (the daily entry form) and /history (a month of days)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from app.db import Database, DatabaseDep
from app.deps import WebUser
from app.items import Item
from app.items.patient import catalogue_for
from app.models import DiaryEntry, User
from app.schemas import EARLIEST_DIARY_DAY
from app.services import dose_plan, dose_steps, entries, history
from app.trials.service import today_status as trial_today_status
from app.web import form_numbers
from app.web.entry_form import (
    form_values,
    no_side_effects,
    parse_entry_form,
    problems,
    side_effects_open,
)
from app.web.revisions import day_history
from app.web.templating import is_htmx, render

router = APIRouter()


def _parse_day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise HTTPException(status_code=404, detail="There is no such day.") from None


def _day_refused(request: Request, refusal: entries.DiaryDayRefused) -> Response:
    """A day that cannot be filled in (after tomorrow, or before 2000), said in plain words."""
    return render(request, "error.html", {"status": 404, "message": str(refusal)}, status_code=404)


def _form_context(
    session: Session, user: User, day: date, entry: DiaryEntry | None, *, history_page: int = 1
) -> dict[str, Any]:
    assert user.id is not None
    steps = dose_steps.list_steps(session, user_id=user.id)
    rows = dose_steps.timeline(steps)
    in_force = next((row for row in reversed(rows) if row.step.start_date <= day), None)
    today = entries.patient_today(user)
    # Before the first dose (the baseline) there is no LDN to take or to tolerate yet.
    first_dose = dose_steps.first_dose_day(steps)
    on_ldn = not steps or (first_dose is not None and day >= first_dose)
    taking = in_force is None or in_force.step.dose_mg > 0
    rated, effects = _form_items(session, user, entry)
    return {
        "rated_items": rated,
        "side_effect_items": effects,
        "day": day,
        "today": today,
        "entry": entry,
        "in_force": in_force,
        "has_steps": bool(steps),
        "asks_dose": not steps or (on_ldn and taking),
        "asks_check_in": on_ldn,
        # Asked on the day itself: a past day is not "due today".
        "check_in_due": on_ldn
        and day == today
        and entries.check_in_due(session, user_id=user.id, day=day),
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1) if day < today else None,
        "is_future": day > today,
        "history": day_history(session, user, day, page=history_page),
        # SPEC §13: on the day a planned step starts, /today asks about it first.
        "step_day": (
            dose_plan.step_day_prompt(session, user_id=user.id, today=today)
            if day == today
            else None
        ),
        # A running blinded trial: the bottle to take and a guess due (templates/trials/).
        "trial_today": trial_today_status(session, user=user, today=today)
        if day == today
        else None,
    }


def _form_items(
    session: Session, user: User, entry: DiaryEntry | None
) -> tuple[list[Item], list[Item]]:
    """The items the form asks: the patient's tracked ones (in their order)."""
    catalogue = catalogue_for(session, user=user)
    return catalogue.items(kind="rated", tracked=True), catalogue.items(
        kind="side_effect", tracked=True
    )


def _show_form(
    request: Request,
    database: Database,
    user: User,
    day: date,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    saved: str | None = None,
    status_code: int = 200,
) -> Response:
    assert user.id is not None
    try:
        entries.check_diary_day(day, today=entries.patient_today(user))
    except entries.DiaryDayRefused as refusal:
        return _day_refused(request, refusal)
    with database.read() as session:
        entry = entries.get_entry(session, user_id=user.id, day=day)
        raw_page = request.query_params.get("history_page", "1")
        history_page = min(form_numbers.count(raw_page) or 1, 99_999)
        context = _form_context(session, user, day, entry, history_page=history_page)
    context_values = values if values is not None else form_values(entry)
    context.update(
        values=context_values,
        errors=errors or {},
        no_side_effects=no_side_effects(context_values, context["side_effect_items"]),
        side_effects_open=side_effects_open(
            context_values, errors or {}, context["side_effect_items"]
        ),
        problems=problems(
            errors or {}, rated=context["rated_items"], effects=context["side_effect_items"]
        ),
        saved=saved,
        welcome=request.query_params.get("welcome") == "1",
    )
    return render(request, "entries/form.html", context, block="day", status_code=status_code)


@router.get("/today", response_class=HTMLResponse)
def today_page(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    return _show_form(request, database, user, entries.patient_today(user))


@router.get("/entries/{day}", response_class=HTMLResponse)
def day_page(day: str, request: Request, database: DatabaseDep, user: WebUser) -> Response:
    saved = "Saved." if request.query_params.get("saved") == "1" else None
    return _show_form(request, database, user, _parse_day(day), saved=saved)


@router.post("/entries/{day}", response_class=HTMLResponse)
async def save_day(day: str, request: Request, database: DatabaseDep, user: WebUser) -> Response:
    diary_day = _parse_day(day)
    form = await request.form()
    return await run_in_threadpool(_save_day, request, database, user, diary_day, form)


def _save_day(
    request: Request, database: Database, user: User, diary_day: date, form: FormData
) -> Response:
    assert user.id is not None
    with database.read() as session:
        kept = entries.get_entry(session, user_id=user.id, day=diary_day)
        rated, effects = _form_items(session, user, kept)
    parsed = parse_entry_form(form, rated=rated, effects=effects, kept=kept)
    if parsed.answers is None:
        return _show_form(
            request,
            database,
            user,
            diary_day,
            values=parsed.values,
            errors=parsed.errors,
            status_code=422,
        )
    try:
        with database.write() as session:
            entries.save_entry(
                session, user=user, day=diary_day, answers=parsed.answers, source="web"
            )
    except entries.DiaryDayRefused as refusal:
        return _day_refused(request, refusal)
    if is_htmx(request):
        return _show_form(request, database, user, diary_day, saved="Saved. Well done.")
    return RedirectResponse(f"/entries/{diary_day.isoformat()}?saved=1", status_code=303)


@router.post("/entries/{day}/delete")
def delete_day(day: str, database: DatabaseDep, user: WebUser) -> Response:
    diary_day = _parse_day(day)
    assert user.id is not None
    with database.write() as session:
        if not entries.delete_day(session, user_id=user.id, day=diary_day):
            raise HTTPException(status_code=404, detail="No entry for that day.")
    month = diary_day.strftime("%Y-%m")
    return RedirectResponse(f"/history?month={month}&deleted={diary_day}", status_code=303)


def _month(raw: str | None, today: date) -> date:
    """The month asked for, or this month when it is malformed or outside the diary's years."""
    current = today.replace(day=1)
    if raw:
        try:
            year, month = (int(part) for part in raw.split("-", 1))
            first = date(year, month, 1)
        except ValueError:
            return current
        if EARLIEST_DIARY_DAY <= first <= current:
            return first
    return current


@router.get("/history", response_class=HTMLResponse)
def history_page(
    request: Request,
    database: DatabaseDep,
    user: WebUser,
    month: str | None = None,
    item: str | None = None,
) -> Response:
    """One month of diary days as a calendar shaded by one item, and as a plain table; an htmx
    request (the item picker) gets the month alone."""
    assert user.id is not None
    today = entries.patient_today(user)
    first = _month(month, today)
    with database.read() as session:
        catalogue = catalogue_for(session, user=user)
        rated = catalogue.items(kind="rated", tracked=True)
        by_key = {option.key: option for option in rated}
        chosen = by_key.get(item or "", rated[0]) if rated else None
        view = history.month_calendar(
            session,
            user_id=user.id,
            first=first,
            today=today,
            item=chosen,
            rated_keys=tuple(by_key),
            side_effects=tuple(catalogue.items(kind="side_effect")),
        )
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    next_month = last + timedelta(days=1)
    return render(
        request,
        "entries/history.html",
        {
            "month": first,
            "calendar": view,
            "item": chosen,
            "rated_items": rated,
            # The item stays chosen from month to month once the patient picked one.
            "item_query": f"&item={chosen.key}" if chosen and item in by_key else "",
            "previous_month": (first - timedelta(days=1)).replace(day=1),
            "next_month": next_month if next_month <= today else None,
            "deleted": request.query_params.get("deleted"),
            # Choosing an item with htmx redraws the month only (and the month links).
            "fragment": is_htmx(request),
        },
        block="month_view",
    )
