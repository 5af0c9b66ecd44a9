"""The trial's statistics on simulated diaries (SPEC §14): a valid test, honest intervals, power.

Figures (printed with -s): see the report of issue 15. Seeded; about 20 s in all.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from app.trials.analysis import guess_summary, item_result, randomisation_p, trial_result
from app.trials.design import pairs_for_alpha, periods, smallest_p
from tests.trials.simulate import simulated_trial


def _run(trials: int, seed: int, **kwargs: float) -> tuple[list[float], list[bool], list[bool]]:
    rng = np.random.default_rng(seed)
    effect = float(kwargs.get("effect", 0.0))
    ps, covered, excludes_zero = [], [], []
    for _ in range(trials):
        shape, order, scores = simulated_trial(rng, **kwargs)  # type: ignore[arg-type]
        result = item_result("pain", "lower", scores, shape, order)
        assert result.p_value is not None and result.ci95 is not None
        ps.append(result.p_value)
        low, high = result.ci95
        covered.append(low <= -effect <= high)
        excludes_zero.append(high < 0 or low > 0)
    return ps, covered, excludes_zero


def _check_valid(ps: list[float], pairs: int) -> None:
    n = len(ps)
    attainable = [j / 2**pairs for j in range(1, 2**pairs + 1)]
    for alpha in attainable:
        share = sum(p <= alpha + 1e-12 for p in ps) / n
        # Within three binomial standard errors of α.
        allowed = alpha + 3 * np.sqrt(alpha * (1 - alpha) / n)
        print(f"pairs={pairs} alpha={alpha:.4f} share(p<=alpha)={share:.4f}")
        assert share <= allowed, (alpha, share)


@pytest.mark.parametrize("phi", [0.0, 0.6])
def test_no_effect_randomisation_test_is_valid_and_interval_covers(phi: float) -> None:
    ps, covered, _ = _run(800, seed=15 + int(10 * phi), phi=phi)
    _check_valid(ps, 3)
    coverage = sum(covered) / len(covered)
    print(f"phi={phi} no effect, 3 pairs of 21 days: coverage {coverage:.3f}")
    assert coverage >= 0.93


def test_five_pairs_reach_five_percent_and_stay_valid() -> None:
    ps, covered, _ = _run(600, seed=55, pairs=5, period_days=14, phi=0.4)
    _check_valid(ps, 5)
    assert min(ps) == pytest.approx(1 / 32)
    coverage = sum(covered) / len(covered)
    print(f"phi=0.4 no effect, 5 pairs of 14 days: coverage {coverage:.3f}")
    assert coverage >= 0.93


def test_true_twenty_point_effect_is_seen_in_most_trials() -> None:
    _, covered, excludes = _run(400, seed=20, effect=20.0, phi=0.5)
    power = sum(excludes) / len(excludes)
    coverage = sum(covered) / len(covered)
    print(
        f"20-point effect, 3 pairs of 21 days, phi=0.5: excludes 0 in {power:.3f}, "
        f"covers truth {coverage:.3f}"
    )
    assert power > 0.8
    assert coverage >= 0.93


def test_smallest_p_and_pairs_needed() -> None:
    assert smallest_p(3) == 1 / 8
    assert pairs_for_alpha(0.05) == 5
    sums = [(100.0, 10, 200.0, 10)] * 3  # LDN (first) lower every time
    assert randomisation_p(sums, [True, True, True], "lower") == 1 / 8
    assert randomisation_p(sums, [False, False, False], "lower") == 1.0
    assert randomisation_p(sums, [True, True, True], "neither") == 2 / 8


def test_early_unblinding_uses_complete_pairs_only() -> None:
    shape = periods(date(2026, 1, 1), pairs=3, period_days=14, settle_days=0)
    rng = np.random.default_rng(1)
    # Only the first two pairs (56 days) have data.
    scores = [
        (date.fromordinal(date(2026, 1, 1).toordinal() + i), int(rng.integers(40, 60)))
        for i in range(56)
    ]
    result = item_result("pain", "lower", scores, shape, (True, False, True))
    assert result.pairs_used == 2 and result.orders == 4


def test_a_pair_under_way_at_an_early_unblinding_is_left_out() -> None:
    """Unblinded six days into period 4: pair 2 is not complete, and its days are not used
    (they were, with 3 counted days in each period enough, while the words said "complete")."""
    shape = periods(date(2026, 1, 1), pairs=3, period_days=14, settle_days=0)
    rng = np.random.default_rng(2)
    first = date(2026, 1, 1).toordinal()
    scores = [(date.fromordinal(first + i), int(rng.integers(40, 60))) for i in range(56)]
    order = (True, False, True)

    early = item_result("pain", "lower", scores[:48], shape, order, scores[47][0])
    assert early.pairs_used == 1
    assert early.n_ldn + early.n_placebo == 28  # pair 1's days only
    # A pair whose last period ends on the day of unblinding is complete.
    on_the_day = item_result("pain", "lower", scores, shape, order, shape[3].end)
    assert on_the_day.pairs_used == 2


def test_guesses_against_truth() -> None:
    summary = guess_summary({1: "ldn", 2: "placebo", 3: "unsure"}, [1, 4], 4)
    assert [row.correct for row in summary.rows] == [True, True, None, None]
    assert summary.right == 2 and summary.wrong == 0 and summary.missing == 1
    assert summary.chance_p == 0.25


def test_trial_result_puts_primary_first() -> None:
    rng = np.random.default_rng(3)
    shape, order, scores = simulated_trial(rng)
    result = trial_result(
        item_scores={"fatigue": scores, "pain": scores},
        better={"fatigue": "lower", "pain": "lower"},
        periods=shape,
        ldn_first=order,
        primary_item="pain",
        meaningful_change=15,
        guesses={},
    )
    assert result.items[0].key == "pain" and result.primary.key == "pain"
    assert result.smallest_p == 1 / 8
