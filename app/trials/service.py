"""The self-trial's rules (SPEC §14): set up, seal, guess, unblind, and the result.

Plain keyword-only functions taking a session, like app/services. Nothing here returns the
allocation before the trial is unblinded: the API's JSON, the pages, the /today partial and
the backup are all built from `trial_json` / `backup_rows`, which read only the sealed form.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlmodel import Session, col, select

from app.items import FIXED_BY_KEY
from app.items.patient import Catalogue, catalogue_for
from app.models import MAX_ROW_ID, SelfTrial, User, utcnow
from app.services.dose_steps import format_day
from app.services.insight import day_records
from app.trials import blinding
from app.trials.analysis import Better, ItemResult, TrialResult, trial_result
from app.trials.design import (
    CONVENTIONAL_ALPHA,
    Period,
    design_problems,
    draw_order,
    ldn_periods,
    pairs_for_alpha,
    periods,
    smallest_p,
)
from app.trials.schemas import GuessCreate, PreregistrationUpdate, SelfTrialCreate

Status = Literal["set_up", "running", "ended", "unblinded"]


class TrialRefused(ValueError):
    """The trial service says no. `problems` holds each message by the input it belongs
    beside ("trial" when it is about the trial as a whole); `status` is the HTTP status the
    page and the API both answer with. The two surfaces map this one type, each in one place
    (app/trials/web.py `_refused`, app/trials/api.py `_refusals`)."""

    status = 422
    retry_after: int | None = None

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = dict(problems)


class TrialProblems(TrialRefused):
    """Bad input, by field name (→ 422 naming each field, or messages beside the fields)."""


class TrialConflict(TrialRefused):
    """The trial is not in a state that allows this (→ 409)."""

    status = 409

    def __init__(self, message: str, *, field: str = "trial") -> None:
        super().__init__({field: message})


class SheetGone(TrialRefused):
    """The pharmacy sheet can no longer be printed: the code is no longer held (→ 410)."""

    status = 410

    def __init__(self, message: str) -> None:
        super().__init__({"trial": message})


class TooManyCodes(TrialRefused):
    """Too many codes tried lately (app/trials/unblinding.py); `retry_after` seconds (→ 429)."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        minutes = math.ceil(retry_after / 60)
        wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
        super().__init__(
            {
                "code": f"Too many codes were tried in a short time. Try again in {wait}; "
                "the right code will still work then."
            }
        )
        self.retry_after = retry_after


# --- reading --------------------------------------------------------------------------------


def get_trial(session: Session, *, user_id: int, trial_id: int) -> SelfTrial | None:
    """The patient's own trial, or None (another patient's is None too)."""
    if not 1 <= trial_id <= MAX_ROW_ID:
        return None
    return session.exec(
        select(SelfTrial).where(SelfTrial.id == trial_id, SelfTrial.user_id == user_id)
    ).first()


def list_trials(session: Session, *, user_id: int) -> list[SelfTrial]:
    """The patient's trials, newest first."""
    return list(
        session.exec(
            select(SelfTrial)
            .where(SelfTrial.user_id == user_id)
            .order_by(col(SelfTrial.start_date).desc(), col(SelfTrial.id).desc())
        )
    )


def current_trial(session: Session, *, user_id: int) -> SelfTrial | None:
    """The trial the pages show: the newest one."""
    trials = list_trials(session, user_id=user_id)
    return trials[0] if trials else None


def trial_periods(trial: SelfTrial) -> tuple[Period, ...]:
    return periods(
        trial.start_date,
        pairs=trial.pairs,
        period_days=trial.period_days,
        settle_days=trial.settle_days,
    )


def end_date(trial: SelfTrial) -> date:
    return trial.start_date + timedelta(days=2 * trial.pairs * trial.period_days - 1)


def status(trial: SelfTrial, today: date) -> Status:
    if trial.unblinded_at is not None:
        return "unblinded"
    if today < trial.start_date:
        return "set_up"
    if today <= end_date(trial):
        return "running"
    return "ended"


def is_locked(trial: SelfTrial, today: date) -> bool:
    """The preregistration locks when the first period starts."""
    return today >= trial.start_date


