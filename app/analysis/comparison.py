"""Per-dose-step comparison with baseline (SPEC §3, §4): the numbers behind every table.

Rules made precise here, where SPEC leaves room:

- Steps are ordered by start date. A step lasts until the day before the next one starts; the
  last one until the *horizon*, the later of `today` and the last diary day. A step starting
  after the horizon has not begun yet and is left out (the step before it then runs until the day
  before it, as SPEC says). Days before the first step belong to no step and are ignored.
- Every dose-0 step before the first positive dose is pooled into one baseline step: the first
  one's step_id and start date, ending the day before the first positive step (or at the horizon
  when no positive step exists). A dose-0 step after a positive dose is compared like any other.
- The settling-in window is the first `settle_days` calendar days of every non-baseline step
  (clipped to the step's end). Its days count in days_logged, adherence, retrospective days and
  side effects; their item values are kept out of n/mean/sd/median/last3 and of the interval model
  and reported separately (`settle_n`, `settle_mean`). `settling_days` is the *count* of logged
  days inside the window.
- sd is the sample standard deviation (n − 1); last3_mean is the mean of the last three days with
  a value (fewer if the step has fewer).
- Bands and the responder's 30% threshold are judged on improvement_pct rounded to one decimal,
  the number the patient and the doctor see, so a printed 30.0 is never called "minimal".
- In the same spirit diff_ci95 is rounded outwards to one decimal (low end down, high end up)
  and the verdict is judged on those ends: the shown interval always holds the computed one, and
  an interval printed as [−12.4, 0.0] is "no clear change", never "improved".
- "no baseline" only when no baseline step exists at all; when it exists but an item has fewer
  than 7 values there (or in the step), the verdict is "not enough data", with the difference and
  interval still given whenever both sides have a value and the model has residual df.
- The responder judgement is three-valued: null for the baseline, without a baseline, or when
  pain lacks data (fewer than 7 days either side, or a baseline pain mean of 0 leaving no
  percentage); false when pain improved by less than 30%; true when pain improved by 30% or more
  and fatigue or sleep_quality is "improved"; false when neither is improved and both had enough
  data; otherwise null (the missing one could still have decided it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any, Final, Literal

import numpy as np
from numpy.typing import NDArray

from app.analysis.intervals import MeanDifference, mean_difference_intervals
from app.analysis.types import DayRecord, StepInput
from app.items import RATED_ITEMS, RATED_KEYS, SIDE_EFFECT_KEYS, Polarity

DEFAULT_SETTLE_DAYS: Final = 3
# A verdict needs at least this many days with a value in the step and in the baseline.
MIN_DAYS_FOR_VERDICT: Final = 7
# Younger 2013: a responder has at least 30% less pain than at baseline.
RESPONDER_PAIN_IMPROVEMENT_PCT: Final = 30.0

Band = Literal["worse", "no meaningful change", "minimal", "moderate", "substantial"]
FloatArray = NDArray[np.float64]
Verdict = Literal[
    "baseline",
    "no baseline",
    "not enough data",
    "improved",
    "worse",
    "no clear change",
    "higher",
    "lower",
]

# Verdicts under which the comparison could not be judged.
_UNJUDGED: Final = frozenset({"baseline", "no baseline", "not enough data"})

RESPONDER_RULE_TEXT: Final = (
    "Responder (after Younger et al., Arthritis & Rheumatism 2013): pain at least 30% lower than "
    "at baseline, and fatigue or sleep quality clearly improved (its 95% interval excludes no "
    "change). Not judged for the baseline, without a baseline, or when fewer than 7 days were "
    "rated in the step or the baseline."
)


def method_text(settle_days: int = DEFAULT_SETTLE_DAYS) -> str:
    """How the comparison was computed, in plain words for pages and the PDF footer."""
    if settle_days == 0:
        settle = "All days of every step are used."
    else:
        unit = "day" if settle_days == 1 else "days"
        settle = (
            f"The first {settle_days} {unit} of each new step are shown apart as settling-in and "
            "left out of the step's numbers."
        )
    return (
        "Self-reported daily ratings (0–100). Each dose step is compared with the baseline, the "
        f"days before the first dose, pooled. {settle} Means and differences are plain averages "
        "of the days rated. The 95% interval of each difference allows for day-to-day "
        "correlation (a bad day tends to follow a bad day), for missing days and for the "
        "uncertainty of that correlation itself: a regression on the dose steps with "
        "autoregressive errors, fitted by restricted maximum likelihood. It is therefore wider "
        "than a textbook interval that treats every day as independent. A change is called "
        "improved or worse (for dreams: higher or lower) only when its interval excludes no "
        "change; with fewer than 7 rated days in the step or the baseline the verdict is not "
        "enough data. Change bands follow the IMMPACT pain-trial conventions: under 10% no "
        "meaningful change, 10–30% minimal, 30–50% moderate, 50% or more substantial, and 10% or "
        "more in the wrong direction worse."
    )


METHOD_TEXT: Final = method_text(DEFAULT_SETTLE_DAYS)


@dataclass(frozen=True)
class ItemStats:
    """One rated item within one step, and how it compares with baseline."""

    n: int
    mean: float | None
    sd: float | None
    median: float | None
    last3_mean: float | None
    diff_vs_baseline: float | None
    # Rounded outwards to 0.1, the ends shown and judged (see the module docstring).
    diff_ci95: tuple[float, float] | None
    pct_change_vs_baseline: float | None
    improvement_pct: float | None
    band: Band | None
    verdict: Verdict
    settle_n: int = 0
    settle_mean: float | None = None
    # Behind diff_ci95 (None without one): the fitted day-to-day correlation φ and the degrees
    # of freedom of its t quantile (Satterthwaite, at most n − p; see app.analysis.intervals).
    phi: float | None = None
    df: float | None = None


@dataclass(frozen=True)
class SideEffectStats:
    """One side effect within one step: days reported (severity ≥ 1) and the worst severity."""

    days: int
    pct_of_logged: float | None
    worst: int | None
    answered: int


@dataclass(frozen=True)
class StepComparison:
    """One dose step (or the pooled baseline) with its diary completeness and item statistics."""

    step_id: int
    start_date: date
    end_date: date
    dose_mg: float
    dosing_time: str | None
    is_baseline: bool
    pooled_step_ids: tuple[int, ...]
    days_logged: int
    adherence_pct: float | None
    dose_answered_days: int
    retrospective_days: int
    settle_end_date: date | None
    settling_days: int
    items: Mapping[str, ItemStats]
    side_effects: Mapping[str, SideEffectStats]
    responder: bool | None

    @property
    def calendar_days(self) -> int:
        """Days the step spans, first and last included."""
        return (self.end_date - self.start_date).days + 1


@dataclass(frozen=True)
class Comparison:
    """Every step compared with baseline; `to_dict` is the SPEC §8 JSON shape."""

    settle_days: int
    steps: tuple[StepComparison, ...]

    @property
    def baseline(self) -> StepComparison | None:
        """The pooled baseline step, if the diary has one."""
        return next((step for step in self.steps if step.is_baseline), None)

    def to_dict(self) -> dict[str, Any]:
        """The comparison as JSON-ready plain data, floats rounded for display."""
        return {
            "settle_days": self.settle_days,
            "steps": [_step_to_dict(step) for step in self.steps],
        }


def _round(value: float | None, digits: int = 1) -> float | None:
    # Adding 0.0 turns a rounded -0.0 into 0.0, which nobody wants to read on a report.
    return None if value is None else round(value, digits) + 0.0


def _step_to_dict(step: StepComparison) -> dict[str, Any]:
    return {
        "step_id": step.step_id,
        "start_date": step.start_date.isoformat(),
        "end_date": step.end_date.isoformat(),
        "dose_mg": step.dose_mg,
        "dosing_time": step.dosing_time,
        "is_baseline": step.is_baseline,
        "pooled_step_ids": list(step.pooled_step_ids),
        "calendar_days": step.calendar_days,
        "days_logged": step.days_logged,
        "adherence_pct": _round(step.adherence_pct),
        "dose_answered_days": step.dose_answered_days,
        "retrospective_days": step.retrospective_days,
        "settle_end_date": step.settle_end_date.isoformat() if step.settle_end_date else None,
        "settling_days": step.settling_days,
        "items": {key: _item_to_dict(stats) for key, stats in step.items.items()},
        "side_effects": {
            key: {
                "days": effect.days,
                "pct_of_logged": _round(effect.pct_of_logged),
                "worst": effect.worst,
                "answered": effect.answered,
            }
            for key, effect in step.side_effects.items()
        },
        "responder": step.responder,
    }


def _item_to_dict(stats: ItemStats) -> dict[str, Any]:
    ci = stats.diff_ci95
    return {
        "n": stats.n,
        "mean": _round(stats.mean),
        "sd": _round(stats.sd),
        "median": _round(stats.median),
        "last3_mean": _round(stats.last3_mean),
        "diff_vs_baseline": _round(stats.diff_vs_baseline),
        "diff_ci95": None if ci is None else [_round(ci[0]), _round(ci[1])],
        "pct_change_vs_baseline": _round(stats.pct_change_vs_baseline),
        "improvement_pct": _round(stats.improvement_pct),
        "band": stats.band,
        "verdict": stats.verdict,
        "settle_n": stats.settle_n,
        "settle_mean": _round(stats.settle_mean),
        "phi": _round(stats.phi, 2),
        "df": _round(stats.df),
    }


def band_for(improvement_pct: float | None) -> Band | None:
    """IMMPACT-style band of an improvement percentage (positive is better); None without one."""
    if improvement_pct is None:
        return None
    shown = round(improvement_pct, 1)
    if shown <= -10.0:
        return "worse"
    if shown < 10.0:
        return "no meaningful change"
    if shown < 30.0:
        return "minimal"
    if shown < 50.0:
        return "moderate"
    return "substantial"


def _round_outwards(low: float, high: float) -> tuple[float, float]:
    """An interval's ends to one decimal, low end down and high end up, never narrower."""
    # The allowance keeps an end that already is a tenth where it is (0.3 is 0.30000000000000004
    # in binary and would otherwise go up to 0.4).
    allowance = 1e-9
    return (
        math.floor(low * 10.0 + allowance) / 10.0 + 0.0,
        math.ceil(high * 10.0 - allowance) / 10.0 + 0.0,
    )


