"""Feeding the analysis and the charts from a patient's diary.

The one place that turns database rows into the analysis package's plain inputs, so the API,
the pages and the PDF all compute from the same data the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import text
from sqlmodel import Session, col, select

from app.analysis import (
    Comparison,
    DayRecord,
    ItemStats,
    StepComparison,
    StepInput,
    compare_steps,
)
from app.charts import DoseBand
from app.items import FIXED_BY_KEY, Item
from app.items.catalogue import CUSTOM_PREFIX
from app.items.patient import Catalogue, catalogue_for
from app.models import DiaryEntry, DoseStep, User
from app.services.dose_steps import list_steps, timeline
from app.services.entries import patient_today
from app.services.primary_item import chosen_primary

_DAY_COLUMNS = "day, ratings, side_effects, dose_taken, retrospective"


def _json_object(value: object) -> dict[str, int | None]:
    """A JSON column as the driver hands it back: text on SQLite, a dict on PostgreSQL."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


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
    rows = session.connection().execute(statement, params).all()
    ratings = _json_objects([row[1] for row in rows])
    side_effects = _json_objects([row[2] for row in rows])
    return [
        DayRecord(
            day=day if isinstance(day := row[0], date) else date.fromisoformat(day),
            values=values,
            side_effects=effects,
            dose_taken=None if row[3] is None else bool(row[3]),
            retrospective=bool(row[4]),
        )
        for row, values, effects in zip(rows, ratings, side_effects, strict=True)
    ]


def _json_objects(column: list[object]) -> list[dict[str, int | None]]:
    """A JSON column of many rows: SQLite's texts decoded in one call (five years of days
    decode several times faster as one array than row by row), else row by row."""
    if column and all(isinstance(value, str) for value in column):
        try:
            decoded = json.loads("[" + ",".join(column) + "]")  # type: ignore[arg-type]
        except ValueError:
            decoded = None
        if isinstance(decoded, list) and len(decoded) == len(column):
            return [value if isinstance(value, dict) else {} for value in decoded]
    return [_json_object(value) for value in column]


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
    return compared_items(
        session,
        user=user,
        settle_days=settle_days,
        reference=reference,
        primary_item=primary_item,
    )[0]


# The responder rule (SPEC §4) reads these three, so they are always compared.
RESPONDER_KEYS = ("pain", "fatigue", "sleep_quality")


def compared_items(
    session: Session,
    *,
    user: User,
    settle_days: int,
    reference: int | None = None,
    primary_item: str | None = None,
) -> tuple[Comparison, list[Item], list[Item]]:
    """The comparison, with the rated items and side effects it covers in the patient's
    order: every tracked item and every item with data (SPEC §2.5)."""
    assert user.id is not None
    steps = list_steps(session, user_id=user.id)
    records = day_records(session, user_id=user.id)
    catalogue = catalogue_for(session, user=user)
    rated, effects = _shown_items(catalogue, records)
    if primary_item is None:
        # The patient's saved choice (SPEC §4.1); an address's ?primary_item= overrides it.
        primary_item = chosen_primary(user, catalogue)
    listed = {item.key for item in rated}
    rated += [FIXED_BY_KEY[key] for key in RESPONDER_KEYS if key not in listed]
    try:
        comparison = compare_steps(
            records,
            step_inputs(steps),
            today=patient_today(user),
            settle_days=settle_days,
            reference=reference,
            primary_item=primary_item,
            items=rated,
            side_effect_keys=[effect.key for effect in effects],
        )
    except KeyError as error:
        raise UnknownReference(str(error)) from None
    return comparison, rated, effects


def patient_items(
    session: Session, *, user: User, days: Sequence[DayRecord]
) -> tuple[list[Item], list[Item]]:
    """The rated items and side effects an output lists for these days: the patient's tracked
    ones in their order, then untracked ones that have data (SPEC §2.5)."""
    return _shown_items(catalogue_for(session, user=user), days)


def _shown_items(catalogue: Catalogue, days: Sequence[DayRecord]) -> tuple[list[Item], list[Item]]:
    rated_data = {key for day in days for key, value in day.values.items() if value is not None}
    effect_data = {
        key for day in days for key, value in day.side_effects.items() if value is not None
    }
    return catalogue.shown("rated", rated_data), catalogue.shown("side_effect", effect_data)


RANGES: dict[str, int | None] = {"30": 30, "90": 90, "365": 365, "all": None}
RANGE_LABELS = {"30": "30 days", "90": "90 days", "365": "1 year", "all": "All"}