def period_on(trial: SelfTrial, day: date) -> Period | None:
    return next((period for period in trial_periods(trial) if period.contains(day)), None)


def _sealed(trial: SelfTrial) -> blinding.SealedAllocation:
    return blinding.SealedAllocation(
        salt=trial.seal_salt, sealed=trial.sealed_allocation, check=trial.code_check
    )


def _ldn_numbers(trial: SelfTrial) -> tuple[int, ...]:
    assert trial.ldn_periods is not None
    return tuple(int(number) for number in trial.ldn_periods.split(","))


def _ldn_first(trial: SelfTrial) -> tuple[bool, ...]:
    ldn = set(_ldn_numbers(trial))
    return tuple(2 * pair + 1 in ldn for pair in range(trial.pairs))


# --- set-up ---------------------------------------------------------------------------------


def items_of(session: Session, *, user_id: int) -> Catalogue:
    """The patient's items (built-in, pack and own), worded as they see them."""
    user = session.get(User, user_id)
    assert user is not None
    return catalogue_for(session, user=user)


def _item_problem(session: Session, *, user: User, key: str) -> str | None:
    """Why `key` cannot be the primary item: any rated item the patient tracks can be."""
    assert user.id is not None
    entry = items_of(session, user_id=user.id).entry(key)
    if entry is None or entry.item.kind != "rated":
        return "Choose one of the rated items you track."
    if not entry.tracked:
        return (
            f"You are not tracking {entry.item.label.lower()}: choose an item you track, or "
            "track it under Settings, Your questions."
        )
    return None


def create_trial(
    session: Session, *, user: User, data: SelfTrialCreate, secret_key: str, today: date
) -> tuple[SelfTrial, str]:
    """A new trial with a freshly drawn, sealed order; returns it with its unblinding code."""
    assert user.id is not None
    problems = design_problems(
        pairs=data.pairs,
        period_days=data.period_days,
        settle_days=data.settle_days,
        start=data.start_date,
        today=today,
    )
    item_problem = _item_problem(session, user=user, key=data.primary_item)
    if item_problem:
        problems["primary_item"] = item_problem
    if problems:
        raise TrialProblems(problems)
    unfinished = [
        trial for trial in list_trials(session, user_id=user.id) if trial.unblinded_at is None
    ]
    if unfinished:
        raise TrialConflict(
            "A trial is already set up or running. Unblind it (or cancel it before it starts) "
            "before setting up another."
        )
    code = blinding.new_code()
    sealed = blinding.seal(draw_order(data.pairs), code)
    trial = SelfTrial(
        user_id=user.id,
        start_date=data.start_date,
        pairs=data.pairs,
        period_days=data.period_days,
        settle_days=data.settle_days,
        ldn_dose_mg=data.ldn_dose_mg,
        already_on_ldn=data.already_on_ldn,
        primary_item=data.primary_item,
        meaningful_change=data.meaningful_change,
        seal_salt=sealed.salt,
        sealed_allocation=sealed.sealed,
        code_check=sealed.check,
        sheet_code=blinding.wrap_code(code, secret_key=secret_key, salt=sealed.salt),
        guesses={},
    )
    session.add(trial)
    session.commit()
    session.refresh(trial)
    return trial, code


def update_preregistration(
    session: Session, *, user: User, trial: SelfTrial, data: PreregistrationUpdate, today: date
) -> SelfTrial:
    """Change the primary item or the change that matters, before the first period only."""
    if is_locked(trial, today):
        raise TrialConflict(
            "The primary item and the change that matters were locked when the first period "
            f"started ({format_day(trial.start_date)})."
        )
    # The item already preregistered stays allowed even if it is no longer tracked: only a
    # new choice has to be an item the patient tracks.
    if data.primary_item is not None and data.primary_item != trial.primary_item:
        problem = _item_problem(session, user=user, key=data.primary_item)
        if problem:
            raise TrialProblems({"primary_item": problem})
        trial.primary_item = data.primary_item
    if data.meaningful_change is not None:
        trial.meaningful_change = data.meaningful_change
    session.add(trial)
    session.commit()
    session.refresh(trial)
    return trial


