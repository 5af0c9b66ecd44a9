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
- The responder judgement is three-valued: null for the baseline, without a baseline, when the
  comparison is with another step (`reference`), or when pain lacks a verdict; false when pain is
  not "improved" or improved by less than 30% or 10 points; true when it is, and fatigue or
  sleep_quality is "improved"; false when neither is improved and both had a verdict; otherwise
  null (the missing one could still have decided it).
- SPEC §4.1: one φ shared by the diary's items (app.analysis.intervals.fit_diary); no interval
  beyond ±100 points or from φ at its bound ("not enough data", with `more_days`); a "trend"
  caution when a steady drift over the diary or a trend within the reference, fitted with the
  same noise model, goes the same way as a clear change and leaves it unclear once allowed for;
  per step a `headline` of the items whose change holds after Holm's correction across the
  items compared; `days_to_detect` from the item's own σ² and φ (planned half a standard error
  of φ above its estimate, which the simulations in tests/analysis calibrate to 70–90%).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any, Final, Literal, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.special import stdtr, stdtrit

from app.analysis.intervals import (
    PHI_AT_BOUND,
    PHI_BOUNDS,
    DiaryFit,
    MeanDifference,
    TrendContrast,
    fit_diary,
)
from app.analysis.types import DayRecord, StepInput
from app.items import RATED_ITEMS, SIDE_EFFECT_KEYS, Polarity

DEFAULT_SETTLE_DAYS: Final = 3
# A verdict needs at least this many days with a value in the step and in the baseline.
MIN_DAYS_FOR_VERDICT: Final = 7
# Younger 2013: a responder has at least 30% less pain than at baseline; SPEC §4.1 adds at least
# 10 points, so that 4 → 2 near the floor is not a responder.
RESPONDER_PAIN_IMPROVEMENT_PCT: Final = 30.0
RESPONDER_PAIN_MIN_POINTS: Final = 10.0
# A change under this many points is "no meaningful change" whatever its percentage (SPEC §4.1).
MIN_MEANINGFUL_POINTS: Final = 5.0
# An interval reaching beyond what a 0–100 score can change is never shown (SPEC §4.1).
MAX_ABS_DIFFERENCE: Final = 100.0
# The family-wise error rate of a step's headline, Holm-corrected across the items compared.
HEADLINE_ALPHA: Final = 0.05
# days_to_detect: the changes asked about, the chance of seeing them, and the longest answer.
DETECT_POINTS: Final = (10, 15, 20)
DETECT_POWER: Final = 0.80
MAX_DETECT_DAYS: Final = 730
# The primary item unless the patient chose another (SPEC §4.1).
DEFAULT_PRIMARY_ITEM: Final = "pain"

Band = Literal["worse", "no meaningful change", "minimal", "moderate", "substantial"]
FloatArray = NDArray[np.float64]
Verdict = Literal[
    "baseline",
    "reference",
    "no baseline",
    "not enough data",
    "improved",
    "worse",
    "no clear change",
    "higher",
    "lower",
]

# Verdicts under which the comparison could not be judged.
_UNJUDGED: Final = frozenset({"baseline", "reference", "no baseline", "not enough data"})
_DIRECTIONAL: Final = frozenset({"improved", "worse", "higher", "lower"})
Caution = Literal["trend"]

