"""The titration plan and step days (SPEC §13): planned steps, and what the patient chose.

A plan makes ordinary dose steps marked `planned`. On the day one starts the patient answers:
start it (it stops being planned), stay at the current dose for now (this and every later
planned step move by the days they pick), or go back a step (a real step at the dose before
the current one starts today). Every answer is kept with its date and doses. The app never
says which to choose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from app.models import DosePlan, DoseStep, StepDecision, utcnow
from app.schemas import STEP_YEARS_AHEAD, DosePlanCreate, StepDecisionCreate, latest_step_start
from app.services import dose_steps as schedule
from app.services.dose_steps import StepDateTaken, format_day, format_mg, list_steps

# More planned steps than this in one plan is a typing slip (0.001 mg a day to 50 mg).
MAX_PLANNED_STEPS = 60


@dataclass(frozen=True)
class PlanTemplate:
    key: str
    name: str
    start_mg: float
    step_mg: float
    every_days: int
    target_mg: float


# Schedules patients commonly follow (LDN Research Trust's guide; Younger's trials used
# 1.5 → 3 → 4.5 mg). Offered as starting points to type in, never as a recommendation.
TEMPLATES: dict[str, PlanTemplate] = {
    template.key: template
    for template in (
        PlanTemplate(
            "half_mg_weekly", "0.5 mg, then 0.5 mg more every week, up to 4.5 mg", 0.5, 0.5, 7, 4.5
        ),
        PlanTemplate(
            "half_mg_fortnightly",
            "0.5 mg, then 0.5 mg more every two weeks, up to 4.5 mg",
            0.5,
            0.5,
            14,
            4.5,
        ),
        PlanTemplate(
            "one_and_a_half_steps",
            "1.5 mg, then 3 mg, then 4.5 mg, two weeks each",
            1.5,
            1.5,
            14,
            4.5,
        ),
    )
}


class PlanRefused(ValueError):
    """The plan cannot be made as asked (too many steps, no earlier dose to go back to)."""


class NotAStepDay(ValueError):
    """The step is not a planned step whose day has come."""


def get_plan(session: Session, *, user_id: int) -> DosePlan | None:
    return session.exec(select(DosePlan).where(DosePlan.user_id == user_id)).first()


def plan_doses(
    *, start_date: date, start_mg: float, step_mg: float, every_days: int, target_mg: float
) -> list[tuple[date, float]]:
    """The plan's steps: (start date, dose), from start_mg up by step_mg to target_mg."""
    doses: list[tuple[date, float]] = []
    dose = start_mg
    day = start_date
    latest = latest_step_start()
    while True:
        if day > latest:
            raise PlanRefused(
                f"That plan would still be raising the dose after {format_day(latest)}, more "
                f"than {STEP_YEARS_AHEAD} years from now: take larger steps, more often, or "
                "a nearer target"
            )
        doses.append((day, round(min(dose, target_mg), 3)))
        if dose >= target_mg - 1e-9:
            return doses
        if len(doses) >= MAX_PLANNED_STEPS:
            raise PlanRefused(
                f"That plan has more than {MAX_PLANNED_STEPS} steps: take larger steps "
                "or a nearer target"
            )
        dose = round(dose + step_mg, 3)
        day += timedelta(days=every_days)


def make_plan(
    session: Session, *, user_id: int, data: DosePlanCreate
) -> tuple[DosePlan, list[DoseStep]]:
    """Store the plan and make its planned steps, replacing any earlier plan's future steps.

    Raises StepDateTaken when a step the patient entered themselves starts on a plan date,
    PlanRefused when the plan has too many steps.
    """
    numbers = data.model_dump()
    if data.template is not None:
        template = TEMPLATES[data.template]
        for name in ("start_mg", "step_mg", "every_days", "target_mg"):
            if numbers[name] is None:
                numbers[name] = getattr(template, name)
    doses = plan_doses(
        start_date=data.start_date,
        start_mg=numbers["start_mg"],
        step_mg=numbers["step_mg"],
        every_days=numbers["every_days"],
        target_mg=numbers["target_mg"],
    )
    existing = list_steps(session, user_id=user_id)
    # An earlier plan's steps that have not started are replaced by this one.
    for step in existing:
        if step.planned and step.start_date >= data.start_date:
            session.delete(step)
    kept = {
        step.start_date: step
        for step in existing
        if not (step.planned and step.start_date >= data.start_date)
    }
    for day, _dose in doses:
        if day in kept:
            session.rollback()
            raise StepDateTaken(day)
    if len(kept) + len(doses) > schedule.MAX_STEPS:
        session.rollback()
        raise PlanRefused(
            f"With this plan your dose timeline would have more than {schedule.MAX_STEPS} "
            "steps, the most it keeps. Delete steps you no longer need first."
        )
    session.flush()
    steps = [
        DoseStep(
            user_id=user_id,
            start_date=day,
            dose_mg=dose,
            dosing_time=data.dosing_time,
            planned=True,
            form=data.form,
            mg_per_ml=data.mg_per_ml,
        )
        for day, dose in doses
    ]
    session.add_all(steps)
    plan = get_plan(session, user_id=user_id) or DosePlan(user_id=user_id)
    for name in ("start_mg", "step_mg", "every_days", "target_mg"):
        setattr(plan, name, numbers[name])
    plan.template = data.template
    plan.start_date = data.start_date
    plan.dosing_time = data.dosing_time
    plan.form = data.form
    plan.mg_per_ml = data.mg_per_ml
    if "hold_rule" in data.model_fields_set:
        plan.hold_rule = data.hold_rule
    plan.updated_at = utcnow()
    session.add(plan)
    session.commit()
    return plan, steps


