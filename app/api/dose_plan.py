"""The titration plan and step-day decisions (SPEC §13)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from app.api.dose_steps import public_step
from app.db import DatabaseDep, fresh
from app.deps import ApiOwnedStep, ApiUser
from app.models import DosePlan, StepDecision
from app.schemas import (
    DosePlanCreate,
    DosePlanCreated,
    DosePlanPublic,
    HoldRuleUpdate,
    StepDecisionCreate,
    StepDecisionPublic,
)
from app.services import dose_plan, dose_steps
from app.services.entries import patient_today

router = APIRouter(tags=["titration plan"])


def _plan(plan: DosePlan) -> DosePlanPublic:
    return DosePlanPublic.model_validate(plan, from_attributes=True)


def _decision(decision: StepDecision) -> StepDecisionPublic:
    return StepDecisionPublic.model_validate(decision, from_attributes=True)


@router.post("/dose-plan", status_code=201, response_model=DosePlanCreated)
def make_plan(data: DosePlanCreate, user: ApiUser, database: DatabaseDep) -> DosePlanCreated:
    """Make the plan's future steps (each `planned: true`), replacing an earlier plan's.

    409 when a step you entered yourself starts on one of the plan's dates.
    """
    assert user.id is not None
    try:
        with database.write() as session:
            plan, steps = dose_plan.make_plan(session, user_id=user.id, data=data)
    except dose_steps.StepDateTaken as clash:
        raise HTTPException(status_code=409, detail=str(clash)) from None
    except dose_plan.PlanRefused as refusal:
        raise HTTPException(status_code=422, detail=str(refusal)) from None
    return DosePlanCreated(plan=_plan(plan), steps=[public_step(step) for step in steps])


@router.get("/dose-plan", response_model=DosePlanPublic)
def get_plan(user: ApiUser, database: DatabaseDep) -> DosePlanPublic:
    assert user.id is not None
    with database.read() as session:
        plan = dose_plan.get_plan(session, user_id=user.id)
    if plan is None:
        raise HTTPException(status_code=404, detail="No plan yet")
    return _plan(plan)


@router.patch("/dose-plan", response_model=DosePlanPublic)
def set_hold_rule(data: HoldRuleUpdate, user: ApiUser, database: DatabaseDep) -> DosePlanPublic:
    """Your own rule for holding a step, shown to you on step days (never one we suggest)."""
    assert user.id is not None
    with database.write() as session:
        plan = dose_plan.set_hold_rule(session, user_id=user.id, hold_rule=data.hold_rule)
    return _plan(plan)


@router.delete("/dose-plan", status_code=204)
def delete_plan(user: ApiUser, database: DatabaseDep) -> Response:
    """Forget the plan and its steps not started yet; steps already started stay."""
    assert user.id is not None
    with database.write() as session:
        deleted = dose_plan.delete_plan(session, user_id=user.id)
    if not deleted:
        raise HTTPException(status_code=404, detail="No plan yet")
    return Response(status_code=204)


@router.post("/dose-steps/{step_id}/decision", status_code=201, response_model=StepDecisionPublic)
def decide(
    data: StepDecisionCreate, step: ApiOwnedStep, user: ApiUser, database: DatabaseDep
) -> StepDecisionPublic:
    """Answer a step day: start the planned dose, hold (the plan moves `days` later) or go
    back a step. 409 when the step is not a planned one whose day has come."""
    try:
        with database.write() as session:
            decision = dose_plan.decide(
                session, step=fresh(session, step), data=data, today=patient_today(user)
            )
    except (dose_plan.NotAStepDay, dose_plan.PlanRefused, dose_steps.StepDateTaken) as refusal:
        raise HTTPException(status_code=409, detail=str(refusal)) from None
    return _decision(decision)


@router.get("/step-decisions", response_model=list[StepDecisionPublic])
def list_decisions(user: ApiUser, database: DatabaseDep) -> list[StepDecisionPublic]:
    """Every step-day answer, oldest first."""
    assert user.id is not None
    with database.read() as session:
        return [_decision(row) for row in dose_plan.list_decisions(session, user_id=user.id)]