def _direction_verdict(polarity: Polarity, low: float, high: float) -> Verdict:
    if low <= 0.0 <= high:
        return "no clear change"
    went_up = low > 0.0
    if polarity == "neither":
        return "higher" if went_up else "lower"
    better = went_up if polarity == "higher" else not went_up
    return "improved" if better else "worse"


@dataclass(frozen=True)
class _Span:
    """A step's calendar span after pooling the baseline."""

    step_id: int
    start: date
    end: date
    dose_mg: float
    dosing_time: str | None
    is_baseline: bool
    pooled_step_ids: tuple[int, ...]
    settle_end: date | None


def _spans(steps: Sequence[StepInput], horizon: date, settle_days: int) -> list[_Span]:
    ordered = sorted(steps, key=lambda step: step.start_date)
    for earlier, later in pairwise(ordered):
        if earlier.start_date == later.start_date:
            raise ValueError(f"two dose steps start on {later.start_date.isoformat()}")
    ordered = [step for step in ordered if step.start_date <= horizon]
    if not ordered:
        return []
    first_positive = next((i for i, step in enumerate(ordered) if step.dose_mg > 0), len(ordered))
    groups: list[list[StepInput]] = []
    if first_positive > 0:
        groups.append(ordered[:first_positive])
    groups.extend([step] for step in ordered[first_positive:])
    spans: list[_Span] = []
    for index, group in enumerate(groups):
        first = group[0]
        is_baseline = index == 0 and first_positive > 0
        end = (
            groups[index + 1][0].start_date - timedelta(days=1)
            if index + 1 < len(groups)
            else horizon
        )
        settle_end = None
        if not is_baseline and settle_days > 0:
            settle_end = min(end, first.start_date + timedelta(days=settle_days - 1))
        spans.append(
            _Span(
                step_id=first.step_id,
                start=first.start_date,
                end=end,
                dose_mg=0.0 if is_baseline else first.dose_mg,
                dosing_time=None if is_baseline else first.dosing_time,
                is_baseline=is_baseline,
                pooled_step_ids=tuple(step.step_id for step in group),
                settle_end=settle_end,
            )
        )
    return spans


