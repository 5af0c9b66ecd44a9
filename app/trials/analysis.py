"""The result of a blinded self-trial (SPEC §14): pure computation, plain data in and out.

For each item, LDN against placebo:

- **The difference** is the plain one: the mean of the counted days on LDN minus the mean of
  the counted days on placebo (settle days left out), so it agrees with the two means shown.
- **Its interval** uses the §4 error model (app/analysis/intervals.py): the scores regressed on
  one indicator per *period* (period effects), with AR(1) errors whose correlation decays as
  φ^gap across missing days, φ by REML. Per-period means absorb whatever differs between
  periods, so σ² and φ are learned from the day-to-day noise inside periods; the variance of
  the difference is then σ² wᵀCw, C the fitted covariance of the period means (which still
  carries the correlation between neighbouring periods) and w the weights that turn period
  means into the plain difference. Degrees of freedom by Satterthwaite, as §4 does, so the
  uncertainty of φ itself widens the interval.
- **The randomisation test** needs no model at all. Under "LDN makes no difference" the diary
  would have been the same whatever order the app drew, so the observed difference is one of
  the 2^k differences the app's possible draws would give (each pair's coin flipped or not),
  all equally likely. p is the share of those at least as favourable to LDN as the one seen —
  exact, one-sided in the item's better direction (two-sided for an item without one), and at
  best 1 / 2^k: three pairs can never give less than 0.125 (two-sided: 2 / 2^k, 0.25).

A pair is analysed when it is complete, both its periods over by the day of unblinding, and
both have at least MIN_DAYS_PER_PERIOD counted days (an early unblinding leaves the later pairs
out, the one under way too, and says so).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

import numpy as np
from scipy.special import stdtrit

from app.analysis.intervals import SCORE_ROUNDING_VARIANCE, fit_ar1_reml, mean_covariance
from app.trials.design import Period, smallest_p

Better = Literal["lower", "higher", "neither"]
Guess = Literal["ldn", "placebo", "unsure"]
GUESS_WORDS: Final[dict[str, str]] = {
    "ldn": "LDN",
    "placebo": "placebo",
    "unsure": "don't know",
}
MIN_DAYS_PER_PERIOD: Final = 3
LEVEL: Final = 0.95
_EPS: Final = 1e-9
_PHI_STEP: Final = 1e-4


@dataclass(frozen=True)
class ItemResult:
    """One item, LDN against placebo."""

    key: str
    better: Better
    n_ldn: int
    n_placebo: int
    mean_ldn: float | None
    mean_placebo: float | None
    diff: float | None  # LDN − placebo, in points
    ci95: tuple[float, float] | None
    p_value: float | None
    sided: Literal["one-sided", "two-sided"]
    orders: int  # how many orders the test weighed: 2^pairs
    pairs_used: int
    phi: float | None
    verdict: str

    @property
    def improvement(self) -> float | None:
        """The difference signed so that positive means better on LDN (None: no direction)."""
        if self.diff is None or self.better == "neither":
            return None
        return -self.diff if self.better == "lower" else self.diff


@dataclass(frozen=True)
class GuessRow:
    """One period: the patient's guess and, after unblinding, what the bottle held."""

    period: int
    guess: str | None
    truth: str  # "LDN" or "placebo"
    correct: bool | None  # None without a guess or for "don't know"


@dataclass(frozen=True)
class GuessSummary:
    rows: tuple[GuessRow, ...]
    right: int
    wrong: int
    unsure: int
    missing: int
    # Chance of guessing at least this well by luck alone (one-sided binomial, ½ per period).
    chance_p: float | None
    words: str


@dataclass(frozen=True)
class TrialResult:
    """Everything the result page, the API and the doctor summary show."""

    items: tuple[ItemResult, ...]
    primary_item: str
    meaningful_change: int
    pairs_planned: int
    pairs_used: int
    smallest_p: float
    guesses: GuessSummary

    @property
    def primary(self) -> ItemResult:
        return next(item for item in self.items if item.key == self.primary_item)


def _pair_sums(
    days: Sequence[int], values: Sequence[float], groups: Sequence[int], pairs: Sequence[int]
) -> list[tuple[float, int, float, int]]:
    # Per pair: (sum, count) of its first period, then of its second.
    sums = {period: [0.0, 0] for pair in pairs for period in (2 * pair - 1, 2 * pair)}
    for value, period in zip(values, groups, strict=True):
        if period in sums:
            sums[period][0] += value
            sums[period][1] += 1
    return [
        (
            float(sums[2 * pair - 1][0]),
            int(sums[2 * pair - 1][1]),
            float(sums[2 * pair][0]),
            int(sums[2 * pair][1]),
        )
        for pair in pairs
    ]


