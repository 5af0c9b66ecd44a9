"""The doctor's summary (SPEC §6): one `ReportData` for a date range, rendered three ways.

The preview on /report, the shared page and the PDF all render this one object with one
template (templates/report/_summary.html), so they cannot disagree. The baseline comparison is
the whole diary's — exactly the numbers of GET /api/v1/comparison, formatted to the same one
decimal — so a patient more than a year in still sees the change from baseline; the summary
shows the baseline and the dose steps that overlap the range. Everything else (the chart,
completion, filled-in-later days, side effects, notes, check-ins) counts the range's days only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup
from sqlmodel import Session, col, func, select

from app.analysis import (
    DEFAULT_SETTLE_DAYS,
    MIN_DAYS_FOR_VERDICT,
    RESPONDER_PAIN_IMPROVEMENT_PCT,
    RESPONDER_PAIN_MIN_POINTS,
    Comparison,
    DayRecord,
    ItemStats,
    SideEffectStats,
    StepComparison,
    method_text,
)
from app.charts import day_count, end_digits, multi_item_chart, whole_interval, whole_points
from app.items import (
    ITEMS_BY_KEY,
    PGIC_LABELS,
    SEVERITY_LABELS,
    Item,
    RatedItem,
    SideEffect,
)
from app.models import DiaryEntry, DoseStep, User
from app.services.dose_plan import PlanLines, plan_lines
from app.services.dose_steps import dose_label, format_day, format_mg, list_steps, step_in_force
from app.services.entries import patient_today
from app.services.insight import (
    cautions_sentence,
    compared_items,
    day_records,
    detect_words,
    dose_bands,
    step_summary,
)
from app.trials.summary import TrialSummary
from app.trials.summary import for_report as trial_for_report

MAX_RANGE_DAYS = 366
INITIALS_MAX = 12
QUESTIONS_MAX = 1000
# Completion under this share of days is flagged in the header.
COMPLETION_FLAG_BELOW_PCT = 80.0
CHART_ITEMS: tuple[RatedItem, ...] = tuple(
    ITEMS_BY_KEY[key] for key in ("pain", "fatigue", "sleep_quality")
)
CHART_WIDTH = 700
CHART_HEIGHT = 110
MINUS = "\u2212"  # a real minus sign: a hyphen is easy to miss on paper


@dataclass(frozen=True)
class ReportOptions:
    """What the patient chose: the range, and what to print at the top and the end."""

    start: date
    end: date
    initials: str | None = None
    questions: str | None = None


@dataclass(frozen=True)
class KeyNumber:
    """One rated item: baseline mean → latest step mean, and what the change amounts to."""

    item: RatedItem
    baseline: str
    latest: str
    on_ten: str  # the same two means on a 0–10 scale, "6.9 → 4.4"
    change: str
    # The change in whole points with its 95% interval, "−17 (−25 to −9)"; "–" without one.
    points: str
    band: str
    verdict: str


@dataclass(frozen=True)
class ItemCell:
    """A chart item within one step: its mean, and its change from baseline with the interval."""

    mean: str
    change: str | None
    interval: str | None


@dataclass(frozen=True)
class StepRow:
    """One dose step in the per-step table."""

    label: str
    dates: str
    days_logged: int
    calendar_days: int
    adherence: str
    cells: tuple[ItemCell, ...]
    side_effects: str
    settling_days: int
    is_baseline: bool


@dataclass(frozen=True)
class SideEffectRow:
    """One step in the side-effect table: per effect "20% · moderate", "–" or "not asked"."""

    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class CheckIn:
    """The latest answer to a 14-day check-in question."""

    day: date
    value: int
    words: str


@dataclass(frozen=True)
class ReportData:
    """Everything the summary prints, worked out and worded once."""

    options: ReportOptions
    made_on: date
    settle_days: int
    days_in_range: int
    days_logged: int
    completion_pct: float
    retrospective_days: int
    ldn_start: date | None
    dose_heading: str
    dose_now: str | None
    usual_dose_time: str | None
    comparison: Comparison
    has_baseline: bool
    # "Baseline: 5 Jan – 18 Jan 2025 (before this summary’s dates)" when it began before them.
    baseline_note: str | None
    latest_label: str | None
    # SPEC §4.1: the summary's first lines come from the latest step's Holm headline.
    headline: str | None
    cautions: tuple[str, ...]
    detect: str | None
    # The item the patient chose to lead with (SPEC §4.1), named for the doctor; None for the
    # default (pain).
    main_item: str | None
    key_numbers: tuple[KeyNumber, ...]
    responder: str | None
    steps: tuple[StepRow, ...]
    # Whether a step row's numbers also count days outside the range (they are whole steps).
    steps_outside_range: bool
    side_effect_names: tuple[str, ...]
    side_effect_rows: tuple[SideEffectRow, ...]
    never_reported: tuple[str, ...]
    other_texts: tuple[str, ...]
    chart: Markup
    tolerability: CheckIn | None
    pgic: CheckIn | None
    method: str
    # SPEC §13: the titration plan against what happened (step-day answers), if there is one.
    plan: PlanLines | None = None
    # The blinded self-trial overlapping the range, if any (app/trials/); its result once unblinded.
    trial: TrialSummary | None = None

    @property
    def has_entries(self) -> bool:
        return self.days_logged > 0

    @property
    def completion_low(self) -> bool:
        return self.completion_pct < COMPLETION_FLAG_BELOW_PCT

    @property
    def chart_items(self) -> tuple[RatedItem, ...]:
        return CHART_ITEMS

    @property
    def responder_rule(self) -> str:
        return RESPONDER_SHORT

    @property
    def range_text(self) -> str:
        return f"{format_day(self.options.start)} to {format_day(self.options.end)}"

    @property
    def filename(self) -> str:
        """A name for the downloaded file that says whose range it is."""
        return (
            f"ldn-diary-summary-{self.options.start.isoformat()}-to-"
            f"{self.options.end.isoformat()}.pdf"
        )


# --- the range ------------------------------------------------------------------------------


def default_range(session: Session, *, user: User) -> tuple[date, date]:
    """Since the first entry, at most a year, up to today (or a later last entry)."""
    assert user.id is not None
    first, last = session.exec(
        select(func.min(DiaryEntry.day), func.max(DiaryEntry.day)).where(
            DiaryEntry.user_id == user.id
        )
    ).one()
    today = patient_today(user)
    end = max(today, last) if last is not None else today
    earliest = end - timedelta(days=MAX_RANGE_DAYS - 1)
    if first is None:
        return end - timedelta(days=29), end
    return max(first, earliest), end


def range_problems(
    *,
    start: date,
    end: date,
    initials: str | None,
    questions: str | None,
    today: date,
) -> dict[str, str]:
    """Why these options cannot make a summary, by field name; empty when they can."""
    problems: dict[str, str] = {}
    if end < start:
        problems["end"] = "The end date is before the start date."
    elif (end - start).days + 1 > MAX_RANGE_DAYS:
        problems["start"] = (
            f"A summary covers at most {MAX_RANGE_DAYS} days (a year). Pick a later start date."
        )
    if end > today + timedelta(days=1):
        problems["end"] = "The summary cannot end after tomorrow."
    if initials is not None and len(initials) > INITIALS_MAX:
        problems["initials"] = f"Use at most {INITIALS_MAX} characters, for example “J. S.”."
    if questions is not None and len(questions) > QUESTIONS_MAX:
        problems["questions"] = (
            f"Keep the questions to {QUESTIONS_MAX} characters; "
            f"this is {len(questions)}. The summary has room for a few short ones."
        )
    return problems


# --- building the summary -------------------------------------------------------------------


def build_report(
    session: Session,
    *,
    user: User,
    options: ReportOptions,
    settle_days: int = DEFAULT_SETTLE_DAYS,
) -> ReportData:
    """The summary of `options.start`..`options.end` (inclusive) for this patient."""
    assert user.id is not None
    start, end = options.start, options.end
    steps = list_steps(session, user_id=user.id)
    strengths = liquid_strengths(steps)
    # Only the range's own days: nothing before `start` may show through, not even in the
    # chart's first 7-day means (a share link shows exactly the range the patient chose).
    records = day_records(session, user_id=user.id, start=start, end=end)
    # The whole diary's comparison, so a baseline from before the range still counts.
    comparison, rated_items, effect_items = compared_items(
        session, user=user, settle_days=settle_days
    )
    # The patient's own items by their own words in the sentences, not rebuilt from the key.
    labels = {item.key: item.label for item in rated_items}
    baseline = comparison.baseline
    in_range = tuple(
        step
        for step in comparison.steps
        if step.start_date <= end and step.end_date >= start and not step.is_baseline
    )
    shown = ((baseline,) if baseline is not None else ()) + in_range
    latest = _latest_step(in_range)
    # Side effects count the range's days only, per step that has days in it.
    effects_by_step = [
        (
            step,
            _side_effect_stats(
                records, max(step.start_date, start), min(step.end_date, end), effect_items
            ),
        )
        for step in comparison.steps
        if step.start_date <= end and step.end_date >= start
    ]

    checkins = _check_ins(session, user_id=user.id, start=start, end=end)
    in_force = step_in_force(steps, end)
    ldn_start = next((step.start_date for step in steps if step.dose_mg > 0), None)
    today = patient_today(user)

    key_numbers: tuple[KeyNumber, ...] = ()
    if latest is not None and records:
        key_numbers = tuple(
            _key_number(item, baseline, latest.items[item.key]) for item in rated_items
        )
    effects_reported = [
        effect
        for effect in effect_items
        if any(stats[effect.key].days for _, stats in effects_by_step)
    ]
    effects_answered = {
        effect.key
        for effect in effect_items
        if any(stats[effect.key].answered for _, stats in effects_by_step)
    }
    range_effects = {step.start_date: stats for step, stats in effects_by_step}

    series = {
        item.key: [(record.day, record.values.get(item.key)) for record in records]
        for item in CHART_ITEMS
    }
    chart = multi_item_chart(
        items=CHART_ITEMS,
        series=series,
        bands=dose_bands(steps, start, end),
        start=start,
        end=end,
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        chart_id="summary-chart",
        # On paper three series of daily markers are noise: the 7-day means carry the story.
        daily_points=False,
    )
    return ReportData(
        options=options,
        made_on=today,
        settle_days=settle_days,
        days_in_range=(end - start).days + 1,
        days_logged=len(records),
        completion_pct=100.0 * len(records) / ((end - start).days + 1),
        retrospective_days=sum(1 for record in records if record.retrospective),
        ldn_start=ldn_start,
        dose_heading="Current dose" if end >= today else f"Dose on {format_day(end)}",
        dose_now=_dose_words(in_force, steps),
        usual_dose_time=checkins.usual_dose_time(in_force, end),
        comparison=comparison,
        has_baseline=baseline is not None,
        baseline_note=_baseline_note(baseline, start),
        latest_label=(
            None if latest is None else step_label(latest, mg_per_ml=strengths.get(latest.step_id))
        ),
        headline=(
            None
            if latest is None or baseline is None
            else step_summary(latest, label=step_label(latest, short=True), labels=labels)
        ),
        cautions=(
            ()
            if latest is None or (words := cautions_sentence(latest, labels)) is None
            else (words,)
        ),
        detect=_detect_line(latest, comparison.primary_item, labels),
        main_item=next(
            (
                item.label
                for item in rated_items
                if item.key == comparison.primary_item and user.primary_item == item.key
            ),
            None,
        ),
        key_numbers=key_numbers,
        responder=None if latest is None else _responder_words(latest),
        steps=tuple(
            _step_row(
                step,
                range_effects.get(step.start_date),
                effect_items,
                mg_per_ml=strengths.get(step.step_id),
            )
            for step in shown
        ),
        steps_outside_range=any(step.start_date < start or step.end_date > end for step in shown),
        side_effect_names=tuple(effect.label for effect in effects_reported),
        side_effect_rows=tuple(
            SideEffectRow(
                label=step_label(step, short=True),
                cells=tuple(_side_effect_cell(stats, effect) for effect in effects_reported),
            )
            for step, stats in effects_by_step
        )
        if effects_reported
        else (),
        never_reported=tuple(
            effect.label
            for effect in effect_items
            if effect not in effects_reported and effect.key in effects_answered
        ),
        other_texts=checkins.other_texts,
        chart=chart,
        tolerability=checkins.tolerability,
        pgic=checkins.pgic,
        method=method_text(settle_days),
        plan=plan_lines(session, user_id=user.id, start=start, end=end),
        trial=trial_for_report(session, user_id=user.id, start=start, end=end, today=today),
    )


def step_label(step: StepComparison, *, short: bool = False, mg_per_ml: float | None = None) -> str:
    """'Baseline (before LDN)', 'Pause (no LDN)', '1.5 mg at bedtime' (short: '1.5 mg');
    with a liquid's strength, '1.5 mg (1.5 ml of liquid) at bedtime'."""
    if step.is_baseline:
        return "Baseline" if short else "Baseline (before LDN)"
    if step.dose_mg == 0:
        return "Pause" if short else "Pause (no LDN)"
    if short:
        return format_mg(step.dose_mg)
    return dose_label(step.dose_mg, step.dosing_time, mg_per_ml=mg_per_ml)