def cancel_trial(session: Session, *, trial: SelfTrial, today: date) -> None:
    """Delete a trial that has not started yet."""
    if status(trial, today) != "set_up":
        raise TrialConflict(
            "A trial that has started cannot be deleted; unblind it to end it early."
        )
    session.delete(trial)
    session.commit()


def pharmacy_code(trial: SelfTrial, *, secret_key: str, today: date) -> str:
    """The unblinding code, for printing the pharmacy sheet before the first period only."""
    if trial.sheet_code is None or status(trial, today) != "set_up":
        raise SheetGone(
            "The pharmacy sheet can no longer be printed: the app let go of the code when the "
            "trial was sealed, so that nothing on the server can unblind it. The pharmacist's "
            "copy holds the code."
        )
    return blinding.unwrap_code(trial.sheet_code, secret_key=secret_key, salt=trial.seal_salt)


def seal(session: Session, *, trial: SelfTrial) -> SelfTrial:
    """Forget the wrapped code: from now on only the pharmacy sheet can unblind the trial."""
    if trial.sheet_code is not None:
        trial.sheet_code = None
        trial.sealed_at = utcnow()
        session.add(trial)
        session.commit()
        session.refresh(trial)
    return trial


def _seal_if_started(trial: SelfTrial, today: date) -> None:
    if trial.sheet_code is not None and today >= trial.start_date:
        trial.sheet_code = None
        trial.sealed_at = utcnow()


# --- during the trial -----------------------------------------------------------------------


def record_guess(
    session: Session, *, trial: SelfTrial, data: GuessCreate, today: date
) -> SelfTrial:
    """The patient's guess for a period, from its last day on; before unblinding only."""
    if trial.unblinded_at is not None:
        raise TrialConflict("The trial is unblinded: guesses can no longer change.", field="guess")
    shape = trial_periods(trial)
    if data.period > len(shape):
        raise TrialProblems({"period": f"This trial has periods 1 to {len(shape)}."})
    period = shape[data.period - 1]
    if today < period.end:
        raise TrialProblems(
            {
                "period": f"Period {period.number} ends on {format_day(period.end)}: "
                "guess on that day or later."
            }
        )
    _seal_if_started(trial, today)
    trial.guesses = {**trial.guesses, str(data.period): data.guess}
    session.add(trial)
    session.commit()
    session.refresh(trial)
    return trial


def check_unblinding(trial: SelfTrial, *, code: str, today: date) -> None:
    """Refuse, without any slow work, a code that cannot unblind this trial now: the trial is
    already unblinded or not started, or the code is not shaped like one of ours."""
    if trial.unblinded_at is not None:
        raise TrialConflict("This trial is already unblinded.")
    if today < trial.start_date:
        raise TrialConflict(
            "The trial has not started yet. Cancel it instead if you no longer want it."
        )
    problem = blinding.code_problem(code)
    if problem:
        raise TrialProblems({"code": problem})


def open_allocation(trial: SelfTrial, *, code: str) -> tuple[bool, ...]:
    """The allocation (LDN first, per pair) opened with `code`: scrypt, no database work, so
    it never runs inside a write. A wrong code → TrialProblems on "code"."""
    try:
        return blinding.unseal(_sealed(trial), code)
    except blinding.WrongCode as wrong:
        raise TrialProblems({"code": str(wrong)}) from None


def record_unblinding(
    session: Session, *, trial: SelfTrial, ldn_first: tuple[bool, ...], today: date
) -> SelfTrial:
    """Write down the opened allocation; early when periods remain."""
    if trial.unblinded_at is not None:
        raise TrialConflict("This trial is already unblinded.")
    _seal_if_started(trial, today)
    trial.ldn_periods = ",".join(str(number) for number in ldn_periods(ldn_first))
    trial.unblinded_at = utcnow()
    trial.unblinded_on = today
    trial.ended_early = today < end_date(trial)
    session.add(trial)
    session.commit()
    session.refresh(trial)
    return trial


# --- the result -----------------------------------------------------------------------------


