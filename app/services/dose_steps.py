"""Dose steps (SPEC §3): the patient's schedule, one step per start date."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.models import MAX_ROW_ID, DoseStep, utcnow
from app.schemas import DoseStepCreate, DoseStepUpdate

# A schedule of every day for years is a few thousand steps; far more is not a schedule, and
# every page that lists steps would grow with it.
MAX_STEPS = 500


class StepRefused(Exception):
    """A step the schedule cannot take; `field` is the form field the message belongs to."""

    field = "start_date"


class StepDateTaken(StepRefused):
    """Another step already starts on this date."""

    def __init__(self, start_date: date) -> None:
        super().__init__(
            f"A dose step already starts on {format_day(start_date)}. "
            "Change that step instead, or pick another date."
        )
        self.start_date = start_date


class TooManySteps(StepRefused):
    """The schedule already has MAX_STEPS steps."""

    def __init__(self) -> None:
        super().__init__(
            f"Your dose timeline already has {MAX_STEPS} steps, the most it keeps. "
            "Delete steps you no longer need first."
        )


def format_day(day: date) -> str:
    """'5 Jan 2026' — the way dates are written for patients."""
    return f"{day.day} {day:%b %Y}"


def format_mg(dose_mg: float) -> str:
    """'1.5 mg', '4.5 mg', '0.25 mg' — no trailing zeros."""
    return f"{dose_mg:g} mg"


def format_ml(volume_ml: float) -> str:
    """'1.5 ml', '0.25 ml' — two decimals at most, no trailing zeros."""
    return f"{round(volume_ml, 2):g} ml"


def dose_label(dose_mg: float, dosing_time: str | None, *, mg_per_ml: float | None = None) -> str:
    """'1.5 mg at bedtime', '4.5 mg in the morning', '3 mg', '1.5 mg (3 ml of liquid)'."""
    label = format_mg(dose_mg)
    if mg_per_ml:
        label += f" ({format_ml(dose_mg / mg_per_ml)} of liquid)"
    if dosing_time == "bedtime":
        return f"{label} at bedtime"
    if dosing_time == "morning":
        return f"{label} in the morning"
    return label


# Read on every save (a day's dose comes from its step): built once.
_STEPS: Final = (
    select(DoseStep)
    .where(col(DoseStep.user_id) == bindparam("user_id"))
    .order_by(col(DoseStep.start_date))
)


def list_steps(session: Session, *, user_id: int) -> list[DoseStep]:
    """The patient's steps in start-date order."""
    return list(session.exec(_STEPS, params={"user_id": user_id}))


def get_step(session: Session, *, user_id: int, step_id: int) -> DoseStep | None:
    """One of the patient's steps; another patient's step is as good as missing."""
    if not 0 < step_id <= MAX_ROW_ID:
        return None  # no such row, and SQLite cannot even be asked about it
    statement = select(DoseStep).where(DoseStep.id == step_id, DoseStep.user_id == user_id)
    return session.exec(statement).first()


def _date_taken(session: Session, *, user_id: int, start: date, except_id: int | None) -> bool:
    statement = select(DoseStep.id).where(DoseStep.user_id == user_id, DoseStep.start_date == start)
    if except_id is not None:
        statement = statement.where(DoseStep.id != except_id)
    return session.exec(statement).first() is not None


def add_step(session: Session, *, user_id: int, data: DoseStepCreate) -> DoseStep:
    """Add a step; raises StepDateTaken when one already starts that day, TooManySteps when
    the schedule is full."""
    if _date_taken(session, user_id=user_id, start=data.start_date, except_id=None):
        raise StepDateTaken(data.start_date)
    count = session.exec(select(func.count()).where(col(DoseStep.user_id) == user_id)).one()
    if count >= MAX_STEPS:
        raise TooManySteps()
    step = DoseStep(user_id=user_id, **data.model_dump())
    if step.form != "liquid":
        step.mg_per_ml = None
    session.add(step)
    _commit_unless_date_taken(session, user_id=user_id, start=data.start_date, except_id=None)
    session.refresh(step)
    return step


