"""/trial: set up, follow and read a blinded self-trial (SPEC §14); forms, POST → 303 → GET."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from app.db import Database, DatabaseDep, fresh
from app.deps import WebUser
from app.items import Item
from app.models import SelfTrial, User
from app.pdf import pdf_response
from app.services.entries import patient_today
from app.trials import service
from app.trials.deps import WebOwnedTrial
from app.trials.design import (
    CONVENTIONAL_ALPHA,
    DEFAULT_PAIRS,
    DEFAULT_PERIOD_DAYS,
    DEFAULT_SETTLE_DAYS,
    MAX_PAIRS,
    MIN_PAIRS,
    pairs_for_alpha,
    smallest_p,
)
from app.trials.schemas import GuessCreate, PreregistrationUpdate, SelfTrialCreate
from app.trials.sheet import pharmacy_sheet_pdf
from app.trials.summary import summarise
from app.trials.unblinding import unblind_with_code
from app.web.form_numbers import plain_number
from app.web.templating import render

router = APIRouter()
Model = TypeVar("Model", bound=BaseModel)
SETUP_FIELDS = (
    "start_date",
    "pairs",
    "period_days",
    "settle_days",
    "primary_item",
    "meaningful_change",
    "ldn_dose_mg",
    "already_on_ldn",
)
_MESSAGES = {
    "start_date": "Enter the day the first period starts.",
    "pairs": f"Choose between {MIN_PAIRS} and {MAX_PAIRS} pairs.",
    "period_days": "A period lasts between 14 and 42 days.",
    "settle_days": "Settle days are a whole number from 0 to 14.",
    "primary_item": "Choose the item that matters most to you.",
    "meaningful_change": "Enter a whole number of points from 1 to 100, for example 15.",
    "ldn_dose_mg": "Enter the dose in mg, up to 50, for example 4.5 — or leave it blank.",
    "already_on_ldn": "Say whether you already take LDN.",
}
_DONE = {
    "created": "Trial set up. Print the pharmacy sheet next.",
    "changed": "Preregistration changed.",
    "sealed": "Sealed: only the pharmacy sheet's code can unblind the trial now.",
    "guessed": "Guess saved.",
    "unblinded": "Unblinded. Here is what your diary shows.",
    "cancelled": "The trial set-up was cancelled.",
}


def _as_int(raw: str) -> int | str:
    number = plain_number(raw) if raw else None
    if number is None or number != int(number):
        return raw
    return int(number)


def _parse_setup(values: dict[str, str]) -> tuple[SelfTrialCreate | None, dict[str, str]]:
    data: dict[str, Any] = {
        "start_date": values["start_date"] or None,
        "pairs": _as_int(values["pairs"]),
        "period_days": _as_int(values["period_days"]),
        "settle_days": _as_int(values["settle_days"]),
        "primary_item": values["primary_item"],
        "meaningful_change": _as_int(values["meaningful_change"]),
        "already_on_ldn": values["already_on_ldn"] != "no",
    }
    if values["ldn_dose_mg"]:
        dose = plain_number(values["ldn_dose_mg"])
        data["ldn_dose_mg"] = values["ldn_dose_mg"] if dose is None else dose
    try:
        return SelfTrialCreate.model_validate(data), {}
    except ValidationError as invalid:
        errors: dict[str, str] = {}
        for error in invalid.errors():
            key = str(error["loc"][0]) if error["loc"] else "start_date"
            errors.setdefault(key, _MESSAGES.get(key, "Check this answer."))
        return None, errors


def _form_model(model: type[Model], data: dict[str, Any], problems: dict[str, str]) -> Model:
    """A form's values as the API's request model; TrialProblems(`problems`) when they do not
    fit it."""
    try:
        return model.model_validate(data)
    except ValidationError:
        raise service.TrialProblems(problems) from None


def _defaults(user: User, tracked: list[Item]) -> dict[str, str]:
    from datetime import timedelta

    keys = [item.key for item in tracked]
    return {
        "start_date": (patient_today(user) + timedelta(days=14)).isoformat(),
        "pairs": str(DEFAULT_PAIRS),
        "period_days": str(DEFAULT_PERIOD_DAYS),
        "settle_days": str(DEFAULT_SETTLE_DAYS),
        "primary_item": "pain" if "pain" in keys or not keys else keys[0],
        "meaningful_change": "",
        "ldn_dose_mg": "",
        "already_on_ldn": "yes",
    }


def _page(
    request: Request,
    session: Session,
    user: User,
    *,
    show_setup: bool = False,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    assert user.id is not None
    today = patient_today(user)
    trial = service.current_trial(session, user_id=user.id)
    summary = None if trial is None else summarise(session, trial=trial, today=today)
    periods = () if trial is None else service.trial_periods(trial)
    # Any rated item the patient tracks (built-in, pack or own) can be the primary item.
    items = service.items_of(session, user_id=user.id)
    tracked = items.items(kind="rated", tracked=True)
    # The preregistered item stays on offer (and chosen) even once it is no longer tracked, so
    # changing the meaningful change alone never swaps the primary item silently.
    preregistered = None if trial is None else items.get(trial.primary_item)
    prereg_items = tracked
    if preregistered is not None and preregistered not in tracked:
        prereg_items = [preregistered, *tracked]
    return render(
        request,
        "trials/page.html",
        {
            "trial": trial,
            "summary": summary,
            "periods": periods,
            "today": today,
            "show_setup": show_setup or trial is None,
            "can_set_up": trial is None or trial.unblinded_at is not None,
            "values": values or _defaults(user, tracked),
            "errors": errors or {},
            "items": tracked,
            "prereg_items": prereg_items,
            "pair_table": [(k, smallest_p(k)) for k in range(MIN_PAIRS, MAX_PAIRS + 1)],
            "pairs_for_005": pairs_for_alpha(CONVENTIONAL_ALPHA),
            "pairs_for_005_either_way": pairs_for_alpha(CONVENTIONAL_ALPHA, two_sided=True),
            "message": _DONE.get(request.query_params.get("message", "")),
            "sheet_available": trial is not None
            and trial.sheet_code is not None
            and service.status(trial, today) == "set_up",
        },
        status_code=status_code,
    )


def _back(request_form: Any, message: str) -> RedirectResponse:
    target = "/today" if request_form.get("back") == "today" else "/trial"
    return RedirectResponse(f"{target}?message={message}", status_code=303)


@router.get("/trial", response_class=HTMLResponse)
def trial_page(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    with database.read() as session:
        return _page(request, session, user)


@router.get("/trial/new", response_class=HTMLResponse)
def new_trial_page(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    with database.read() as session:
        return _page(request, session, user, show_setup=True)


def _refused(
    request: Request,
    database: Database,
    user: User,
    refused: service.TrialRefused,
    **page: Any,
) -> Response:
    """The service's refusal as the page answers it: the trial page again, each message beside
    its field (or above the trial), with the service's status (and Retry-After for 429)."""
    with database.read() as session:
        response = _page(
            request, session, user, errors=refused.problems, status_code=refused.status, **page
        )
    if refused.retry_after is not None:
        response.headers["Retry-After"] = str(refused.retry_after)
    return response


