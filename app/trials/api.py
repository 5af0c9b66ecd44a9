"""/api/v1/self-trials: the blinded self-trial over JSON (SPEC §14)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from app.db import DatabaseDep, fresh
from app.deps import ApiUser, RowId
from app.models import SelfTrial
from app.pdf import pdf_response
from app.services.entries import patient_today
from app.trials import service
from app.trials.schemas import GuessCreate, PreregistrationUpdate, SelfTrialCreate, UnblindRequest
from app.trials.sheet import pharmacy_sheet_pdf

router = APIRouter(prefix="/self-trials", tags=["blinded self-trial"])


def api_owned_trial(database: DatabaseDep, user: ApiUser, trial_id: RowId) -> SelfTrial:
    with database.read() as session:
        assert user.id is not None
        trial = service.get_trial(session, user_id=user.id, trial_id=trial_id)
        if trial is None:
            raise HTTPException(status_code=404, detail="No such trial")
        return trial


ApiOwnedTrial = Annotated[SelfTrial, Depends(api_owned_trial)]


def _refused(error: Exception) -> HTTPException:
    if isinstance(error, service.TrialProblems):
        return HTTPException(
            status_code=422,
            detail=[
                {"loc": ["body", name], "msg": message, "type": "value_error"}
                for name, message in error.problems.items()
            ],
        )
    if isinstance(error, service.SheetGone):
        return HTTPException(status_code=410, detail=str(error))
    return HTTPException(status_code=409, detail=str(error))


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
    with database.write() as session:
        try:
            trial, _code = service.create_trial(
                session,
                user=user,
                data=data,
                secret_key=request.app.state.secret_key,
                today=patient_today(user),
            )
        except (service.TrialProblems, service.TrialConflict) as refused:
            raise _refused(refused) from None
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
    with database.write() as session:
        trial = fresh(session, trial)
        today = patient_today(user)
        try:
            trial = service.update_preregistration(session, trial=trial, data=data, today=today)
        except (service.TrialProblems, service.TrialConflict) as refused:
            raise _refused(refused) from None
        return service.trial_json(session, trial=trial, today=today)


@router.delete("/{trial_id}", status_code=204)
def cancel_trial(trial: ApiOwnedTrial, user: ApiUser, database: DatabaseDep) -> Response:
    """Cancel a trial before its first period; 409 after."""
    with database.write() as session:
        trial = fresh(session, trial)
        try:
            service.cancel_trial(session, trial=trial, today=patient_today(user))
        except service.TrialConflict as refused:
            raise _refused(refused) from None
        return Response(status_code=204)


@router.get(
    "/{trial_id}/pharmacy-sheet.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 410: {"description": "Sealed"}},
)
def pharmacy_sheet(trial: ApiOwnedTrial, request: Request, user: ApiUser) -> Response:
    """The sheet for the pharmacist, until the trial is sealed (410 after)."""
    today = patient_today(user)
    try:
        code = service.pharmacy_code(trial, secret_key=request.app.state.secret_key, today=today)
    except service.SheetGone as gone:
        raise _refused(gone) from None
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
    with database.write() as session:
        trial = fresh(session, trial)
        today = patient_today(user)
        try:
            trial = service.record_guess(session, trial=trial, data=data, today=today)
        except (service.TrialProblems, service.TrialConflict) as refused:
            raise _refused(refused) from None
        return service.trial_json(session, trial=trial, today=today)


@router.post("/{trial_id}/unblind")
def unblind(
    data: UnblindRequest, trial: ApiOwnedTrial, user: ApiUser, database: DatabaseDep
) -> dict[str, Any]:
    """Open the allocation with the sheet's code; the trial's JSON then carries `result`."""
    with database.write() as session:
        trial = fresh(session, trial)
        today = patient_today(user)
        try:
            trial = service.unblind(session, trial=trial, code=data.code, today=today)
        except (service.TrialProblems, service.TrialConflict) as refused:
            raise _refused(refused) from None
        return service.trial_json(session, trial=trial, today=today)