RESPONDER_RULE_TEXT: Final = (
    "Responder (after Younger's trials, against your baseline; the trials compared with "
    "placebo): pain clearly improved, at least 30% and at least 10 points lower than at "
    "baseline, and fatigue or sleep quality clearly improved (its 95% interval excludes no "
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
            f"The first {settle_days} {unit} of each new step (settling in) are left out of its "
            "numbers."
        )
    return (
        "Self-reported daily ratings (0–100). Each dose step is compared with the baseline (the "
        f"days before the first dose). {settle} Means and differences are plain averages "
        "of the days rated. Each 95% interval allows for day-to-day correlation (a bad day "
        "tends to follow a bad day), missing days and that correlation's own uncertainty "
        "(regression on the steps with autoregressive errors shared by the diary's items, "
        "REML). Improved or worse (dreams: higher or lower) only when the interval excludes no "
        "change; under 7 rated days on either side, or too wide an interval: not enough data. "
        "Flagged: a change a steady trend could explain. The summary names a change only if it "
        "holds after a Holm correction across items. Bands (IMMPACT): under 10% or 5 points no "
        "meaningful change, 10–30% minimal, 30–50% moderate, 50%+ substantial, 10%+ the wrong "
        "way worse."
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
    # SPEC §4.1: "trend" when a steady drift could explain the change.
    cautions: tuple[Caution, ...] = ()
    # Days on a dose after which a true change of 10 / 15 / 20 points would usually be seen.
    days_to_detect: Mapping[str, int | None] | None = None
    # With "not enough data": about how many more days on this step would help (None: unknown).
    more_days: int | None = None
    # Two-sided p-value of the difference (what the headline's Holm correction ranks).
    p_value: float | None = None

    @property
    def drifts(self) -> bool:
        """φ at its bound: each day so like the one before that no interval is given, and
        more days on the dose may not change that (SPEC §4.1)."""
        return self.phi is not None and self.phi >= PHI_AT_BOUND


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
    # The items whose change holds after a Holm correction across the items compared, primary
    # item first; and how many items were compared (SPEC §4.1).
    headline: tuple[str, ...] = ()
    comparisons: int = 0
    is_reference: bool = False

    @property
    def calendar_days(self) -> int:
        """Days the step spans, first and last included."""
        return (self.end_date - self.start_date).days + 1


@dataclass(frozen=True)
class Comparison:
    """Every step compared with baseline; `to_dict` is the SPEC §8 JSON shape."""

    settle_days: int
    steps: tuple[StepComparison, ...]
    reference_step_id: int | None = None
    primary_item: str | None = None
    phi: float | None = None

    @property
    def reference(self) -> StepComparison | None:
        """The step every other one is compared with (the baseline unless asked otherwise)."""
        return next((step for step in self.steps if step.is_reference), None)

    @property
    def baseline(self) -> StepComparison | None:
        """The pooled baseline step, if the diary has one."""
        return next((step for step in self.steps if step.is_baseline), None)

    def to_dict(self) -> dict[str, Any]:
        """The comparison as JSON-ready plain data, floats rounded for display."""
        return {
            "settle_days": self.settle_days,
            "reference_step_id": self.reference_step_id,
            "primary_item": self.primary_item,
            "phi": _round(self.phi, 2),
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
        "is_reference": step.is_reference,
        "headline": list(step.headline),
        "comparisons": step.comparisons,
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
        "cautions": list(stats.cautions),
        "days_to_detect": None if stats.days_to_detect is None else dict(stats.days_to_detect),
        "more_days": stats.more_days,
    }


def band_for(improvement_pct: float | None, diff: float | None = None) -> Band | None:
    """IMMPACT-style band of an improvement percentage (positive is better); None without one.

    A difference under 5 points (as shown, to one decimal) is "no meaningful change" whatever
    its percentage: 4 → 2 is 50% but not a substantial change (SPEC §4.1).
    """
    if improvement_pct is None:
        return None
    if diff is not None and abs(round(diff, 1)) < MIN_MEANINGFUL_POINTS:
        return "no meaningful change"
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


class RatedItemSpec(Protocol):
    """What the analysis needs of a rated item: its key and which way is better (SPEC §2.1)."""

    @property
    def key(self) -> str: ...

    @property
    def better(self) -> Polarity: ...


def compare_steps(
    days: Sequence[DayRecord],
    steps: Sequence[StepInput],
    *,
    today: date,
    settle_days: int = DEFAULT_SETTLE_DAYS,
    reference: int | None = None,
    items: Sequence[RatedItemSpec] | None = None,
    primary_item: str | None = None,
    side_effect_keys: Sequence[str] = SIDE_EFFECT_KEYS,
) -> Comparison:
    """Compare every dose step with the pooled baseline (or `reference`), item by item (SPEC §4).

    `reference` is a step id: every step is then compared with that step instead (one of the
    ids pooled into the baseline names the baseline); an unknown id raises KeyError. `items` are
    the rated items to compare (default: app.items.RATED_ITEMS); any key with a polarity works.
    """
    if settle_days < 0:
        raise ValueError("settle_days must be 0 or more")
    rated: Sequence[RatedItemSpec] = RATED_ITEMS if items is None else items
    keys = [item.key for item in rated]
    records = sorted(days, key=lambda record: record.day)
    for earlier, later in pairwise(records):
        if earlier.day == later.day:
            raise ValueError(f"two diary entries for {later.day.isoformat()}")
    horizon = max(today, records[-1].day) if records else today
    spans = _spans(steps, horizon, settle_days)
    ref_index: int | None = None
    if reference is not None:
        ref_index = next(
            (i for i, span in enumerate(spans) if reference in span.pooled_step_ids), None
        )
        if ref_index is None:
            raise KeyError(f"no dose step {reference} to compare with")
    elif spans and spans[0].is_baseline:
        ref_index = 0
    if not spans:
        return Comparison(settle_days=settle_days, steps=())
    # Days before the first step belong to no step.
    records = [record for record in records if record.day >= spans[0].start]

    # One row per diary day, NaN where not answered: a single pass in Python, the rest in numpy.
    count = len(records)
    day_numbers = np.array([record.day.toordinal() for record in records], dtype=np.int64)
    values = np.array(
        [[*map(record.values.get, keys)] for record in records], dtype=np.float64
    ).reshape(count, len(keys))
    effects = np.array(
        [[*map(record.side_effects.get, side_effect_keys)] for record in records],
        dtype=np.float64,
    ).reshape(count, len(side_effect_keys))
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
    fit: DiaryFit | None = None
    if ref_index is not None:
        series = {}
        for column, key in enumerate(keys):
            rows = in_model & answered[:, column]
            if rows.any():
                series[key] = (day_numbers[rows], values[rows, column], span_of_row[rows])
        fit = fit_diary(series)

    def item_values(first: int, end: int, column: int) -> FloatArray:
        block = values[first:end, column]
        return block[answered[first:end, column]]

    # Reference (n, mean) per item, which every other step is compared with.
    reference_means: dict[str, tuple[int, float | None]] = {}
    if ref_index is not None:
        _, settled, end = slices[ref_index]
        for column, key in enumerate(keys):
            base = item_values(settled, end, column)
            reference_means[key] = (int(base.size), _mean(base))

    # Per item: intervals, trend-adjusted contrasts and the rating rate behind days_to_detect.
    planner = (
        _Planner(fit, ref_index, spans, settle_days)
        if fit is not None and ref_index is not None
        else None
    )
    compared: list[StepComparison] = []
    for index, (span, (first, settled, end)) in enumerate(zip(spans, slices, strict=True)):
        stats: dict[str, ItemStats] = {}
        for column, item in enumerate(rated):
            stats[item.key] = _item_stats(
                item_values(settled, end, column),
                item_values(first, settled, column),
                reference=reference_means.get(item.key),
                polarity=item.better,
                role=(
                    "reference"
                    if index == ref_index
                    else "baseline"
                    if span.is_baseline and ref_index == 0
                    else "compared"
                ),
                is_baseline=span.is_baseline,
                planner=planner,
                key=item.key,
                index=index,
            )
        headline, comparisons = _headline(stats, primary_item)
        days_logged = end - first
        doses = dose_taken[first:end]
        dose_answered = int(np.count_nonzero(~np.isnan(doses)))
        against_baseline = ref_index == 0 and spans[0].is_baseline
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
                items=stats,
                side_effects=_side_effect_stats(effects[first:end], side_effect_keys),
                responder=(_responder(stats) if against_baseline and index != ref_index else None),
                headline=headline,
                comparisons=comparisons,
                is_reference=index == ref_index,
            )
        )
    with_data = [key for key in keys if answered[:, keys.index(key)].any()]
    chosen = primary_item if primary_item in keys else None
    if chosen is None:
        chosen = DEFAULT_PRIMARY_ITEM if DEFAULT_PRIMARY_ITEM in with_data else None
    if chosen is None and with_data:
        chosen = with_data[0]
    return Comparison(
        settle_days=settle_days,
        steps=tuple(compared),
        reference_step_id=None if ref_index is None else spans[ref_index].step_id,
        primary_item=chosen,
        phi=None if fit is None else fit.phi,
    )


