"""The trial worded once for the result page, the /trial page and the doctor's summary (§6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from app.items.patient import Catalogue
from app.services.dose_steps import format_day, format_mg, list_steps, scheduled_dose
from app.services.insight import day_records
from app.trials import service
from app.trials.analysis import GUESS_WORDS, ItemResult, TrialResult
from app.trials.design import pairs_for_alpha, smallest_p

MINUS = "\u2212"
# How many days before the trial the "before the trial" mean looks back.
BEFORE_DAYS = 28


@dataclass(frozen=True)
class ItemRow:
    label: str
    polarity: str
    ldn: str
    placebo: str
    difference: str
    interval: str
    p: str
    verdict: str
    is_primary: bool


@dataclass(frozen=True)
class GuessLine:
    period: int
    guess: str
    truth: str
    mark: str  # "right", "wrong", ""


@dataclass(frozen=True)
class TrialSummary:
    """Everything shown about one trial; `result` parts only after unblinding."""

    trial_id: int
    dates: str
    design: str
    status: str
    status_words: str
    primary_label: str
    meaningful_change: int
    smallest_p: float
    pairs_for_005: int
    words: tuple[str, ...]
    rows: tuple[ItemRow, ...]
    guess_lines: tuple[GuessLine, ...]
    guess_words: str | None
    before_trial: str | None
    comparisons: int


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _signed(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{MINUS}{abs(value):.1f}" if value < 0 else f"+{value:.1f}"


def _row(item: ItemResult, primary: str, items: Catalogue) -> ItemRow:
    label = service.item_label(item.key, items)
    polarity = {"lower": "lower is better", "higher": "higher is better"}.get(
        item.better, "neither is better"
    )
    interval = "–"
    if item.ci95 is not None:
        interval = f"{_signed(item.ci95[0])} to {_signed(item.ci95[1])}"
    p = "–" if item.p_value is None else f"{item.p_value:.3f}"
    return ItemRow(
        label=label,
        polarity=polarity,
        ldn=_num(item.mean_ldn),
        placebo=_num(item.mean_placebo),
        difference=_signed(item.diff),
        interval=interval,
        p=p,
        verdict=item.verdict,
        is_primary=item.key == primary,
    )


def _before_trial(session: Session, trial: service.SelfTrial, items: Catalogue) -> str | None:
    start = trial.start_date - timedelta(days=BEFORE_DAYS)
    records = day_records(
        session, user_id=trial.user_id, start=start, end=trial.start_date - timedelta(days=1)
    )
    rated = [
        (record.day, value)
        for record in records
        if (value := record.values.get(trial.primary_item)) is not None
    ]
    if not rated:
        return None
    values = [value for _, value in rated]
    # Said from the dose steps, not from the trial's set-up alone: a patient "already on LDN"
    # may have had baseline days in those weeks too.
    steps = list_steps(session, user_id=trial.user_id)
    if steps:
        on_ldn = sum(1 for day, _ in rated if (scheduled_dose(steps, day) or 0.0) > 0)
    else:  # no dose steps recorded: the set-up's word for it
        on_ldn = len(rated) if trial.already_on_ldn else 0
    if on_ldn == len(rated):
        what = "open-label LDN"
    elif on_ldn == 0:
        what = "baseline, before LDN"
    else:
        what = f"open-label LDN on {on_ldn} of these days, no LDN on the others"
    mean = sum(values) / len(values)
    return (
        f"Before the trial ({what}, {len(values)} days in the {BEFORE_DAYS} days before it): "
        f"{service.item_label(trial.primary_item, items).lower()} averaged {mean:.1f}. It is "
        "shown for context only: the comparison is LDN against placebo inside the trial."
    )


def summarise(session: Session, *, trial: service.SelfTrial, today: date) -> TrialSummary:
    """The trial as the pages and the PDF word it."""
    assert trial.id is not None
    state = service.status(trial, today)
    end = service.end_date(trial)
    dose = "" if trial.ldn_dose_mg is None else f" LDN {format_mg(trial.ldn_dose_mg)} or"
    design = (
        f"{trial.pairs} pairs of {trial.period_days}-day periods, in each pair{dose} "
        f"identical placebo in an order drawn at random; the first {trial.settle_days} days of "
        "each period are left out (settling in)."
    )
    current = service.period_on(trial, today)
    status_words = {
        "set_up": f"Set up; the first period starts on {format_day(trial.start_date)}.",
        "running": f"Running: period {current.number if current else '?'} of {2 * trial.pairs}. "
        "Which periods hold LDN stays hidden until unblinding.",
        "ended": "All periods are over: unblind with the code from the pharmacy sheet.",
        "unblinded": "Unblinded on "
        + format_day(trial.unblinded_on or today)
        + (" (early, before the last period ended)." if trial.ended_early else "."),
    }[state]
    result: TrialResult | None = service.result_for(session, trial=trial)
    items = service.items_of(session, user_id=trial.user_id)
    two_sided = service.primary_two_sided(trial, items)
    rows: tuple[ItemRow, ...] = ()
    guess_lines: tuple[GuessLine, ...] = ()
    words: tuple[str, ...] = ()
    guess_words = None
    if result is not None:
        rows = tuple(_row(item, trial.primary_item, items) for item in result.items)
        words = tuple(service.result_words(result, trial, items))
        guess_words = result.guesses.words
        guess_lines = tuple(
            GuessLine(
                period=row.period,
                guess=GUESS_WORDS.get(row.guess or "", "no guess"),
                truth=row.truth,
                mark="" if row.correct is None else ("right" if row.correct else "wrong"),
            )
            for row in result.guesses.rows
        )
    return TrialSummary(
        trial_id=trial.id,
        dates=f"{format_day(trial.start_date)} to {format_day(end)}",
        design=design,
        status=state,
        status_words=status_words,
        primary_label=service.item_label(trial.primary_item, items),
        meaningful_change=trial.meaningful_change,
        smallest_p=smallest_p(trial.pairs, two_sided=two_sided),
        pairs_for_005=pairs_for_alpha(two_sided=two_sided),
        words=words,
        rows=rows,
        guess_lines=guess_lines,
        guess_words=guess_words,
        before_trial=_before_trial(session, trial, items) if result is not None else None,
        comparisons=len(rows),
    )


def for_report(
    session: Session, *, user_id: int, start: date, end: date, today: date
) -> TrialSummary | None:
    """The newest trial whose dates overlap the summary's range, for the doctor's summary."""
    for trial in service.list_trials(session, user_id=user_id):
        if trial.start_date <= end and service.end_date(trial) >= start:
            if service.status(trial, today) == "set_up":
                continue
            return summarise(session, trial=trial, today=today)
    return None