def _mean(values: FloatArray) -> float | None:
    # Daily values are integers, so numpy's sum is exact and the mean is rounded only once.
    return float(values.sum()) / values.size if values.size else None


def _median(values: FloatArray) -> float | None:
    if not values.size:
        return None
    ordered = sorted(values.tolist())
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2.0


def _sd(values: FloatArray, mean: float | None) -> float | None:
    if values.size < 2 or mean is None:
        return None
    deviations = values - mean
    return math.sqrt(float(deviations @ deviations) / (values.size - 1))


def compare_steps(
    days: Sequence[DayRecord],
    steps: Sequence[StepInput],
    *,
    today: date,
    settle_days: int = DEFAULT_SETTLE_DAYS,
) -> Comparison:
    """Compare every dose step with the pooled baseline, item by item (SPEC §4)."""
    if settle_days < 0:
        raise ValueError("settle_days must be 0 or more")
    records = sorted(days, key=lambda record: record.day)
    for earlier, later in pairwise(records):
        if earlier.day == later.day:
            raise ValueError(f"two diary entries for {later.day.isoformat()}")
    horizon = max(today, records[-1].day) if records else today
    spans = _spans(steps, horizon, settle_days)
    if not spans:
        return Comparison(settle_days=settle_days, steps=())
    # Days before the first step belong to no step.
    records = [record for record in records if record.day >= spans[0].start]

    # One row per diary day, NaN where not answered: a single pass in Python, the rest in numpy.
    count = len(records)
    day_numbers = np.array([record.day.toordinal() for record in records], dtype=np.int64)
    values = np.array(
        [[*map(record.values.get, RATED_KEYS)] for record in records], dtype=np.float64
    ).reshape(count, len(RATED_KEYS))
    effects = np.array(
        [[*map(record.side_effects.get, SIDE_EFFECT_KEYS)] for record in records],
        dtype=np.float64,
    ).reshape(count, len(SIDE_EFFECT_KEYS))
    dose_taken = np.array([record.dose_taken for record in records], dtype=np.float64)
    retrospective = np.array([record.retrospective for record in records], dtype=bool)

    # Spans are contiguous and the rows sorted, so each span is one slice of rows,
    # [first, settled) its settling-in days and [settled, end) the days its statistics use.
    slices: list[tuple[int, int, int]] = []
    span_of_row = np.empty(count, dtype=np.int64)
    in_model = np.ones(count, dtype=bool)
    for index, span in enumerate(spans):
        first = int(np.searchsorted(day_numbers, span.start.toordinal(), side="left"))
        end = int(np.searchsorted(day_numbers, span.end.toordinal(), side="right"))
        settled = first
        if span.settle_end is not None:
            settled = int(np.searchsorted(day_numbers, span.settle_end.toordinal(), side="right"))
        slices.append((first, settled, end))
        span_of_row[first:end] = index
        in_model[first:settled] = False

    answered = ~np.isnan(values)
    has_baseline = spans[0].is_baseline
    intervals: dict[str, dict[int, MeanDifference]] = {}
    if has_baseline:
        for column, key in enumerate(RATED_KEYS):
            rows = in_model & answered[:, column]
            if rows.any():
                intervals[key] = mean_difference_intervals(
                    day_numbers[rows], values[rows, column], span_of_row[rows], reference=0
                )

    def item_values(first: int, end: int, column: int) -> FloatArray:
        block = values[first:end, column]
        return block[answered[first:end, column]]

    # Baseline (n, mean) per item, which every later step is compared with.
    baseline_means: dict[str, tuple[int, float | None]] = {}
    if has_baseline:
        _, settled, end = slices[0]
        for column, key in enumerate(RATED_KEYS):
            base = item_values(settled, end, column)
            baseline_means[key] = (int(base.size), _mean(base))

    compared: list[StepComparison] = []
    for index, (span, (first, settled, end)) in enumerate(zip(spans, slices, strict=True)):
        items: dict[str, ItemStats] = {}
        for column, item in enumerate(RATED_ITEMS):
            interval = intervals.get(item.key, {}).get(index)
            items[item.key] = _item_stats(
                item_values(settled, end, column),
                item_values(first, settled, column),
                baseline=baseline_means.get(item.key),
                polarity=item.better,
                is_baseline=span.is_baseline,
                interval=interval,
            )
        days_logged = end - first
        doses = dose_taken[first:end]
        dose_answered = int(np.count_nonzero(~np.isnan(doses)))
        compared.append(
            StepComparison(
                step_id=span.step_id,
                start_date=span.start,
                end_date=span.end,
                dose_mg=span.dose_mg,
                dosing_time=span.dosing_time,
                is_baseline=span.is_baseline,
                pooled_step_ids=span.pooled_step_ids,
                days_logged=days_logged,
                adherence_pct=(
                    100.0 * int(np.count_nonzero(doses == 1.0)) / dose_answered
                    if dose_answered
                    else None
                ),
                dose_answered_days=dose_answered,
                retrospective_days=int(np.count_nonzero(retrospective[first:end])),
                settle_end_date=span.settle_end,
                settling_days=settled - first,
                items=items,
                side_effects=_side_effect_stats(effects[first:end]),
                responder=None if span.is_baseline or not has_baseline else _responder(items),
            )
        )
    return Comparison(settle_days=settle_days, steps=tuple(compared))


