"""/api/v1/self-trials: the blinded self-trial over JSON (SPEC §14)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from app.db import DatabaseDep, fresh
from app.deps import ApiUser
from app.pdf import pdf_response
from app.services.entries import patient_today
from app.trials import service
from app.trials.deps import ApiOwnedTrial
from app.trials.schemas import GuessCreate, PreregistrationUpdate, SelfTrialCreate, UnblindRequest
from app.trials.sheet import pharmacy_sheet_pdf
from app.trials.unblinding import unblind_with_code

router = APIRouter(prefix="/self-trials", tags=["blinded self-trial"])


@contextmanager
def _refusals() -> Iterator[None]:
    """The service's refusals as the API answers them: 422 naming each field, else the
    service's status (409, 410, 429 with Retry-After) and its message."""
    try:
        yield
    except service.TrialRefused as refused:
        if refused.status == 422:
            raise HTTPException(
                status_code=422,
                detail=[
                    {"loc": ["body", name], "msg": message, "type": "value_error"}
                    for name, message in refused.problems.items()
                ],
            ) from None
        headers = None if refused.retry_after is None else {"Retry-After": str(refused.retry_after)}
        raise HTTPException(refused.status, detail=str(refused), headers=headers) from None


@router.get("")
def list_trials(user: ApiUser, database: DatabaseDep) -> list[dict[str, Any]]:
    """The patient's trials, newest first."""
    with database.read() as session:
        assert user.id is not None
        today = patient_today(user)
        return [
            service.trial_json(session, trial=trial, today=today)
            for trial in service.list_trials(session, user_id=user.id)
        ]


@router.post("", status_code=201)
def create_trial(
    data: SelfTrialCreate, request: Request, user: ApiUser, database: DatabaseDep
) -> dict[str, Any]:
    """Draw a counterbalanced order, seal it, and lock nothing yet; 409 if one is unfinished."""
    with database.write() as session, _refusals():
        trial, _code = service.create_trial(
            session,
            user=user,
            data=data,
            secret_key=request.app.state.secret_key,
            today=patient_today(user),
        )
        return service.trial_json(session, trial=trial, today=patient_today(user))


@router.get("/{trial_id}")
def get_trial(trial: ApiOwnedTrial, user: ApiUser, database: DatabaseDep) -> dict[str, Any]:
    """The trial; after unblinding its `result`."""
    with database.read() as session:
        return service.trial_json(session, trial=trial, today=patient_today(user))


@router.patch("/{trial_id}")
def update_trial(
    data: PreregistrationUpdate, trial: ApiOwnedTrial, user: ApiUser, database: DatabaseDep
) -> dict[str, Any]:
    """Change the preregistration; 409 once the first period has started."""
    with database.write() as session, _refusals():
        today = patient_today(user)
        trial = service.update_preregistration(
            session, user=user, trial=fresh(session, trial), data=data, today=today
        )
        return service.trial_json(session, trial=trial, today=today)


@router.delete("/{trial_id}", status_code=204)
def cancel_trial(trial: ApiOwnedTrial, user: ApiUser, database: DatabaseDep) -> Response:
    """Cancel a trial before its first period; 409 after."""
    with database.write() as session, _refusals():
        service.cancel_trial(session, trial=fresh(session, trial), today=patient_today(user))
        return Response(status_code=204)


@router.get(
    "/{trial_id}/pharmacy-sheet.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 410: {"description": "Sealed"}},
)
def pharmacy_sheet(trial: ApiOwnedTrial, request: Request, user: ApiUser) -> Response:
    """The sheet for the pharmacist, until the trial is sealed (410 after)."""
    today = patient_today(user)
    with _refusals():
        code = service.pharmacy_code(trial, secret_key=request.app.state.secret_key, today=today)
    return pdf_response(
        pharmacy_sheet_pdf(trial, code, today=today),
        f"self-trial-{trial.id}-pharmacy-sheet.pdf",
        attachment=True,
    )


@router.post("/{trial_id}/seal")
def seal_trial(trial: ApiOwnedTrial, user: ApiUser, database: DatabaseDep) -> dict[str, Any]:
    """The pharmacy has the sheet: forget the code, so only that sheet can unblind."""
    with database.write() as session:
        trial = fresh(session, trial)
        trial = service.seal(session, trial=trial)
        return service.trial_json(session, trial=trial, today=patient_today(user))


@router.post("/{trial_id}/guesses")
def add_guess(
    data: GuessCreate, trial: ApiOwnedTrial, user: ApiUser, database: DatabaseDep
) -> dict[str, Any]:
    """The guess for a period (LDN, placebo, unsure), on its last day or later."""
    with database.write() as session, _refusals():
        today = patient_today(user)
        trial = service.record_guess(session, trial=fresh(session, trial), data=data, today=today)
        return service.trial_json(session, trial=trial, today=today)


@router.post("/{trial_id}/unblind")
def unblind(
    data: UnblindRequest, trial: ApiOwnedTrial, user: ApiUser, database: DatabaseDep
) -> dict[str, Any]:
    """Open the allocation with the sheet's code; the trial's JSON then carries `result`.
    Wrong codes are limited: 429 with Retry-After while too many were tried lately."""
    today = patient_today(user)
    with _refusals():
        trial = unblind_with_code(database, trial=trial, code=data.code, today=today)
    with database.read() as session:
        return service.trial_json(session, trial=trial, today=today)