def set_hold_rule(session: Session, *, user_id: int, hold_rule: str | None) -> DosePlan:
    """Keep the patient's own rule (a plan row without numbers when there is no plan yet)."""
    plan = get_plan(session, user_id=user_id) or DosePlan(user_id=user_id)
    plan.hold_rule = hold_rule
    plan.updated_at = utcnow()
    session.add(plan)
    session.commit()
    return plan


def delete_plan(session: Session, *, user_id: int) -> bool:
    """Forget the plan and its steps still planned; steps already started stay. False: none."""
    plan = get_plan(session, user_id=user_id)
    planned = [step for step in list_steps(session, user_id=user_id) if step.planned]
    if plan is None and not planned:
        return False
    for step in planned:
        session.delete(step)
    if plan is not None:
        session.delete(plan)
    session.commit()
    return True


def step_day_question(steps: list[DoseStep], today: date) -> DoseStep | None:
    """The planned step /today asks about: the latest still-planned one that has started."""
    due = [step for step in steps if step.planned and step.start_date <= today]
    return due[-1] if due else None


@dataclass(frozen=True)
class StepDayChoices:
    """The three answers to a step day, in doses: planned, current, one step back (or None)."""

    step: DoseStep
    planned_mg: float
    current_mg: float | None
    back_mg: float | None


def choices_for(steps: list[DoseStep], step: DoseStep) -> StepDayChoices:
    """The doses the step-day question names: the planned one, the current, the one before."""
    earlier = [other for other in steps if other.start_date < step.start_date]
    current = earlier[-1].dose_mg if earlier else None
    back = None
    for other in reversed(earlier[:-1]):
        if current is not None and other.dose_mg < current:
            back = other.dose_mg
            break
    return StepDayChoices(step=step, planned_mg=step.dose_mg, current_mg=current, back_mg=back)


def _move_planned(session: Session, steps: list[DoseStep], *, after: date, days: int) -> None:
    """Move every planned step starting on or after `after` later by `days`.

    The latest first, so no step lands on a date another still holds while they move.
    """
    moving = [step for step in steps if step.planned and step.start_date >= after]
    staying = {step.start_date for step in steps if step not in moving}
    for step in moving:
        new_start = step.start_date + timedelta(days=days)
        if new_start in staying:
            raise StepDateTaken(new_start)
    for step in reversed(moving):
        step.start_date += timedelta(days=days)
        step.updated_at = utcnow()
        session.add(step)
        session.flush()