def _side_effect_stats(block: NDArray[np.float64]) -> dict[str, SideEffectStats]:
    days_logged = block.shape[0]
    answered = ~np.isnan(block)
    answered_days = answered.sum(axis=0)
    # NaN compares false, so unanswered days are simply not reported days.
    reported_days = (block >= 1.0).sum(axis=0)
    stats: dict[str, SideEffectStats] = {}
    for column, key in enumerate(SIDE_EFFECT_KEYS):
        answered_here = int(answered_days[column])
        reported = int(reported_days[column])
        worst = int(block[answered[:, column], column].max()) if answered_here else None
        stats[key] = SideEffectStats(
            days=reported,
            pct_of_logged=100.0 * reported / days_logged if days_logged else None,
            worst=worst,
            answered=answered_here,
        )
    return stats


def _item_stats(
    values: FloatArray,
    settle_values: FloatArray,
    *,
    baseline: tuple[int, float | None] | None,
    polarity: Polarity,
    is_baseline: bool,
    interval: MeanDifference | None,
) -> ItemStats:
    n = int(values.size)
    mean = _mean(values)
    common: dict[str, Any] = {
        "n": n,
        "mean": mean,
        "sd": _sd(values, mean),
        "median": _median(values),
        "last3_mean": _mean(values[-3:]),
        "settle_n": int(settle_values.size),
        "settle_mean": _mean(settle_values),
    }
    no_difference: dict[str, Any] = {
        "diff_vs_baseline": None,
        "diff_ci95": None,
        "pct_change_vs_baseline": None,
        "improvement_pct": None,
        "band": None,
    }
    if is_baseline:
        return ItemStats(**common, **no_difference, verdict="baseline")
    if baseline is None:
        return ItemStats(**common, **no_difference, verdict="no baseline")
    base_n, base_mean = baseline
    if mean is None or base_mean is None:
        return ItemStats(**common, **no_difference, verdict="not enough data")

    diff = mean - base_mean
    # Centred on the plain difference by construction, so table and interval always agree;
    # rounded outwards so what is shown is what the verdict is judged on.
    ci = (
        None
        if interval is None
        else _round_outwards(diff - interval.half_width, diff + interval.half_width)
    )
    pct = None if base_mean == 0 else 100.0 * diff / base_mean
    if pct is None or polarity == "neither":
        improvement = None
    else:
        improvement = -pct if polarity == "lower" else pct
    verdict: Verdict
    if n < MIN_DAYS_FOR_VERDICT or base_n < MIN_DAYS_FOR_VERDICT or ci is None:
        verdict = "not enough data"
    else:
        verdict = _direction_verdict(polarity, ci[0], ci[1])
    return ItemStats(
        **common,
        diff_vs_baseline=diff,
        diff_ci95=ci,
        pct_change_vs_baseline=pct,
        improvement_pct=improvement,
        band=band_for(improvement),
        verdict=verdict,
        phi=None if interval is None else interval.phi,
        df=None if interval is None else interval.df,
    )


def _responder(items: Mapping[str, ItemStats]) -> bool | None:
    pain = items["pain"]
    if pain.verdict in _UNJUDGED or pain.improvement_pct is None:
        return None
    if round(pain.improvement_pct, 1) < RESPONDER_PAIN_IMPROVEMENT_PCT:
        return False
    others = (items["fatigue"], items["sleep_quality"])
    if any(other.verdict == "improved" for other in others):
        return True
    if all(other.verdict not in _UNJUDGED for other in others):
        return False
    return None