def result_for(session: Session, *, trial: SelfTrial) -> TrialResult | None:
    """LDN against placebo for every rated item with data (built-in, pack or own); None
    before unblinding."""
    if trial.unblinded_at is None or trial.unblinded_on is None:
        return None
    last = min(end_date(trial), trial.unblinded_on)
    records = day_records(session, user_id=trial.user_id, start=trial.start_date, end=last)
    scores: dict[str, list[tuple[date, int | float]]] = {}
    better: dict[str, Better] = {}
    for item in items_of(session, user_id=trial.user_id).rated():
        values: list[tuple[date, int | float]] = [
            (record.day, value)
            for record in records
            if (value := record.values.get(item.key)) is not None
        ]
        if values or item.key == trial.primary_item:
            scores[item.key] = values
            better[item.key] = item.better
    return trial_result(
        item_scores=scores,
        better=better,
        periods=trial_periods(trial),
        ldn_first=_ldn_first(trial),
        primary_item=trial.primary_item,
        meaningful_change=trial.meaningful_change,
        guesses={int(number): guess for number, guess in trial.guesses.items()},
        complete_by=last,
    )


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def result_json(result: TrialResult, trial: SelfTrial, items: Catalogue) -> dict[str, Any]:
    """The result in the API's words (after unblinding only)."""
    return {
        "ldn_periods": list(_ldn_numbers(trial)),
        "pairs_used": result.pairs_used,
        "smallest_possible_p": result.smallest_p,
        "items": {
            item.key: {
                "n_ldn": item.n_ldn,
                "n_placebo": item.n_placebo,
                "mean_ldn": _round(item.mean_ldn),
                "mean_placebo": _round(item.mean_placebo),
                "diff_ldn_minus_placebo": _round(item.diff),
                "diff_ci95": None if item.ci95 is None else [_round(v) for v in item.ci95],
                "improvement": _round(item.improvement),
                "randomisation_p": _round(item.p_value, 4),
                "p_sided": item.sided,
                "orders_weighed": item.orders,
                "pairs_used": item.pairs_used,
                "verdict": item.verdict,
            }
            for item in result.items
        },
        "guesses": {
            "right": result.guesses.right,
            "wrong": result.guesses.wrong,
            "unsure": result.guesses.unsure,
            "missing": result.guesses.missing,
            "chance_p": _round(result.guesses.chance_p, 4),
            "periods": [
                {"period": row.period, "guess": row.guess, "truth": row.truth.lower()}
                for row in result.guesses.rows
            ],
        },
        "summary": result_words(result, trial, items),
    }


def trial_json(session: Session, *, trial: SelfTrial, today: date) -> dict[str, Any]:
    """The trial as the API shows it. Before unblinding nothing in it depends on the order."""
    shape = trial_periods(trial)
    current = period_on(trial, today)
    items = items_of(session, user_id=trial.user_id)
    two_sided = primary_two_sided(trial, items)
    data: dict[str, Any] = {
        "id": trial.id,
        "status": status(trial, today),
        "start_date": trial.start_date.isoformat(),
        "end_date": end_date(trial).isoformat(),
        "pairs": trial.pairs,
        "period_days": trial.period_days,
        "settle_days": trial.settle_days,
        "ldn_dose_mg": trial.ldn_dose_mg,
        "already_on_ldn": trial.already_on_ldn,
        "primary_item": trial.primary_item,
        "meaningful_change": trial.meaningful_change,
        "preregistration_locked": is_locked(trial, today),
        "pharmacy_sheet_available": trial.sheet_code is not None
        and status(trial, today) == "set_up",
        "smallest_possible_p": smallest_p(trial.pairs, two_sided=two_sided),
        "pairs_needed_for_p_005": pairs_for_alpha(CONVENTIONAL_ALPHA, two_sided=two_sided),
        "current_period": None if current is None else current.number,
        "periods": [
            {
                "period": period.number,
                "bottle": f"Period {period.number}",
                "pair": period.pair,
                "start_date": period.start.isoformat(),
                "end_date": period.end.isoformat(),
                "counted_from": period.counted_from.isoformat(),
                "guess": trial.guesses.get(str(period.number)),
                "guess_open": today >= period.end and trial.unblinded_at is None,
            }
            for period in shape
        ],
        "unblinded_on": None if trial.unblinded_on is None else trial.unblinded_on.isoformat(),
        "ended_early": trial.ended_early,
        "result": None,
    }
    result = result_for(session, trial=trial)
    if result is not None:
        data["result"] = result_json(result, trial, items)
    return data


