"""/doses: the dose schedule as a timeline, with forms to add, change and delete steps."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.db import Database, DatabaseDep, fresh
from app.deps import WebOwnedStep, WebUser
from app.models import DoseStep, User
from app.schemas import DoseStepCreate, DoseStepUpdate
from app.services import dose_steps
from app.services.entries import patient_today
from app.web.entry_form import plain_number
from app.web.templating import render

router = APIRouter()
STEP_FIELDS = ("start_date", "dose_mg", "dosing_time", "note")
_MESSAGES = {
    "start_date": "Enter the date this dose starts",
    "dose_mg": "Enter the dose in mg, from 0 to 50, for example 1.5 (0 for baseline)",
    "dosing_time": "Choose morning, bedtime or not set",
    "note": "Keep the note under 500 characters",
}


def _read(form: FormData) -> dict[str, str]:
    return {key: str(form.get(key) or "").strip() for key in STEP_FIELDS}


def _milligrams(raw: str) -> float | str | None:
    """The typed dose as a number (1,5 or 1.5); text that is none stays for the schema to refuse."""
    if not raw:
        return None
    number = plain_number(raw)
    return raw if number is None else number


def _validate(values: dict[str, str]) -> tuple[DoseStepCreate | None, dict[str, str]]:
    data: dict[str, Any] = dict(values)
    data["dose_mg"] = _milligrams(values["dose_mg"])
    try:
        return DoseStepCreate.model_validate(data), {}
    except ValidationError as invalid:
        errors: dict[str, str] = {}
        for error in invalid.errors():
            key = str(error["loc"][0]) if error["loc"] else "start_date"
            message = str(error["msg"]).removeprefix("Value error, ")
            errors.setdefault(key, message if error["type"] == "value_error" else _MESSAGES[key])
        return None, errors


# What the page says after a change, keyed by the redirect's `message`.
_DONE = {
    "added": "Dose step added.",
    "changed": "Dose step changed.",
    "deleted": "Dose step deleted.",
}


def _page(
    request: Request,
    database: Database,
    user: User,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    assert user.id is not None
    with database.read() as session:
        steps = dose_steps.list_steps(session, user_id=user.id)
    return render(
        request,
        "doses/timeline.html",
        {
            "rows": dose_steps.timeline(steps),
            "sentence": dose_steps.timeline_sentence(steps),
            "today": patient_today(user),
            "values": values or {},
            "errors": errors or {},
            # Only our own words: a link cannot put a sentence of its choosing on this page.
            "message": _DONE.get(request.query_params.get("message", "")),
        },
        status_code=status_code,
    )


@router.get("/doses", response_class=HTMLResponse)
def timeline_page(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    return _page(request, database, user)


@router.post("/doses", response_class=HTMLResponse)
async def add_step(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    values = _read(await request.form())
    return await run_in_threadpool(_add_step, request, database, user, values)


def _add_step(request: Request, database: Database, user: User, values: dict[str, str]) -> Response:
    assert user.id is not None
    data, errors = _validate(values)
    if data is not None:
        try:
            with database.write() as session:
                dose_steps.add_step(session, user_id=user.id, data=data)
        except dose_steps.StepRefused as refusal:
            errors = {refusal.field: str(refusal)}
        else:
            return RedirectResponse("/doses?message=added", status_code=303)
    return _page(request, database, user, values=values, errors=errors, status_code=422)


def _edit_page(
    request: Request,
    step: DoseStep,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    if values is None:
        values = {
            "start_date": step.start_date.isoformat(),
            "dose_mg": f"{step.dose_mg:g}",
            "dosing_time": step.dosing_time or "",
            "note": step.note or "",
        }
    return render(
        request,
        "doses/edit.html",
        {"step": step, "values": values, "errors": errors or {}},
        status_code=status_code,
    )


@router.get("/doses/{step_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, step: WebOwnedStep) -> Response:
    return _edit_page(request, step)


@router.post("/doses/{step_id}/edit", response_class=HTMLResponse)
async def edit_step(request: Request, database: DatabaseDep, step: WebOwnedStep) -> Response:
    values = _read(await request.form())
    return await run_in_threadpool(_edit_step, request, database, step, values)


def _edit_step(
    request: Request, database: Database, step: DoseStep, values: dict[str, str]
) -> Response:
    data, errors = _validate(values)
    if data is not None:
        try:
            with database.write() as session:
                dose_steps.update_step(
                    session,
                    step=fresh(session, step),
                    data=DoseStepUpdate.model_validate(data.model_dump()),
                )
        except dose_steps.StepRefused as refusal:
            errors = {refusal.field: str(refusal)}
        else:
            return RedirectResponse("/doses?message=changed", status_code=303)
    return _edit_page(request, step, values=values, errors=errors, status_code=422)


@router.post("/doses/{step_id}/delete")
def delete_step(database: DatabaseDep, step: WebOwnedStep) -> Response:
    with database.write() as session:
        dose_steps.delete_step(session, step=fresh(session, step))
    return RedirectResponse("/doses?message=deleted", status_code=303)