def _difference(sums: Sequence[tuple[float, int, float, int]], order: Sequence[bool]) -> float:
    ldn_sum = placebo_sum = 0.0
    ldn_n = placebo_n = 0
    for (first_sum, first_n, second_sum, second_n), ldn_first in zip(sums, order, strict=True):
        if ldn_first:
            ldn_sum, ldn_n = ldn_sum + first_sum, ldn_n + first_n
            placebo_sum, placebo_n = placebo_sum + second_sum, placebo_n + second_n
        else:
            ldn_sum, ldn_n = ldn_sum + second_sum, ldn_n + second_n
            placebo_sum, placebo_n = placebo_sum + first_sum, placebo_n + first_n
    return ldn_sum / ldn_n - placebo_sum / placebo_n


def randomisation_p(
    sums: Sequence[tuple[float, int, float, int]], ldn_first: Sequence[bool], better: Better
) -> float:
    """Exact p over every order the app could have drawn (one coin per pair)."""
    observed = _difference(sums, ldn_first)
    sign = -1.0 if better == "lower" else 1.0
    hits = 0
    total = 0
    for order in itertools.product((True, False), repeat=len(sums)):
        other = _difference(sums, order)
        total += 1
        if better == "neither":
            hits += abs(other) >= abs(observed) - _EPS
        else:
            hits += sign * other >= sign * observed - _EPS
    return hits / total


def contrast_interval(
    days: Sequence[int],
    values: Sequence[float],
    groups: Sequence[int],
    weights: Mapping[int, float],
) -> tuple[float, float, float] | None:
    """(half-width, df, φ) of Σ w_g · mean_g under AR(1) errors with one mean per group."""
    fit = fit_ar1_reml(days, values, groups)
    if fit is None:
        return None
    labels = sorted(set(groups))
    w = np.array([weights.get(label, 0.0) for label in labels])
    cov = mean_covariance(days, groups, fit.phi)
    unit = float(w @ cov @ w)
    sigma2 = fit.sigma2
    floored = sigma2 < SCORE_ROUNDING_VARIANCE
    sigma2 = max(sigma2, SCORE_ROUNDING_VARIANCE)
    variance = sigma2 * unit
    df = float(fit.df)
    if fit.param_cov is not None and not floored and variance > 0.0:
        shifted = mean_covariance(days, groups, fit.phi + _PHI_STEP)
        gradient = (unit, sigma2 * (float(w @ shifted @ w) - unit) / _PHI_STEP)
        (c_ss, c_sp), (_, c_pp) = fit.param_cov
        spread = (
            gradient[0] ** 2 * c_ss
            + 2.0 * gradient[0] * gradient[1] * c_sp
            + gradient[1] ** 2 * c_pp
        )
        if spread > 0.0:
            df = min(df, max(1.0, 2.0 * variance**2 / spread))
    half = float(stdtrit(df, 0.5 + LEVEL / 2.0)) * math.sqrt(max(variance, 0.0))
    return half, df, fit.phi