# --- words ----------------------------------------------------------------------------------


def points(value: float) -> str:
    return f"{abs(value):.1f} point" + ("" if abs(value) == 1.0 else "s")


def primary_two_sided(trial: SelfTrial, items: Catalogue) -> bool:
    """Whether the trial's primary item has no better direction (dream vividness, say): its
    randomisation test then looks both ways, and the smallest p it can give doubles."""
    item = items.get(trial.primary_item) or FIXED_BY_KEY.get(trial.primary_item)
    return item is not None and item.better == "neither"


def item_label(key: str, items: Catalogue) -> str:
    """The item's short name as the patient's own catalogue words it."""
    item = items.get(key) or FIXED_BY_KEY.get(key)
    return item.label if item else key


def difference_words(label: str, diff: float, ci: tuple[float, float] | None) -> str:
    """'Pain was 12.3 points lower on LDN than on placebo (95% interval: 4.1 to 20.5 lower).'"""
    way = "lower" if diff < 0 else "higher"
    text = f"{label} was {points(diff)} {way} on LDN than on placebo"
    if diff == 0:
        text = f"{label} was the same on LDN and on placebo"
    if ci is None:
        return text + "."
    low, high = ci
    if low >= 0 or high <= 0:
        ci_way = "lower" if high <= 0 else "higher"
        a, b = sorted((abs(low), abs(high)))
        return text + f" (95% interval: {a:.1f} to {b:.1f} points {ci_way})."
    return text + f" (95% interval: from {abs(low):.1f} lower to {abs(high):.1f} higher)."


def result_words(result: TrialResult, trial: SelfTrial, items: Catalogue) -> list[str]:
    """The result of the primary item in plain sentences, for the page, the PDF and the API."""
    primary = result.primary
    label = item_label(primary.key, items)
    words: list[str] = []
    if trial.ended_early:
        unblinded_on = trial.unblinded_on or trial.start_date
        words.append(
            f"The trial was unblinded early, on {format_day(unblinded_on)}: {result.pairs_used}"
            f" of {result.pairs_planned} pairs of periods were complete."
        )
    if primary.diff is None or primary.verdict == "not enough data":
        words.append(
            f"There are not enough days of {label.lower()} in complete pairs of periods to "
            "compare LDN with placebo (each period needs a few counted days, and at least two "
            "pairs are needed)."
        )
        return words
    words.append(difference_words(label, primary.diff, primary.ci95))
    if primary.verdict in ("better on LDN", "worse on LDN", "higher on LDN", "lower on LDN"):
        # "higher"/"lower": an item with no better direction (dream vividness, say).
        words.append(
            f"The interval leaves out no difference: {label.lower()} was {primary.verdict}."
        )
    else:
        words.append(
            "The interval includes no difference at all, so this trial cannot tell LDN from "
            "placebo for this item."
        )
    if primary.p_value is not None:
        words.append(_p_words(primary))
    improvement = primary.improvement
    if improvement is not None and primary.ci95 is not None:
        sign = -1.0 if primary.better == "lower" else 1.0
        worst, best = sorted((sign * primary.ci95[0], sign * primary.ci95[1]))
        mattering = trial.meaningful_change
        if worst >= mattering:
            words.append(
                f"Even the least favourable end of the interval is at least the {mattering} "
                "points you said would matter to you."
            )
        elif best < mattering:
            words.append(
                f"Even the most favourable end of the interval is short of the {mattering} points "
                "you said would matter to you."
            )
        else:
            words.append(
                f"The interval holds changes both smaller and larger than the {mattering} "
                "points you said would matter to you."
            )
    words.append(
        "This is what your diary recorded during a blinded comparison; talk it over with your "
        "prescriber before changing anything."
    )
    return words