def liquid_strengths(steps: Sequence[DoseStep]) -> dict[int, float]:
    """mg per ml by step id, for the steps of liquid LDN with their strength (only a liquid
    step keeps one, see services.dose_steps)."""
    return {step.id: step.mg_per_ml for step in steps if step.id is not None and step.mg_per_ml}


def _latest_step(steps: Sequence[StepComparison]) -> StepComparison | None:
    """The latest non-baseline step with a rated day (a step still settling in has none)."""
    later = [step for step in steps if not step.is_baseline]
    with_data = [step for step in later if any(stats.n for stats in step.items.values())]
    if with_data:
        return with_data[-1]
    return later[-1] if later else None


# --- words and numbers ----------------------------------------------------------------------


def number(value: float | None, digits: int = 1) -> str:
    """One decimal, the API's rounding, a real minus sign; '–' for no value."""
    if value is None:
        return "–"
    text = f"{round(value, digits) + 0.0:.{digits}f}"
    return text.replace("-", MINUS)


def signed(value: float | None, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "–"
    rounded = round(value, digits) + 0.0
    text = f"{rounded:+.{digits}f}{suffix}"
    return text.replace("-", MINUS) if rounded else text.lstrip("+")


def _key_number(item: RatedItem, baseline: StepComparison | None, stats: ItemStats) -> KeyNumber:
    base = baseline.items[item.key] if baseline else None
    base_mean = base.mean if base else None
    on_ten = "–"
    if base_mean is not None and stats.mean is not None:
        on_ten = f"{number(base_mean / 10)} → {number(stats.mean / 10)}"
    elif stats.mean is not None:
        on_ten = number(stats.mean / 10)
    points = "–"
    if stats.diff_vs_baseline is not None and stats.diff_ci95 is not None:
        low, high = stats.diff_ci95
        low_end, high_end = whole_interval(low, high)
        points = (
            f"{signed(whole_points(stats.diff_vs_baseline), 0)} "
            f"({signed(low_end, end_digits(low_end))} to {signed(high_end, end_digits(high_end))})"
        )
    clear = stats.verdict in ("improved", "worse", "higher", "lower")
    return KeyNumber(
        item=item,
        baseline=number(base_mean, 0),
        latest=number(stats.mean, 0),
        on_ten=on_ten,
        change=signed(
            None
            if stats.pct_change_vs_baseline is None
            else whole_points(stats.pct_change_vs_baseline),
            0,
            suffix="%",
        ),
        points=points,
        # A band beside "no clear change" reads as a contradiction: only for a clear change.
        band=(stats.band or "–") if clear else "–",
        verdict=_verdict_words(stats, base) if baseline else "no baseline",
    )


def _detect_line(
    step: StepComparison | None, primary: str | None, labels: Mapping[str, str]
) -> str | None:
    """How long a 15-point change in the primary item usually takes to show, in words."""
    if step is None or primary is None or primary not in step.items:
        return None
    return detect_words(primary, step.items[primary], labels=labels)


def _verdict_words(stats: ItemStats, baseline: ItemStats | None) -> str:
    if stats.verdict == "not enough data":
        if stats.n < MIN_DAYS_FOR_VERDICT:
            return f"not enough data ({day_count(stats.n)})"
        if baseline is not None and baseline.n < MIN_DAYS_FOR_VERDICT:
            return f"not enough baseline ({day_count(baseline.n)})"
    return stats.verdict


def _responder_words(step: StepComparison) -> str | None:
    if step.responder is None:
        return None
    return "yes" if step.responder else "no"


def _baseline_note(baseline: StepComparison | None, start: date) -> str | None:
    if baseline is None or baseline.start_date >= start:
        return None
    where = "before" if baseline.end_date < start else "partly before"
    dates = _span_words(baseline.start_date, baseline.end_date)
    return f"Baseline: {dates} ({where} this summary’s dates)"


def _step_row(
    step: StepComparison,
    effects: Mapping[str, SideEffectStats] | None,
    effect_items: Sequence[Item],
    *,
    mg_per_ml: float | None = None,
) -> StepRow:
    """The whole step, as the comparison counts it; side effects only from the range's days."""
    cells = []
    for item in CHART_ITEMS:
        stats = step.items[item.key]
        interval = None
        if stats.diff_ci95 is not None:
            low, high = stats.diff_ci95
            low_end, high_end = whole_interval(low, high)
            interval = (
                f"{signed(low_end, end_digits(low_end))} to "
                f"{signed(high_end, end_digits(high_end))}"
            )
        cells.append(
            ItemCell(
                mean=number(stats.mean, 0),
                change=None
                if step.is_baseline or stats.diff_vs_baseline is None
                else signed(whole_points(stats.diff_vs_baseline), 0),
                interval=interval,
            )
        )
    in_range = effects or {}
    reported = sorted(
        (
            (effect.days, effect.pct_of_logged or 0.0, label)
            for label, effect in ((known.label, in_range.get(known.key)) for known in effect_items)
            if effect is not None and effect.days
        ),
        reverse=True,
    )
    if effects is None:
        side_effects = "before this summary’s dates"
    elif reported:
        side_effects = ", ".join(f"{label} {pct:.0f}%" for _, pct, label in reported[:2])
    elif any(effect.answered for effect in in_range.values()):
        side_effects = "none reported"
    else:
        logged = any(effect.pct_of_logged is not None for effect in in_range.values())
        side_effects = "not answered" if logged else "not asked"
    return StepRow(
        label=step_label(step, mg_per_ml=mg_per_ml),
        dates=_span_words(step.start_date, step.end_date),
        days_logged=step.days_logged,
        calendar_days=step.calendar_days,
        adherence="–" if step.adherence_pct is None else f"{step.adherence_pct:.0f}%",
        cells=tuple(cells),
        side_effects=side_effects,
        settling_days=step.settling_days,
        is_baseline=step.is_baseline,
    )


def _side_effect_stats(
    records: Sequence[DayRecord], first: date, last: date, effect_items: Sequence[Item]
) -> dict[str, SideEffectStats]:
    """Each side effect on the logged days first..last: days reported, share, worst severity."""
    days = [record for record in records if first <= record.day <= last]
    stats = {}
    for effect in effect_items:
        answers = [
            value for record in days if (value := record.side_effects.get(effect.key)) is not None
        ]
        reported = sum(1 for value in answers if value >= 1)
        stats[effect.key] = SideEffectStats(
            days=reported,
            pct_of_logged=100.0 * reported / len(days) if days else None,
            worst=max(answers) if answers else None,
            answered=len(answers),
        )
    return stats


def _side_effect_cell(stats_by_effect: Mapping[str, SideEffectStats], effect: SideEffect) -> str:
    stats = stats_by_effect[effect.key]
    if not stats.answered:
        return "not answered"
    if not stats.days or stats.worst is None:
        return "–"
    return f"{stats.pct_of_logged or 0:.0f}% · {SEVERITY_LABELS[stats.worst]}"


def _span_words(first: date, last: date) -> str:
    if first.year == last.year:
        return f"{first.day} {first:%b} – {format_day(last)}"
    return f"{format_day(first)} – {format_day(last)}"


def _dose_words(step: DoseStep | None, steps: Sequence[DoseStep]) -> str | None:
    if step is None:
        return None
    if step.dose_mg == 0:
        before_ldn = all(
            earlier.dose_mg == 0 for earlier in steps if earlier.start_date < step.start_date
        )
        words = "none yet (baseline)" if before_ldn else "none (pause)"
    else:
        words = dose_label(step.dose_mg, step.dosing_time, mg_per_ml=step.mg_per_ml)
    return f"{words}, since {format_day(step.start_date)}"


@dataclass(frozen=True)
class _CheckIns:
    """The sparse answers of the range: check-ins, dose times and 'something else' texts."""

    tolerability: CheckIn | None
    pgic: CheckIn | None
    dose_times: tuple[tuple[date, str], ...]
    other_texts: tuple[str, ...]

    def usual_dose_time(self, step: DoseStep | None, end: date) -> str | None:
        """The time most often written down while the current step was in force."""
        if step is None or step.dose_mg == 0:
            return None
        times = Counter(time for day, time in self.dose_times if step.start_date <= day <= end)
        if not times:
            return None
        return times.most_common(1)[0][0]


def _check_ins(session: Session, *, user_id: int, start: date, end: date) -> _CheckIns:
    rows = session.exec(
        select(DiaryEntry)
        .where(
            DiaryEntry.user_id == user_id,
            DiaryEntry.day >= start,
            DiaryEntry.day <= end,
            col(DiaryEntry.tolerability).is_not(None)
            | col(DiaryEntry.pgic).is_not(None)
            | col(DiaryEntry.dose_time).is_not(None)
            | col(DiaryEntry.other_text).is_not(None),
        )
        .order_by(col(DiaryEntry.day))
    ).all()
    tolerability = pgic = None
    others: Counter[str] = Counter()
    for row in rows:
        if row.tolerability is not None:
            tolerability = CheckIn(row.day, row.tolerability, "100 = perfectly tolerated")
        if row.pgic is not None:
            pgic = CheckIn(row.day, row.pgic, PGIC_LABELS.get(row.pgic, ""))
        if row.other_text and row.other_text.strip():
            others[row.other_text.strip()] += 1
    return _CheckIns(
        tolerability=tolerability,
        pgic=pgic,
        dose_times=tuple((row.day, row.dose_time) for row in rows if row.dose_time),
        other_texts=tuple(
            f"“{text}” ({count} day{'s' if count > 1 else ''})"
            for text, count in others.most_common(4)
        ),
    )


RESPONDER_SHORT = (
    f"pain clearly {RESPONDER_PAIN_IMPROVEMENT_PCT:.0f}% and {RESPONDER_PAIN_MIN_POINTS:.0f} "
    "points or more lower, and fatigue or sleep clearly improved"
)