class _Planner:
    """Per item: the diary fit's intervals, trend contrasts and projections, computed once."""

    def __init__(self, fit: DiaryFit, ref_index: int, spans: Sequence[_Span], settle_days: int):
        self.fit = fit
        self.ref_index = ref_index
        self.spans = spans
        self.settle_days = settle_days
        self._differences: dict[str, dict[int, MeanDifference]] = {}
        self._trends: dict[str, dict[int, tuple[TrendContrast, ...]]] = {}
        self._projections: dict[str, dict[int, NDArray[np.float64]] | None] = {}
        self._factors: dict[str, NDArray[np.float64]] = {}
        self._detect: dict[tuple[str, int], dict[str, int | None]] = {}
        # Plan with φ half a standard error above its estimate: φ from a few weeks is biased
        # low, and a plan that is too short misses the change more often than it says.
        spread = 0.0 if fit.phi_se is None else PLANNING_PHI_SE * fit.phi_se
        self._planning_phi = min(fit.phi + spread, PHI_BOUNDS[1])

    def difference(self, key: str, index: int) -> MeanDifference | None:
        if key not in self._differences:
            self._differences[key] = self.fit.differences(key, self.ref_index)
        return self._differences[key].get(index)

    def trends(self, key: str, index: int) -> tuple[TrendContrast, ...]:
        if key not in self._trends:
            self._trends[key] = self.fit.trend_contrasts(key, self.ref_index)
        return self._trends[key].get(index, ())

    def _rate(self, key: str) -> float:
        """Share of calendar days rated, over the days the model uses for this item."""
        item = self.fit.items[key]
        span = int(item.days[-1] - item.days[0]) + 1
        return max(min(item.days.size / span, 1.0), 0.1)

    def _gap(self, index: int) -> int:
        """Calendar days from the reference's last day to the step's first day in the model."""
        reference = self.spans[self.ref_index]
        span = self.spans[index]
        if index == self.ref_index:
            return self.settle_days + 1
        first = span.start if span.settle_end is None else span.settle_end + timedelta(days=1)
        # Beyond a few months the reference and the step no longer correlate at any φ that is
        # not at its bound (0.9⁹⁰ < 10⁻⁴): one gap stands for all longer ones.
        return min(max((first - reference.end).days, 1), _LONGEST_GAP)

    def _variance(self, key: str, index: int) -> NDArray[np.float64] | None:
        """Projected variances for this step's gap, every step's gap computed at once per item."""
        if key not in self._projections:
            gaps = sorted({self._gap(i) for i in range(len(self.spans))})
            table = self.fit.projected_variance(
                key, self.ref_index, gaps, MAX_DETECT_DAYS, phi=self._planning_phi
            )
            self._projections[key] = (
                None if table is None else {gap: table[row] for row, gap in enumerate(gaps)}
            )
        rows = self._projections[key]
        return None if rows is None else rows[self._gap(index)]

    def _calendar_days(self, key: str, rated_days: int) -> int:
        return self.settle_days + math.ceil(rated_days / self._rate(key))

    def _factor(self, key: str) -> NDArray[np.float64]:
        """t₀.₉₇₅ + z₀.₈₀ for a step of m = 1, 2, … rated days, per item."""
        if key not in self._factors:
            item = self.fit.items[key]
            reference_n = int(np.count_nonzero(item.groups == item.index_of(self.ref_index)))
            m = np.arange(1, MAX_DETECT_DAYS + 1, dtype=np.float64)
            self._factors[key] = stdtrit(reference_n + m - 2.0, 0.975) + _Z_POWER
        return self._factors[key]

    def days_to_detect(self, key: str, index: int) -> dict[str, int | None] | None:
        """Days on a dose after which a true change of 10 / 15 / 20 points is usually seen.

        The smallest step length m (rated days) at which (t₀.₉₇₅ + z₀.₈₀) standard errors of the
        difference are within the change: then a change of that size comes out clear about
        80% of the time. Turned into calendar days by the diary's rating rate, plus settling-in.
        """
        item = self.fit.items.get(key)
        if item is None or item.index_of(self.ref_index) is None:
            return None
        if self.fit.at_bound:
            # No step gets an interval with φ at its bound, so no change would show.
            never: dict[str, int | None] = {str(points): None for points in DETECT_POINTS}
            return never
        cache_key = (key, self._gap(index))
        if cache_key in self._detect:
            return dict(self._detect[cache_key])
        variance = self._variance(key, index)
        if variance is None:
            return None
        se_needed = self._factor(key) * np.sqrt(np.maximum(variance, 0.0))
        # From 7 days on, what a change needs to show only shrinks with more days.
        shrinking = -np.minimum.accumulate(se_needed[MIN_DAYS_FOR_VERDICT - 1 :])
        result: dict[str, int | None] = {}
        for points in DETECT_POINTS:
            first = int(np.searchsorted(shrinking, -points, side="left"))
            result[str(points)] = (
                None
                if first >= shrinking.size
                else self._calendar_days(key, first + MIN_DAYS_FOR_VERDICT)
            )
        self._detect[cache_key] = result
        return dict(result)

    def more_days(self, key: str, index: int, n: int) -> int | None:
        """More calendar days on this step after which its interval would likely fit ±50.
        None with φ at its bound: no step then gets an interval, however long it runs."""
        if index == self.ref_index or self.fit.at_bound:
            return None
        variance = self._variance(key, index)
        if variance is None:
            return None
        m = np.arange(1, variance.size + 1, dtype=np.float64)
        half_width = stdtrit(np.maximum(m - 1.0, 1.0), 0.975) * np.sqrt(np.maximum(variance, 0.0))
        enough = np.flatnonzero(
            (half_width <= MAX_ABS_DIFFERENCE / 2.0) & (m >= MIN_DAYS_FOR_VERDICT) & (m > n)
        )
        if not enough.size:
            return None
        return max(1, math.ceil((int(m[enough[0]]) - n) / self._rate(key)))