@router.post("/trial", response_class=HTMLResponse)
async def create_trial(request: Request, database: DatabaseDep, user: WebUser) -> Response:

    form = await request.form()
    return await run_in_threadpool(_create_trial, request, database, user, form)


def _create_trial(request: Request, database: Database, user: User, form: FormData) -> Response:
    values = {key: str(form.get(key) or "").strip() for key in SETUP_FIELDS}
    data, errors = _parse_setup(values)
    try:
        if data is None:
            raise service.TrialProblems(errors)
        with database.write() as session:
            service.create_trial(
                session,
                user=user,
                data=data,
                secret_key=request.app.state.secret_key,
                today=patient_today(user),
            )
    except service.TrialRefused as refused:
        return _refused(request, database, user, refused, show_setup=True, values=values)
    return RedirectResponse("/trial?message=created", status_code=303)


@router.post("/trial/{trial_id}/preregistration", response_class=HTMLResponse)
async def change_preregistration(
    request: Request, database: DatabaseDep, user: WebUser, trial: WebOwnedTrial
) -> Response:

    form = await request.form()
    return await run_in_threadpool(_change_preregistration, request, database, user, trial, form)


def _change_preregistration(
    request: Request, database: Database, user: User, trial: SelfTrial, form: FormData
) -> Response:
    change = _as_int(str(form.get("meaningful_change") or "").strip())
    try:
        data = _form_model(
            PreregistrationUpdate,
            {
                "primary_item": str(form.get("primary_item") or "") or None,
                "meaningful_change": change,
            },
            {"meaningful_change": _MESSAGES["meaningful_change"]},
        )
        with database.write() as session:
            service.update_preregistration(
                session,
                user=user,
                trial=fresh(session, trial),
                data=data,
                today=patient_today(user),
            )
    except service.TrialRefused as refused:
        return _refused(request, database, user, refused)
    return RedirectResponse("/trial?message=changed", status_code=303)


