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
from app.schemas import (
    DosePlanCreate,
    DoseStepCreate,
    DoseStepUpdate,
    HoldRuleUpdate,
    StepDecisionCreate,
)
from app.services import dose_plan, dose_steps
from app.services.entries import patient_today
from app.web import form_numbers
from app.web.templating import render

router = APIRouter()
STEP_FIELDS = ("start_date", "dose_mg", "dosing_time", "note", "form", "mg_per_ml")
_MESSAGES = {
    "start_date": "Enter the date this dose starts",
    "dose_mg": "Enter the dose in mg, from 0 to 50, for example 1.5 (0 for baseline)",
    "dosing_time": "Choose morning, bedtime or not set",
    "note": "Keep the note under 500 characters",
    "form": "Choose capsule, liquid, cream or not set",
    "mg_per_ml": "Enter the liquid's strength in mg per ml, for example 1 (more than 0, up to 100)",
}
PLAN_FIELDS = (
    "template",
    "start_date",
    "start_mg",
    "step_mg",
    "every_days",
    "target_mg",
    "dosing_time",
    "form",
    "mg_per_ml",
    "hold_rule",
)
_PLAN_MESSAGES = {
    "template": "Choose one of the plans, or your own numbers",
    "start_date": "Enter the date the plan starts",
    "start_mg": "Enter the first dose in mg, for example 0.5 (more than 0, up to 50)",
    "step_mg": "Enter how much more each step adds, in mg, for example 0.5",
    "every_days": "Enter how many days each step lasts, from 1 to 90",
    "target_mg": "Enter the dose the plan stops at, in mg, for example 4.5",
    "dosing_time": "Choose morning, bedtime or not set",
    "form": "Choose capsule, liquid, cream or not set",
    "mg_per_ml": "Enter the liquid's strength in mg per ml, for example 1 (more than 0, up to 100)",
    "hold_rule": "Keep your rule under 500 characters",
}


def _read(form: FormData) -> dict[str, str]:
    return {key: str(form.get(key) or "").strip() for key in STEP_FIELDS}


def _milligrams(raw: str) -> float | str | None:
    """The typed dose as a number (1,5 or 1.5); text that is none stays for the schema to refuse."""
    if not raw:
        return None
    number = form_numbers.plain_number(raw)
    return raw if number is None else number


def _validate(values: dict[str, str]) -> tuple[DoseStepCreate | None, dict[str, str]]:
    data: dict[str, Any] = {key: value or None for key, value in values.items()}
    data["start_date"] = values["start_date"]
    data["dose_mg"] = _milligrams(values["dose_mg"])
    data["mg_per_ml"] = _milligrams(values["mg_per_ml"])
    try:
        return DoseStepCreate.model_validate(data), {}
    except ValidationError as invalid:
        errors: dict[str, str] = {}
        for error in invalid.errors():
            key = str(error["loc"][0]) if error["loc"] else "mg_per_ml"
            message = str(error["msg"]).removeprefix("Value error, ")
            errors.setdefault(key, message if error["type"] == "value_error" else _MESSAGES[key])
        return None, errors


# What the page says after a change, keyed by the redirect's `message`.
_DONE = {
    "added": "Dose step added.",
    "changed": "Dose step changed.",
    "deleted": "Dose step deleted.",
    "planned": "Plan made: its steps are marked planned below.",
    "plan-deleted": "Plan removed: the steps not started yet are gone.",
    "rule": "Your rule is kept. It is shown to you on step days.",
}