@dataclass(frozen=True)
class TrendData:
    """What the trend charts of one range need."""

    start: date
    end: date
    days: list[DayRecord]
    bands: list[DoseBand]
    # The patient's items with data in the range or tracked, in their order.
    items: list[Item]
    side_effects: list[Item]


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
    rated, effects = patient_items(session, user=user, days=days)
    return TrendData(
        start=start,
        end=end,
        days=days,
        bands=dose_bands(steps, start, end),
        items=rated,
        side_effects=effects,
    )


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


# --- the comparison in plain words (SPEC §4.1), shared by /compare and the doctor summary ----


def item_label(key: str, labels: Mapping[str, str] | None = None) -> str:
    """The item's label as the diary shows it: from `labels` (the patient's own items'
    labels, by key) when it has the key; else a key the vocabulary lacks reads as itself:
    custom_tinnitus_today → 'Tinnitus today'."""
    if labels and key in labels:
        return labels[key]
    item = FIXED_BY_KEY.get(key)
    if item is not None:
        return item.label
    return key.removeprefix(CUSTOM_PREFIX).replace("_", " ").capitalize()


def _in_sentence(label: str) -> str:
    """'Brain fog' → 'brain fog' inside a sentence, but 'PEM (crash)' stays as it is."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def clear_change_words(key: str, stats: ItemStats, labels: Mapping[str, str] | None = None) -> str:
    """'pain clearly lower (better), by about 17 points' for a change that holds."""
    diff = stats.diff_vs_baseline or 0.0
    way = "higher" if diff > 0 else "lower"
    if stats.verdict in ("improved", "worse"):
        way += " (better)" if stats.verdict == "improved" else " (worse)"
    points = max(round(abs(diff)), 1)
    unit = "point" if points == 1 else "points"
    return f"{_in_sentence(item_label(key, labels))} clearly {way}, by about {points} {unit}"


def step_summary(
    step: StepComparison,
    *,
    label: str,
    against: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """One plain sentence from the step's headline, for a tired reader (SPEC §4.1).

    'At 3 mg: pain clearly lower (better), by about 17 points; nothing else clearly changed
    (1 of 8 items).' Only the Holm-corrected headline is named, so eight items and three
    steps do not make a change out of chance.
    """
    # "At 3 mg", "At baseline", "At pause".
    label = label.lower() if label in ("Baseline", "Pause") else label
    where = f"At {label}" if against is None else f"At {label}, against {against}"
    compared = step.comparisons
    if not compared:
        return f"{where}: not enough days yet to say what changed."
    parts = [clear_change_words(key, step.items[key], labels) for key in step.headline]
    noun = "item" if compared == 1 else "items"
    if not parts:
        return f"{where}: no clear change in any of the {compared} {noun} yet."
    rest = "" if len(parts) == compared else "; nothing else clearly changed"
    return f"{where}: {'; '.join(parts)}{rest} ({len(parts)} of {compared} {noun})."


def caution_words(
    key: str,
    stats: ItemStats,
    *,
    reference_is_baseline: bool = True,
    labels: Mapping[str, str] | None = None,
) -> str | None:
    """The 'trend' caution said plainly; None without one."""
    if "trend" not in stats.cautions or stats.diff_vs_baseline is None:
        return None
    way = "falling" if stats.diff_vs_baseline < 0 else "rising"
    before = "before LDN" if reference_is_baseline else "over time"
    label = item_label(key, labels)
    # "Overall symptoms were", "Dreams were", "Stress was".
    verb = "were" if label.endswith("s") and not label.endswith("ss") else "was"
    return f"{label} {verb} already {way} {before}: part of this change may have happened anyway."


def cautions_sentence(step: StepComparison, labels: Mapping[str, str] | None = None) -> str | None:
    """All of a step's headline cautions in one sentence, for the doctor's one page."""
    keys = [key for key in step.headline if "trend" in step.items[key].cautions]
    if not keys:
        return None
    if len(keys) == 1:
        return caution_words(keys[0], step.items[keys[0]], labels=labels)
    names = [_in_sentence(item_label(key, labels)) for key in keys]
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    return (
        f"{listed[0].upper()}{listed[1:]} were already changing this way before LDN: part may "
        "have happened anyway."
    )


def weeks_or_days(days: int) -> str:
    """'10 days', 'about 5 weeks', 'about 4 months'."""
    if days < 14:
        return f"{days} days"
    if days < 120:
        return f"about {round(days / 7)} weeks"
    return f"about {round(days / 30.4)} months"


def detect_words(
    key: str, stats: ItemStats, points: int = 15, labels: Mapping[str, str] | None = None
) -> str | None:
    """How long a true change of `points` usually takes to show, from the diary's own noise."""
    if stats.days_to_detect is None:
        return None
    days = stats.days_to_detect.get(str(points))
    name = _in_sentence(item_label(key, labels))
    if days is None:
        return (
            f"At your day-to-day variation, a {points}-point change in {name} may not show "
            "clearly even after months: the baseline is short, varies a lot, or drifts slowly "
            "up and down."
        )
    return (
        f"At your day-to-day variation, a {points}-point change in {name} usually shows after "
        f"{weeks_or_days(days)} on a dose."
    )