@router.post("/trial/{trial_id}/cancel")
def cancel_trial(
    request: Request, database: DatabaseDep, user: WebUser, trial: WebOwnedTrial
) -> Response:
    try:
        with database.write() as session:
            service.cancel_trial(session, trial=fresh(session, trial), today=patient_today(user))
    except service.TrialRefused as refused:
        return _refused(request, database, user, refused)
    return RedirectResponse("/trial?message=cancelled", status_code=303)


@router.post("/trial/{trial_id}/seal")
def seal_trial(database: DatabaseDep, trial: WebOwnedTrial) -> Response:
    with database.write() as session:
        service.seal(session, trial=fresh(session, trial))
        return RedirectResponse("/trial?message=sealed", status_code=303)


@router.get("/trial/{trial_id}/pharmacy-sheet.pdf")
def pharmacy_sheet(
    request: Request, database: DatabaseDep, user: WebUser, trial: WebOwnedTrial
) -> Response:
    today = patient_today(user)
    try:
        code = service.pharmacy_code(trial, secret_key=request.app.state.secret_key, today=today)
    except service.TrialRefused as refused:
        return _refused(request, database, user, refused)
    return pdf_response(
        pharmacy_sheet_pdf(trial, code, today=today),
        f"self-trial-{trial.id}-pharmacy-sheet.pdf",
        attachment=True,
    )


@router.post("/trial/{trial_id}/guesses", response_class=HTMLResponse)
async def add_guess(
    request: Request, database: DatabaseDep, user: WebUser, trial: WebOwnedTrial
) -> Response:

    form = await request.form()
    return await run_in_threadpool(_add_guess, request, database, user, trial, form)


def _add_guess(
    request: Request, database: Database, user: User, trial: SelfTrial, form: FormData
) -> Response:
    try:
        data = _form_model(
            GuessCreate,
            {"period": _as_int(str(form.get("period") or "")), "guess": form.get("guess")},
            {"guess": "Choose LDN, placebo or don't know."},
        )
        with database.write() as session:
            service.record_guess(
                session, trial=fresh(session, trial), data=data, today=patient_today(user)
            )
    except service.TrialRefused as refused:
        return _refused(request, database, user, refused)
    return _back(form, "guessed")


@router.post("/trial/{trial_id}/unblind", response_class=HTMLResponse)
async def unblind(
    request: Request, database: DatabaseDep, user: WebUser, trial: WebOwnedTrial
) -> Response:

    form = await request.form()
    return await run_in_threadpool(_unblind, request, database, user, trial, form)


def _unblind(
    request: Request, database: Database, user: User, trial: SelfTrial, form: FormData
) -> Response:
    code = str(form.get("code") or "")[:40]
    try:
        unblind_with_code(database, trial=trial, code=code, today=patient_today(user))
    except service.TrialRefused as refused:
        return _refused(request, database, user, refused)
    return RedirectResponse("/trial?message=unblinded", status_code=303)