def item_result(
    key: str,
    better: Better,
    scores: Sequence[tuple[date, int | float]],
    periods: Sequence[Period],
    ldn_first: Sequence[bool],
    complete_by: date | None = None,
) -> ItemResult:
    """LDN against placebo for one item, from its (day, score) pairs; only pairs whose
    periods are both over by `complete_by` (the day of unblinding) when it is given."""
    days: list[int] = []
    values: list[float] = []
    groups: list[int] = []
    for day, value in sorted(scores):
        period = next((p for p in periods if p.contains(day)), None)
        if period is None or day < period.counted_from:
            continue
        days.append(day.toordinal())
        values.append(float(value))
        groups.append(period.number)
    counts = {p.number: groups.count(p.number) for p in periods}
    ends = {p.number: p.end for p in periods}
    pairs = sorted(
        {
            p.pair
            for p in periods
            if counts[2 * p.pair - 1] >= MIN_DAYS_PER_PERIOD
            and counts[2 * p.pair] >= MIN_DAYS_PER_PERIOD
            and (complete_by is None or ends[2 * p.pair] <= complete_by)
        }
    )
    used = [i for i, period in enumerate(groups) if (period + 1) // 2 in pairs]
    days = [days[i] for i in used]
    values = [values[i] for i in used]
    groups = [groups[i] for i in used]
    order = [ldn_first[pair - 1] for pair in pairs]
    ldn_numbers = {2 * pair - (1 if first else 0) for pair, first in zip(pairs, order, strict=True)}
    n_ldn = sum(1 for g in groups if g in ldn_numbers)
    n_placebo = len(groups) - n_ldn
    sided: Literal["one-sided", "two-sided"] = "two-sided" if better == "neither" else "one-sided"
    if len(pairs) < 1:
        return ItemResult(
            key, better, n_ldn, n_placebo, None, None, None, None, None, sided, 0, 0, None,
            "not enough data",
        )  # fmt: skip
    mean_ldn = sum(v for v, g in zip(values, groups, strict=True) if g in ldn_numbers) / n_ldn
    mean_placebo = (
        sum(v for v, g in zip(values, groups, strict=True) if g not in ldn_numbers) / n_placebo
    )
    diff = mean_ldn - mean_placebo
    sums = _pair_sums(days, values, groups, pairs)
    p_value = randomisation_p(sums, order, better)
    weights = {}
    for pair, (first_sum, first_n, second_sum, second_n) in zip(pairs, sums, strict=True):
        del first_sum, second_sum
        first_ldn = ldn_first[pair - 1]
        weights[2 * pair - 1] = first_n / n_ldn if first_ldn else -first_n / n_placebo
        weights[2 * pair] = -second_n / n_placebo if first_ldn else second_n / n_ldn
    interval = contrast_interval(days, values, groups, weights)
    ci = None if interval is None else (diff - interval[0], diff + interval[0])
    phi = None if interval is None else interval[2]
    result = ItemResult(
        key, better, n_ldn, n_placebo, mean_ldn, mean_placebo, diff, ci, p_value, sided,
        2 ** len(pairs), len(pairs), phi, "",
    )  # fmt: skip
    return _with_verdict(result)


def _with_verdict(result: ItemResult) -> ItemResult:
    from dataclasses import replace

    if result.ci95 is None or result.pairs_used < 2:
        return replace(result, verdict="not enough data")
    low, high = result.ci95
    if result.better == "neither":
        verdict = (
            "higher on LDN" if low > 0 else "lower on LDN" if high < 0 else "no clear difference"
        )
    else:
        sign = -1.0 if result.better == "lower" else 1.0
        worst, best = sorted((sign * low, sign * high))
        verdict = (
            "better on LDN" if worst > 0 else "worse on LDN" if best < 0 else "no clear difference"
        )
    return replace(result, verdict=verdict)


def guess_summary(
    guesses: Mapping[int, str], ldn_numbers: Sequence[int], period_count: int
) -> GuessSummary:
    """The patient's guesses against the truth, with the chance of doing as well by luck."""
    rows = []
    for number in range(1, period_count + 1):
        truth = "LDN" if number in ldn_numbers else "placebo"
        guess = guesses.get(number)
        correct = None
        if guess in ("ldn", "placebo"):
            correct = (guess == "ldn") == (truth == "LDN")
        rows.append(GuessRow(number, guess, truth, correct))
    right = sum(1 for row in rows if row.correct is True)
    wrong = sum(1 for row in rows if row.correct is False)
    unsure = sum(1 for row in rows if row.guess == "unsure")
    missing = sum(1 for row in rows if row.guess is None)
    made = right + wrong
    chance_p = None
    if made:
        chance_p = sum(math.comb(made, r) for r in range(right, made + 1)) / 2**made
    if not made:
        words = "No period has a guess of LDN or placebo, so the guesses cannot show whether the "
        words += "capsules stayed blind."
    else:
        words = f"You guessed right in {right} of the {made} periods you guessed (by luck alone "
        words += "about half would be right). "
        if chance_p is not None and chance_p <= 0.05:
            words += (
                f"Guessing this well by luck happens only {_percent(chance_p)} of the time: "
                "something (a side effect such as vivid dreams, perhaps) may have told LDN apart, "
                "and then part of the difference could be expectation rather than the drug."
            )
        else:
            words += "That is within what luck gives, so the capsules seem to have kept the secret."
    return GuessSummary(tuple(rows), right, wrong, unsure, missing, chance_p, words)


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%" if share >= 0.01 else "under 1%"


def trial_result(
    *,
    item_scores: Mapping[str, Sequence[tuple[date, int | float]]],
    better: Mapping[str, Better],
    periods: Sequence[Period],
    ldn_first: Sequence[bool],
    primary_item: str,
    meaningful_change: int,
    guesses: Mapping[int, str],
    complete_by: date | None = None,
) -> TrialResult:
    """The whole result: every item, the primary one first, and the guesses; only pairs
    over by `complete_by` (the day of unblinding) when it is given."""
    keys = [primary_item, *(key for key in item_scores if key != primary_item)]
    items = tuple(
        item_result(key, better[key], item_scores.get(key, ()), periods, ldn_first, complete_by)
        for key in keys
    )
    ldn_numbers = [2 * pair + (1 if first else 2) for pair, first in enumerate(ldn_first)]
    pairs_used = items[0].pairs_used
    return TrialResult(
        items=items,
        primary_item=primary_item,
        meaningful_change=meaningful_change,
        pairs_planned=len(ldn_first),
        pairs_used=pairs_used,
        smallest_p=smallest_p(
            pairs_used or len(ldn_first), two_sided=items[0].sided == "two-sided"
        ),
        guesses=guess_summary(guesses, ldn_numbers, len(periods)),
    )
