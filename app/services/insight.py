"""Feeding the analysis and the charts from a patient's diary.

The one place that turns database rows into the analysis package's plain inputs, so the API,
the pages and the PDF all compute from the same data the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import text
from sqlmodel import Session, col, select

from app.analysis import Comparison, DayRecord, StepInput, compare_steps
from app.charts import DoseBand
from app.items import RATED_KEYS, SIDE_EFFECT_KEYS
from app.models import DiaryEntry, DoseStep, User
from app.services.dose_steps import list_steps, timeline
from app.services.entries import patient_today

_DAY_COLUMNS = ", ".join(("day", *RATED_KEYS, *SIDE_EFFECT_KEYS, "dose_taken", "retrospective"))


def day_records(
    session: Session, *, user_id: int, start: date | None = None, end: date | None = None
) -> list[DayRecord]:
    """The patient's diary days as plain records, oldest first (only the columns needed)."""
    # Plain SQL with untyped columns hands back the driver's own values: five years of days
    # load three times faster than through typed rows, which the trends page budget needs.
    conditions = ["user_id = :user_id"]
    params: dict[str, object] = {"user_id": user_id}
    if start is not None:
        conditions.append("day >= :start")
        params["start"] = start
    if end is not None:
        conditions.append("day <= :end")
        params["end"] = end
    statement = text(
        f"SELECT {_DAY_COLUMNS} FROM diary_entry "  # noqa: S608 (column names are constants)
        f"WHERE {' AND '.join(conditions)} ORDER BY day"
    )
    rated = len(RATED_KEYS)
    last_effect = 1 + rated + len(SIDE_EFFECT_KEYS)
    records = []
    for row in session.connection().execute(statement, params):
        day = row[0]
        records.append(
            DayRecord(
                day=day if isinstance(day, date) else date.fromisoformat(day),
                values=dict(zip(RATED_KEYS, row[1 : 1 + rated], strict=True)),
                side_effects=dict(zip(SIDE_EFFECT_KEYS, row[1 + rated : last_effect], strict=True)),
                dose_taken=None if row[-2] is None else bool(row[-2]),
                retrospective=bool(row[-1]),
            )
        )
    return records


def step_inputs(steps: Sequence[DoseStep]) -> list[StepInput]:
    return [
        StepInput(
            step_id=step.id or 0,
            start_date=step.start_date,
            dose_mg=step.dose_mg,
            dosing_time=step.dosing_time,
        )
        for step in steps
    ]


class UnknownReference(LookupError):
    """The step asked for as the reference is not one of this patient's begun dose steps."""


def comparison_for(
    session: Session,
    *,
    user: User,
    settle_days: int,
    reference: int | None = None,
    primary_item: str | None = None,
) -> Comparison:
    """The SPEC §4 comparison of every dose step with baseline (or `reference`), whole diary.

    Raises UnknownReference when `reference` is not one of the patient's begun dose steps
    (another patient's step is unknown exactly like one that does not exist).
    """
    assert user.id is not None
    steps = list_steps(session, user_id=user.id)
    try:
        return compare_steps(
            day_records(session, user_id=user.id),
            step_inputs(steps),
            today=patient_today(user),
            settle_days=settle_days,
            reference=reference,
            primary_item=primary_item,
        )
    except KeyError as error:
        raise UnknownReference(str(error)) from None


RANGES: dict[str, int | None] = {"30": 30, "90": 90, "365": 365, "all": None}
RANGE_LABELS = {"30": "30 days", "90": "90 days", "365": "1 year", "all": "All"}


@dataclass(frozen=True)
class TrendData:
    """What the trend charts of one range need."""

    start: date
    end: date
    days: list[DayRecord]
    bands: list[DoseBand]


def trend_data(session: Session, *, user: User, range_key: str) -> TrendData:
    """Days and dose bands for a range ending today ('30', '90', '365' or 'all')."""
    assert user.id is not None
    end = patient_today(user)
    span = RANGES.get(range_key, 90)
    steps = list_steps(session, user_id=user.id)
    if span is None:
        first_entry = session.exec(
            select(DiaryEntry)
            .where(DiaryEntry.user_id == user.id)
            .order_by(col(DiaryEntry.day))
            .limit(1)
        ).first()
        candidates = [end - timedelta(days=29)]
        if first_entry is not None:
            candidates.append(first_entry.day)
        if steps:
            candidates.append(steps[0].start_date)
        start = min(candidates)
    else:
        start = end - timedelta(days=span - 1)
    # Six days before the range let the 7-day mean start at its left edge.
    days = day_records(session, user_id=user.id, start=start - timedelta(days=6), end=end)
    return TrendData(start=start, end=end, days=days, bands=dose_bands(steps, start, end))


def dose_bands(steps: Sequence[DoseStep], start: date, end: date) -> list[DoseBand]:
    """The dose steps that overlap [start, end], clipped to it, labelled for a chart."""
    bands = []
    for row in timeline(steps):
        band_end = row.end_date or end
        if band_end < start or row.step.start_date > end:
            continue
        if row.is_baseline:
            label = "Baseline"
        elif row.step.dose_mg == 0:
            label = "Pause"
        else:
            label = f"{row.step.dose_mg:g} mg"
        bands.append(
            DoseBand(
                start=max(row.step.start_date, start),
                end=min(band_end, end),
                label=label,
                is_baseline=row.is_baseline,
            )
        )
    return bands