_LONGEST_GAP: Final = 90
# How many standard errors of φ above its estimate days_to_detect plans with.
PLANNING_PHI_SE: Final = 0.5
# One-sided normal quantile of DETECT_POWER (80%).
_Z_POWER: Final = 0.8416212335729143


def _side_effect_stats(
    block: NDArray[np.float64], keys: Sequence[str]
) -> dict[str, SideEffectStats]:
    days_logged = block.shape[0]
    answered = ~np.isnan(block)
    answered_days = answered.sum(axis=0)
    # NaN compares false, so unanswered days are simply not reported days.
    reported_days = (block >= 1.0).sum(axis=0)
    stats: dict[str, SideEffectStats] = {}
    for column, key in enumerate(keys):
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
    reference: tuple[int, float | None] | None,
    polarity: Polarity,
    role: Literal["reference", "baseline", "compared"],
    is_baseline: bool,
    planner: _Planner | None,
    key: str,
    index: int,
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
    detect = None if planner is None else planner.days_to_detect(key, index)
    if role != "compared":
        verdict: Verdict = "baseline" if is_baseline else "reference"
        return ItemStats(**common, **no_difference, verdict=verdict, days_to_detect=detect)
    if reference is None or planner is None:
        return ItemStats(**common, **no_difference, verdict="no baseline")
    base_n, base_mean = reference
    if mean is None or base_mean is None:
        more = planner.more_days(key, index, n) if base_n >= MIN_DAYS_FOR_VERDICT else None
        return ItemStats(
            **common,
            **no_difference,
            verdict="not enough data",
            days_to_detect=detect,
            more_days=more,
        )

    interval = planner.difference(key, index)
    diff = mean - base_mean
    # Centred on the plain difference by construction, so table and interval always agree;
    # rounded outwards so what is shown is what the verdict is judged on.
    ci = (
        None
        if interval is None
        else _round_outwards(diff - interval.half_width, diff + interval.half_width)
    )
    # Never an interval beyond what a score can change, nor one from φ stuck at its bound.
    if ci is not None and (
        planner.fit.at_bound or ci[0] < -MAX_ABS_DIFFERENCE or ci[1] > MAX_ABS_DIFFERENCE
    ):
        ci = None
    pct = None if base_mean == 0 else 100.0 * diff / base_mean
    if pct is None or polarity == "neither":
        improvement = None
    else:
        improvement = -pct if polarity == "lower" else pct
    cautions: tuple[Caution, ...] = ()
    p_value = None
    more = None
    if n < MIN_DAYS_FOR_VERDICT or base_n < MIN_DAYS_FOR_VERDICT or ci is None:
        verdict = "not enough data"
        if base_n >= MIN_DAYS_FOR_VERDICT:
            more = planner.more_days(key, index, n)
    else:
        verdict = _direction_verdict(polarity, ci[0], ci[1])
        assert interval is not None
        if interval.se > 0.0:
            p_value = float(2.0 * stdtr(interval.df, -abs(diff) / interval.se))
        if verdict in _DIRECTIONAL and _trend_could_explain(diff, planner.trends(key, index)):
            cautions = ("trend",)
    return ItemStats(
        **common,
        diff_vs_baseline=diff,
        diff_ci95=ci,
        pct_change_vs_baseline=pct,
        improvement_pct=improvement,
        band=band_for(improvement, diff),
        verdict=verdict,
        phi=None if interval is None else interval.phi,
        df=None if interval is None else interval.df,
        cautions=cautions,
        days_to_detect=detect,
        more_days=more,
        p_value=p_value,
    )