def _p_words(primary: ItemResult) -> str:
    """The randomisation test's p, what it counts, and the floor the number of pairs sets."""
    assert primary.p_value is not None
    two_sided = primary.sided == "two-sided"
    pairs, orders = primary.pairs_used, primary.orders
    smallest = smallest_p(pairs, two_sided=two_sided)
    text = f"The randomisation test gives p = {primary.p_value:.3f}"
    if primary.p_value <= smallest + 1e-12 and two_sided:
        # The order drawn and its mirror image give the same difference, sign turned.
        text += (
            f", the smallest possible with {pairs} pairs for an item without a better "
            f"direction (2 in {orders}): no order the app could have drawn shows a larger "
            "difference, either way, than the one it drew."
        )
    elif primary.p_value <= smallest + 1e-12:
        text += (
            f", the smallest possible with {pairs} pairs (1 in {orders}): no order the app "
            "could have drawn favours LDN more than the one it drew."
        )
    elif two_sided:
        text += (
            f": {round(primary.p_value * orders)} of the {orders} orders the app could have "
            "drawn would show a difference at least this large, either way, if LDN made no "
            "difference."
        )
    else:
        text += (
            f": {round(primary.p_value * orders)} of the {orders} orders the app could have "
            "drawn would favour LDN at least as much, if LDN made no difference."
        )
    if smallest > CONVENTIONAL_ALPHA:
        needed = pairs_for_alpha(CONVENTIONAL_ALPHA, two_sided=two_sided)
        text += (
            f" With {pairs} pairs p can never go below {smallest:.3f}, so this test alone "
            f"cannot reach the usual 0.05 ({needed} pairs are needed)."
        )
    return text


# --- /today ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TodayTrial:
    """What /today says about a running trial: the bottle, and whether a guess is due."""

    trial_id: int
    period: Period | None
    day_in_period: int | None
    settling: bool
    guess_due: tuple[int, ...]
    starts_on: date | None
    ended: bool


def today_status(session: Session, *, user: User, today: date) -> TodayTrial | None:
    """The current trial as /today shows it, or None when there is none to show."""
    assert user.id is not None
    trial = current_trial(session, user_id=user.id)
    if trial is None or trial.unblinded_at is not None or trial.id is None:
        return None
    state = status(trial, today)
    shape = trial_periods(trial)
    due = tuple(
        period.number
        for period in shape
        if period.end <= today and str(period.number) not in trial.guesses
    )
    period = period_on(trial, today)
    return TodayTrial(
        trial_id=trial.id,
        period=period,
        day_in_period=None if period is None else (today - period.start).days + 1,
        settling=period is not None and today < period.counted_from,
        guess_due=due,
        starts_on=trial.start_date if state == "set_up" else None,
        ended=state == "ended",
    )


# --- backup ---------------------------------------------------------------------------------

BACKUP_FIELDS = (
    "start_date",
    "pairs",
    "period_days",
    "settle_days",
    "ldn_dose_mg",
    "already_on_ldn",
    "primary_item",
    "meaningful_change",
    "seal_salt",
    "sealed_allocation",
    "code_check",
    "guesses",
    "unblinded_on",
    "ended_early",
    "ldn_periods",
)


def backup_rows(session: Session, *, user_id: int) -> list[dict[str, Any]]:
    """The trials for the JSON backup: sealed allocation only, never the wrapped code."""
    rows = []
    for trial in reversed(list_trials(session, user_id=user_id)):
        row: dict[str, Any] = {}
        for name in BACKUP_FIELDS:
            value = getattr(trial, name)
            row[name] = value.isoformat() if isinstance(value, date) else value
        row["unblinded_at"] = None if trial.unblinded_at is None else trial.unblinded_at.isoformat()
        rows.append(row)
    return rows


def restore_rows(session: Session, *, user_id: int, rows: Sequence[Mapping[str, Any]]) -> int:
    """Trials back from a backup (already validated); sealed ones stay sealed."""
    from datetime import datetime

    for row in rows:
        trial = SelfTrial(
            user_id=user_id,
            **{
                name: row[name]
                for name in BACKUP_FIELDS
                if name not in ("start_date", "unblinded_on")
            },
            start_date=date.fromisoformat(row["start_date"]),
            unblinded_on=None
            if row["unblinded_on"] is None
            else date.fromisoformat(row["unblinded_on"]),
            unblinded_at=None
            if row.get("unblinded_at") is None
            else datetime.fromisoformat(row["unblinded_at"]),
            sheet_code=None,
            sealed_at=utcnow(),
        )
        session.add(trial)
    return len(rows)