def more_days_words(stats: ItemStats) -> str | None:
    """'about 9 more days on this dose would help' for a not-enough-data verdict."""
    if stats.verdict != "not enough data" or stats.more_days is None:
        return None
    return f"about {weeks_or_days(stats.more_days)} more on this dose would help".replace(
        "about about", "about"
    )


def current_step(comparison: Comparison) -> StepComparison | None:
    """The latest step that is compared (not the reference), with a rated day if any has one."""
    compared = [step for step in comparison.steps if not step.is_reference]
    if comparison.reference is None:
        return None
    with_data = [step for step in compared if any(stats.n for stats in step.items.values())]
    if with_data:
        return with_data[-1]
    return compared[-1] if compared else None


# --- /trends: the range that fits, and the change week by week since the first dose ---------


def fitting_range(session: Session, *, user: User) -> str:
    """The range /trends opens on: the shortest that shows the whole diary without empty half.

    Up to 30 days of diary: "30"; up to a year: "all" (from the first day, so a six-week diary
    fills the chart); longer: "365".
    """
    assert user.id is not None
    today = patient_today(user)
    first_entry = session.exec(
        select(col(DiaryEntry.day))
        .where(DiaryEntry.user_id == user.id)
        .order_by(col(DiaryEntry.day))
        .limit(1)
    ).first()
    steps = list_steps(session, user_id=user.id)
    firsts: list[date] = [
        day for day in (first_entry, steps[0].start_date if steps else None) if day is not None
    ]
    if not firsts:
        return "30"
    span = (today - min(firsts)).days + 1
    if span <= 30:
        return "30"
    return "all" if span <= 366 else "365"


@dataclass(frozen=True)
class WeekRow:
    """One week on LDN: per item the mean of the days rated and its change from baseline."""

    week: int
    start: date
    end: date
    means: dict[str, float | None]
    changes: dict[str, float | None]


@dataclass(frozen=True)
class WeeksOnLdn:
    first_dose: date
    baseline_means: dict[str, float | None]
    rows: list[WeekRow]


def weeks_since_first_dose(
    session: Session, *, user: User, keys: Sequence[str], data: TrendData
) -> WeeksOnLdn | None:
    """Week 1, 2, … since the first dose above 0, each against the baseline's plain mean.

    The weeks shown are those the trend range covers (its days are reused); the baseline is
    read separately only when the range starts after it. Settling-in days are not left out
    here: this is the change as it unfolded, averaged per week, not the comparison's
    judgement. None without a dose yet.
    """
    assert user.id is not None
    steps = list_steps(session, user_id=user.id)
    first = next((step for step in steps if step.dose_mg > 0), None)
    if first is None:
        return None
    today = data.end
    if data.days and data.days[0].day <= steps[0].start_date:
        before = [record for record in data.days if record.day < first.start_date]
    else:
        before = day_records(
            session,
            user_id=user.id,
            start=steps[0].start_date,
            end=first.start_date - timedelta(days=1),
        )
    baseline_means: dict[str, float | None] = {}
    for key in keys:
        values = [
            v
            for record in before
            if record.day >= steps[0].start_date and (v := record.values.get(key)) is not None
        ]
        baseline_means[key] = (
            sum(values) / len(values) if values and steps[0].dose_mg == 0 else None
        )
    records = [record for record in data.days if record.day >= data.start]
    totals: dict[int, dict[str, list[int]]] = {}
    for record in records:
        if record.day < first.start_date:
            continue
        week = (record.day - first.start_date).days // 7 + 1
        bucket = totals.setdefault(week, {key: [] for key in keys})
        for key in keys:
            value = record.values.get(key)
            if value is not None:
                bucket[key].append(value)
    last_week = (today - first.start_date).days // 7 + 1 if today >= first.start_date else 0
    first_week = max((data.start - first.start_date).days // 7 + 1, 1)
    rows = []
    for week in range(first_week, last_week + 1):
        bucket = totals.get(week, {key: [] for key in keys})
        means = {key: (sum(v) / len(v) if v else None) for key, v in bucket.items()}
        changes = {
            key: None
            if means[key] is None or baseline_means[key] is None
            else means[key] - baseline_means[key]  # type: ignore[operator]
            for key in keys
        }
        start = first.start_date + timedelta(days=7 * (week - 1))
        rows.append(
            WeekRow(
                week=week,
                start=start,
                end=min(start + timedelta(days=6), today),
                means=means,
                changes=changes,
            )
        )
    return WeeksOnLdn(first_dose=first.start_date, baseline_means=baseline_means, rows=rows)