def decide(
    session: Session, *, step: DoseStep, data: StepDecisionCreate, today: date
) -> StepDecision:
    """Record the patient's answer on a step day and change the plan as they chose.

    Raises NotAStepDay for a step that is not planned or has not started yet, PlanRefused for
    a step back with no lower dose before, StepDateTaken when a move would land on a step.
    """
    if not step.planned or step.start_date > today:
        raise NotAStepDay(
            "This step is not waiting for a decision: only a planned step whose day has come is."
        )
    steps = list_steps(session, user_id=step.user_id)
    choices = choices_for(steps, step)
    decision = StepDecision(
        user_id=step.user_id,
        step_id=step.id,
        decided_on=today,
        choice=data.choice,
        planned_mg=step.dose_mg,
        dose_mg=step.dose_mg,
        days=data.days,
    )
    try:
        if data.choice == "start":
            step.planned = False
        elif data.choice == "hold":
            assert data.days is not None
            if choices.current_mg is None:
                raise PlanRefused("There is no earlier dose to stay at: this is the first step.")
            decision.dose_mg = choices.current_mg
            _move_planned(
                session, steps, after=step.start_date, days=_days_to_move(step, today, data.days)
            )
        else:
            if choices.back_mg is None:
                raise PlanRefused(
                    "There is no lower dose before this one to go back to. "
                    "Change the schedule on the doses page instead."
                )
            decision.dose_mg = choices.back_mg
            if data.days:
                # The rest of the plan waits too; this step becomes the lower dose today.
                later = [other for other in steps if other is not step]
                _move_planned(session, later, after=step.start_date, days=data.days)
            step.dose_mg = choices.back_mg
            step.planned = False
            step.note = step.note or f"Went back from the planned {format_mg(decision.planned_mg)}"
        step.updated_at = utcnow()
        session.add(step)
        session.add(decision)
        session.commit()
    except Exception:
        session.rollback()
        raise
    session.refresh(decision)
    return decision


def _days_to_move(step: DoseStep, today: date, days: int) -> int:
    """A hold counts from today: a step asked about late moves to today + days."""
    return (today - step.start_date).days + days


def list_decisions(session: Session, *, user_id: int) -> list[StepDecision]:
    """Every step-day answer, oldest first."""
    statement = (
        select(StepDecision)
        .where(StepDecision.user_id == user_id)
        .order_by(col(StepDecision.decided_on), col(StepDecision.id))
    )
    return list(session.exec(statement))


def decision_sentence(decision: StepDecision) -> str:
    """'12 Mar 2026: stayed at 1.5 mg for 7 days (plan: 2 mg)' — how pages and the report say it."""
    when = format_day(decision.decided_on)
    planned = format_mg(decision.planned_mg)
    later = (
        f"the rest of the plan moved {decision.days} day{'' if decision.days == 1 else 's'} later"
    )
    if decision.choice == "start":
        return f"{when}: started {planned} as planned"
    if decision.choice == "hold":
        return f"{when}: stayed at {format_mg(decision.dose_mg)} for now (plan: {planned}); {later}"
    moved = f"; {later}" if decision.days else ""
    return f"{when}: went back to {format_mg(decision.dose_mg)} (plan: {planned}){moved}"


@dataclass(frozen=True)
class StepDayPrompt:
    """What /today shows about the plan: the question (if a step is due) and today's answers."""

    choices: StepDayChoices | None
    hold_rule: str | None
    answered_today: list[str]


def step_day_prompt(session: Session, *, user_id: int, today: date) -> StepDayPrompt | None:
    """The step-day question for today, the patient's own rule, and what they chose today."""
    steps = list_steps(session, user_id=user_id)
    step = step_day_question(steps, today)
    answered = [
        decision_sentence(row)
        for row in list_decisions(session, user_id=user_id)
        if row.decided_on == today
    ]
    if step is None and not answered:
        return None
    plan = get_plan(session, user_id=user_id)
    return StepDayPrompt(
        choices=choices_for(steps, step) if step is not None else None,
        hold_rule=plan.hold_rule if plan else None,
        answered_today=answered,
    )


@dataclass(frozen=True)
class PlanLines:
    """The plan against what happened, as the doctor's summary prints it."""

    sentence: str | None
    choices: tuple[str, ...]
    coming: tuple[str, ...]


def plan_lines(session: Session, *, user_id: int, start: date, end: date) -> PlanLines | None:
    """The plan, the step-day answers within start..end, and the steps still planned after
    `end` (a planned step already under way is no longer to come)."""
    plan = get_plan(session, user_id=user_id)
    choices = tuple(
        decision_sentence(row)
        for row in list_decisions(session, user_id=user_id)
        if start <= row.decided_on <= end
    )
    coming = tuple(
        f"{format_mg(step.dose_mg)} from {format_day(step.start_date)}"
        for step in list_steps(session, user_id=user_id)
        if step.planned and step.start_date > end
    )
    sentence = None
    if plan is not None and plan.start_date and plan.start_mg and plan.step_mg:
        assert plan.target_mg is not None
        sentence = (
            f"Plan from {format_day(plan.start_date)}: {format_mg(plan.start_mg)}, then "
            f"{format_mg(plan.step_mg)} more every {plan.every_days} days, up to "
            f"{format_mg(plan.target_mg)}."
        )
    if sentence is None and not choices and not coming:
        return None
    return PlanLines(sentence=sentence, choices=choices, coming=coming)
