"""Dose steps: list, add, change, delete."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from app.db import DatabaseDep, fresh
from app.deps import ApiOwnedStep, ApiUser
from app.models import DoseStep
from app.schemas import DoseStepCreate, DoseStepPublic, DoseStepUpdate, volume_ml
from app.services import dose_steps

router = APIRouter(prefix="/dose-steps", tags=["dose steps"])


def public_step(step: DoseStep) -> DoseStepPublic:
    """A step as the API shows it, with the volume of a liquid dose."""
    shown = DoseStepPublic.model_validate(step, from_attributes=True)
    shown.volume_ml = volume_ml(step.dose_mg, step.mg_per_ml)
    return shown


@router.get("", response_model=list[DoseStepPublic])
def list_steps(user: ApiUser, database: DatabaseDep) -> list[DoseStepPublic]:
    """The schedule, ordered by start date."""
    assert user.id is not None
    with database.read() as session:
        return [public_step(step) for step in dose_steps.list_steps(session, user_id=user.id)]


@router.post("", status_code=201, response_model=DoseStepPublic)
def add_step(data: DoseStepCreate, user: ApiUser, database: DatabaseDep) -> DoseStepPublic:
    """Add a step; 409 when another step starts the same day, or the schedule is full."""
    assert user.id is not None
    try:
        with database.write() as session:
            return public_step(dose_steps.add_step(session, user_id=user.id, data=data))
    except dose_steps.StepRefused as refusal:
        raise HTTPException(status_code=409, detail=str(refusal)) from None


@router.patch("/{step_id}", response_model=DoseStepPublic)
def update_step(data: DoseStepUpdate, step: ApiOwnedStep, database: DatabaseDep) -> DoseStepPublic:
    """Change a step; 409 when moved onto another step's start date."""
    try:
        with database.write() as session:
            return public_step(
                dose_steps.update_step(session, step=fresh(session, step), data=data)
            )
    except dose_steps.StepRefused as refusal:
        raise HTTPException(status_code=409, detail=str(refusal)) from None


@router.delete("/{step_id}", status_code=204)
def delete_step(step: ApiOwnedStep, database: DatabaseDep) -> Response:
    with database.write() as session:
        dose_steps.delete_step(session, step=fresh(session, step))
    return Response(status_code=204)