def _trend_could_explain(diff: float, trends: tuple[TrendContrast, ...]) -> bool:
    """A drift goes the same way as the change, and with it allowed for the change is unclear."""
    for trend in trends:
        same_way = trend.trend_part * diff > 0.0
        still_clear = trend.low > 0.0 if diff > 0.0 else trend.high < 0.0
        if same_way and not still_clear:
            return True
    return False


def _headline(
    items: Mapping[str, ItemStats], primary_item: str | None
) -> tuple[tuple[str, ...], int]:
    """Items whose change holds after Holm's correction across the items compared."""
    tested = sorted(
        (stats.p_value, key)
        for key, stats in items.items()
        if stats.p_value is not None and stats.verdict not in _UNJUDGED
    )
    m = len(tested)
    holding: list[str] = []
    for rank, (p_value, key) in enumerate(tested):
        if p_value > HEADLINE_ALPHA / (m - rank):
            break
        if items[key].verdict in _DIRECTIONAL:
            holding.append(key)
    primary = primary_item or DEFAULT_PRIMARY_ITEM
    holding.sort(key=lambda key: key != primary)
    return tuple(holding), m


def _responder(items: Mapping[str, ItemStats]) -> bool | None:
    """SPEC §4.1: pain improved, by ≥ 30% and ≥ 10 points, and fatigue or sleep improved."""
    pain = items.get("pain")
    if pain is None or pain.verdict in _UNJUDGED or pain.improvement_pct is None:
        return None
    if pain.verdict != "improved":
        return False
    if (
        round(pain.improvement_pct, 1) < RESPONDER_PAIN_IMPROVEMENT_PCT
        or pain.diff_vs_baseline is None
        or abs(round(pain.diff_vs_baseline, 1)) < RESPONDER_PAIN_MIN_POINTS
    ):
        return False
    others = [items[key] for key in ("fatigue", "sleep_quality") if key in items]
    if any(other.verdict == "improved" for other in others):
        return True
    if len(others) == 2 and all(other.verdict not in _UNJUDGED for other in others):
        return False
    return None