def _commit_unless_date_taken(
    session: Session, *, user_id: int, start: date, except_id: int | None
) -> None:
    """Commit, or raise StepDateTaken when another request took `start` since it was checked.

    Two app processes can both find the date free; the database's unique key then refuses the
    second, which is the same clash as the one checked for, not a server error.
    """
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        if _date_taken(session, user_id=user_id, start=start, except_id=except_id):
            raise StepDateTaken(start) from None
        raise


def update_step(session: Session, *, step: DoseStep, data: DoseStepUpdate) -> DoseStep:
    """Change the given fields of a step; raises StepDateTaken on a clash."""
    changes = data.model_dump(exclude_unset=True)
    new_start = changes.get("start_date")
    if new_start is not None and _date_taken(
        session, user_id=step.user_id, start=new_start, except_id=step.id
    ):
        raise StepDateTaken(new_start)
    for key, value in changes.items():
        if key in ("start_date", "dose_mg", "planned") and value is None:
            continue  # required on a step: an explicit null means "leave as is"
        setattr(step, key, value)
    if step.form != "liquid":
        step.mg_per_ml = None  # a strength means something for a liquid only
    step.updated_at = utcnow()
    session.add(step)
    _commit_unless_date_taken(
        session, user_id=step.user_id, start=step.start_date, except_id=step.id
    )
    session.refresh(step)
    return step


def delete_step(session: Session, *, step: DoseStep) -> None:
    session.delete(step)
    session.commit()


def step_in_force(steps: Sequence[DoseStep], day: date) -> DoseStep | None:
    """The latest step starting on or before `day` (steps in start-date order)."""
    current = None
    for step in steps:
        if step.start_date > day:
            break
        current = step
    return current


def scheduled_dose(steps: Sequence[DoseStep], day: date) -> float | None:
    """The dose the schedule sets for `day` (steps in start-date order); None before any."""
    step = step_in_force(steps, day)
    return step.dose_mg if step is not None else None


# The dose the schedule sets for a day (bound as `day`), for a saved or shown day: one number
# read instead of every step. `items.patient.catalogue_and_dose` reads it in the same
# statement as the catalogue.
DOSE_ON: Final = (
    select(col(DoseStep.dose_mg))
    .where(
        col(DoseStep.user_id) == bindparam("user_id"),
        col(DoseStep.start_date) <= bindparam("day"),
    )
    .order_by(col(DoseStep.start_date).desc())
    .limit(1)
)


def first_dose_day(steps: Sequence[DoseStep]) -> date | None:
    """The day of the first step with a dose above 0: the baseline ends the day before."""
    return next((step.start_date for step in steps if step.dose_mg > 0), None)


@dataclass(frozen=True)
class TimelineStep:
    """A step as the timeline page shows it."""

    step: DoseStep
    is_baseline: bool
    end_date: date | None  # None: still in force
    label: str


def timeline(steps: Sequence[DoseStep]) -> list[TimelineStep]:
    """Steps with their end dates and labels: 'Baseline', '1.5 mg at bedtime', 'Pause'."""
    rows = []
    seen_positive = False
    for index, step in enumerate(steps):
        is_baseline = step.dose_mg == 0 and not seen_positive
        seen_positive = seen_positive or step.dose_mg > 0
        if is_baseline:
            label = "Baseline (no LDN yet)"
        elif step.dose_mg == 0:
            label = "Pause (no LDN)"
        else:
            label = dose_label(step.dose_mg, step.dosing_time, mg_per_ml=step.mg_per_ml)
        next_start = steps[index + 1].start_date if index + 1 < len(steps) else None
        end = next_start - timedelta(days=1) if next_start else None
        rows.append(TimelineStep(step=step, is_baseline=is_baseline, end_date=end, label=label))
    return rows


def timeline_sentence(steps: Sequence[DoseStep]) -> str:
    """'Baseline from 5 Jan · 1.5 mg at bedtime from 19 Jan' — the schedule in one line."""
    parts = []
    previous_was_baseline = False
    for row in timeline(steps):
        # Dose-0 steps before the first dose are one baseline (SPEC §3): name it once.
        if row.is_baseline and previous_was_baseline:
            continue
        previous_was_baseline = row.is_baseline
        label = "Baseline" if row.is_baseline else row.label
        parts.append(f"{label} from {row.step.start_date.day} {row.step.start_date:%b}")
    return " · ".join(parts)