def _page(
    request: Request,
    database: Database,
    user: User,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    plan_values: dict[str, str] | None = None,
    plan_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    assert user.id is not None
    with database.read() as session:
        steps = dose_steps.list_steps(session, user_id=user.id)
        plan = dose_plan.get_plan(session, user_id=user.id)
        decisions = dose_plan.list_decisions(session, user_id=user.id)
    today = patient_today(user)
    return render(
        request,
        "doses/timeline.html",
        {
            "rows": dose_steps.timeline(steps),
            "sentence": dose_steps.timeline_sentence(steps),
            "today": today,
            "values": values or {},
            "errors": errors or {},
            "plan": plan,
            "templates": dose_plan.TEMPLATES.values(),
            "decisions": [dose_plan.decision_sentence(row) for row in decisions],
            "has_planned": any(step.planned for step in steps),
            "plan_values": plan_values
            or {
                "start_date": today.isoformat(),
                "hold_rule": (plan.hold_rule or "") if plan else "",
            },
            "plan_errors": plan_errors or {},
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
            "form": step.form or "",
            "mg_per_ml": f"{step.mg_per_ml:g}" if step.mg_per_ml else "",
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


# --- The plan and step days (SPEC §13) ----------------------------------------------------------


def _plan_number(raw: str, *, whole: bool = False) -> Any:
    if not raw:
        return None
    if whole:
        number = form_numbers.count(raw)
        return raw if number is None else number
    return _milligrams(raw)


def _validate_plan(values: dict[str, str]) -> tuple[DosePlanCreate | None, dict[str, str]]:
    data: dict[str, Any] = {key: value or None for key, value in values.items()}
    if values["template"] == "custom":
        data["template"] = None
    for key in ("start_mg", "step_mg", "target_mg", "mg_per_ml"):
        data[key] = _plan_number(values[key])
    data["every_days"] = _plan_number(values["every_days"], whole=True)
    if data["template"] is not None:
        for key in ("start_mg", "step_mg", "every_days", "target_mg"):
            data[key] = None  # a named plan brings its own numbers
    try:
        return DosePlanCreate.model_validate(data), {}
    except ValidationError as invalid:
        errors: dict[str, str] = {}
        for error in invalid.errors():
            key = str(error["loc"][0]) if error["loc"] else "template"
            message = str(error["msg"]).removeprefix("Value error, ")
            if not error["loc"] and "mg_per_ml" in message:
                key = "mg_per_ml"
            elif not error["loc"] and "target_mg" in message:
                key = "target_mg"
            errors.setdefault(
                key, message if error["type"] == "value_error" else _PLAN_MESSAGES[key]
            )
        return None, errors


@router.post("/doses/plan", response_class=HTMLResponse)
async def make_plan(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    """Make the plan's steps from a template or the patient's own numbers."""
    form = await request.form()
    values = {key: str(form.get(key) or "").strip() for key in PLAN_FIELDS}
    values["template"] = values["template"] or "custom"
    return await run_in_threadpool(_make_plan, request, database, user, values)


def _make_plan(
    request: Request, database: Database, user: User, values: dict[str, str]
) -> Response:
    assert user.id is not None
    data, errors = _validate_plan(values)
    if data is not None:
        try:
            with database.write() as session:
                dose_plan.make_plan(session, user_id=user.id, data=data)
        except dose_steps.StepDateTaken as clash:
            errors = {"start_date": str(clash)}
        except dose_plan.PlanRefused as refusal:
            errors = {"target_mg": str(refusal)}
        else:
            return RedirectResponse("/doses?message=planned#plan-heading", status_code=303)
    return _page(request, database, user, plan_values=values, plan_errors=errors, status_code=422)


@router.post("/doses/delete-plan")
def delete_plan(database: DatabaseDep, user: WebUser) -> Response:
    assert user.id is not None
    with database.write() as session:
        dose_plan.delete_plan(session, user_id=user.id)
    return RedirectResponse("/doses?message=plan-deleted", status_code=303)


@router.post("/doses/hold-rule", response_class=HTMLResponse)
async def set_hold_rule(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    """The patient's own rule for holding a step, shown on step days."""
    form = await request.form()
    raw = str(form.get("hold_rule") or "")
    return await run_in_threadpool(_set_hold_rule, request, database, user, raw)


def _set_hold_rule(request: Request, database: Database, user: User, raw: str) -> Response:
    assert user.id is not None
    try:
        rule = HoldRuleUpdate.model_validate({"hold_rule": raw}).hold_rule
    except ValidationError as invalid:
        message = str(invalid.errors()[0]["msg"]).removeprefix("Value error, ")
        if invalid.errors()[0]["type"] != "value_error":
            message = _PLAN_MESSAGES["hold_rule"]
        return _page(
            request,
            database,
            user,
            plan_values={"hold_rule": raw},
            plan_errors={"hold_rule_own": message},
            status_code=422,
        )
    with database.write() as session:
        dose_plan.set_hold_rule(session, user_id=user.id, hold_rule=rule)
    return RedirectResponse("/doses?message=rule#rule-heading", status_code=303)


@router.post("/doses/{step_id}/decision", response_class=HTMLResponse)
async def decide(
    request: Request, database: DatabaseDep, user: WebUser, step: WebOwnedStep
) -> Response:
    """The answer to the step-day question on /today; then back to /today, which shows it."""
    form = await request.form()
    choice = str(form.get("choice") or "")
    raw_days = str(form.get("days") or "").strip()
    return await run_in_threadpool(_decide, request, database, user, step, choice, raw_days)


def _decide(
    request: Request,
    database: Database,
    user: User,
    step: DoseStep,
    choice: str,
    raw_days: str,
) -> Response:
    body: dict[str, Any] = {"choice": choice}
    if choice != "start" and raw_days:
        days = form_numbers.count(raw_days)
        body["days"] = raw_days if days is None else days
    try:
        data = StepDecisionCreate.model_validate(body)
        with database.write() as session:
            current = fresh(session, step)
            dose_plan.decide(session, step=current, data=data, today=patient_today(user))
    except ValidationError:
        message = "Choose one of the three answers; to stay for now, say for how many days (1–90)."
        return render(request, "error.html", {"status": 422, "message": message}, status_code=422)
    except (dose_plan.NotAStepDay, dose_plan.PlanRefused, dose_steps.StepDateTaken) as refusal:
        return render(
            request, "error.html", {"status": 409, "message": str(refusal)}, status_code=409
        )
    return RedirectResponse("/today?decided=1", status_code=303)
