"""The O(n) AR(1)-with-gaps computations agree with the dense textbook formulas."""

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import stdtrit

from app.analysis import fit_ar1_reml, mean_difference_intervals
from app.analysis.intervals import SCORE_ROUNDING_VARIANCE, mean_covariance


def ar1_days(
    seed: int, phi: float, groups: list[int], missing: float = 0.15
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily AR(1) scores with a step effect per group, some days dropped; one group per day."""
    rng = np.random.default_rng(seed)
    noise = np.empty(len(groups))
    noise[0] = rng.normal()
    for day in range(1, len(groups)):
        noise[day] = phi * noise[day - 1] + math.sqrt(1 - phi**2) * rng.normal()
    labels = np.asarray(groups)
    scores = 50 + 5 * labels + 10 * noise
    kept = rng.random(len(groups)) >= missing
    kept[0] = True
    return np.flatnonzero(kept), scores[kept], labels[kept]


def correlation(days: np.ndarray, phi: float) -> np.ndarray:
    return phi ** np.abs(days[:, None] - days[None, :]).astype(float)


def dense_deviance(days: np.ndarray, y: np.ndarray, g: np.ndarray, phi: float) -> float:
    """−2 × REML log-likelihood (σ² profiled out) with explicit n × n matrices."""
    x = (g[:, None] == np.unique(g)[None, :]).astype(float)
    r_inv = np.linalg.inv(correlation(days, phi))
    xtx = x.T @ r_inv @ x
    beta = np.linalg.solve(xtx, x.T @ r_inv @ y)
    resid = y - x @ beta
    rss = resid @ r_inv @ resid
    n, p = x.shape
    return (
        np.linalg.slogdet(correlation(days, phi))[1]
        + np.linalg.slogdet(xtx)[1]
        + (n - p) * math.log(rss)
    )


CONTIGUOUS = [0] * 20 + [1] * 25 + [2] * 30
INTERLEAVED = [0, 1, 2] * 25


@pytest.mark.parametrize("groups", [CONTIGUOUS, INTERLEAVED])
@pytest.mark.parametrize("true_phi", [0.0, 0.5, 0.8])
def test_reml_matches_dense_optimum(groups: list[int], true_phi: float) -> None:
    days, y, g = ar1_days(7, true_phi, groups)
    dense = minimize_scalar(
        lambda phi: dense_deviance(days, y, g, phi),
        bounds=(0.0, 0.95),
        method="bounded",
        options={"xatol": 1e-7},
    )
    best = min([(dense.fun, dense.x), (dense_deviance(days, y, g, 0.0), 0.0)])[1]
    fit = fit_ar1_reml(days, y, g)
    assert fit is not None
    assert fit.phi == pytest.approx(best, abs=2e-3)
    assert fit.df == len(y) - 3

    # σ² at a given φ is the GLS residual variance RSS / (n − p).
    x = (g[:, None] == np.unique(g)[None, :]).astype(float)
    r_inv = np.linalg.inv(correlation(days, 0.4))
    beta = np.linalg.solve(x.T @ r_inv @ x, x.T @ r_inv @ y)
    resid = y - x @ beta
    fixed = fit_ar1_reml(days, y, g, phi=0.4)
    assert fixed is not None and fixed.param_cov is None
    assert fixed.sigma2 == pytest.approx(resid @ r_inv @ resid / (len(y) - 3), rel=1e-9)


@pytest.mark.parametrize("groups", [CONTIGUOUS, INTERLEAVED, [0] * 10 + [1] * 10 + [0] * 10])
@pytest.mark.parametrize("phi", [0.0, 0.3, 0.9, -0.4])
def test_mean_covariance_matches_dense(groups: list[int], phi: float) -> None:
    days, _, g = ar1_days(3, 0.5, groups, missing=0.3)
    labels = np.unique(g)
    means = (g[:, None] == labels[None, :]) / np.bincount(g)[labels]
    expected = means.T @ correlation(days, phi) @ means
    assert mean_covariance(days, g, phi) == pytest.approx(expected, abs=1e-12)


def test_independent_days_give_the_classical_interval() -> None:
    days, y, g = ar1_days(5, 0.0, CONTIGUOUS)
    result = mean_difference_intervals(days, y, g, reference=0, phi=0.0)
    n, p = len(y), 3
    pooled = sum(((y[g == k] - y[g == k].mean()) ** 2).sum() for k in range(p)) / (n - p)
    for k in (1, 2):
        diff = y[g == k].mean() - y[g == 0].mean()
        se = math.sqrt(pooled * (1 / (g == k).sum() + 1 / (g == 0).sum()))
        assert result[k].diff == pytest.approx(diff)
        assert result[k].se == pytest.approx(se)
        # φ given, so only σ² is uncertain: the plain n − p degrees of freedom.
        assert result[k].df == n - p
        assert result[k].half_width == pytest.approx(float(stdtrit(n - p, 0.975)) * se)


def test_interval_is_centred_on_the_plain_difference_and_honestly_wider() -> None:
    days, y, g = ar1_days(9, 0.7, CONTIGUOUS)
    honest = mean_difference_intervals(days, y, g, reference=0)
    residual = mean_difference_intervals(days, y, g, reference=0, df_method="residual")
    naive = mean_difference_intervals(days, y, g, reference=0, phi=0.0)
    for k in (1, 2):
        plain = y[g == k].mean() - y[g == 0].mean()
        assert honest[k].diff == pytest.approx(plain)
        assert (honest[k].low + honest[k].high) / 2 == pytest.approx(plain)
        assert honest[k].phi > 0.3
        # Autocorrelated days carry less information than independent ones.
        assert honest[k].se > naive[k].se
        # Satterthwaite df never exceed n − p, so φ's uncertainty only widens the interval.
        assert 1.0 <= honest[k].df <= residual[k].df == len(y) - 3
        assert honest[k].half_width >= residual[k].half_width


def test_reference_label_and_degenerate_cases() -> None:
    days, y, g = ar1_days(1, 0.3, CONTIGUOUS)
    shifted = mean_difference_intervals(days, y, g + 4, reference=5)
    assert set(shifted) == {4, 6}
    assert mean_difference_intervals(days, y, g, reference=9) == {}
    assert mean_difference_intervals(days[:2], y[:2], [0, 1], reference=0) == {}
    # No variation within any group: only the rounding floor is left (independent days).
    flat = mean_difference_intervals(
        [1, 2, 3, 5, 6], [10, 10, 10, 25, 25], [0, 0, 0, 1, 1], reference=0
    )
    se = math.sqrt(SCORE_ROUNDING_VARIANCE * (1 / 3 + 1 / 2))
    assert flat[1].diff == 15.0
    assert (flat[1].df, flat[1].phi) == (3, 0.0)
    assert flat[1].half_width == pytest.approx(float(stdtrit(3, 0.975)) * se)


def test_identical_scores_cannot_produce_certainty() -> None:
    # Baseline 50 every day, then 49 every day: a zero-width [−1, −1] used to claim the change
    # was known exactly. The variance floor of whole-number rounding keeps an interval.
    days = list(range(28))
    groups = [0] * 14 + [1] * 14
    result = mean_difference_intervals(days, [50] * 14 + [49] * 14, groups, reference=0)[1]
    assert result.diff == -1.0
    assert result.se == pytest.approx(math.sqrt(SCORE_ROUNDING_VARIANCE * (2 / 14)))
    assert result.low < -1.2 and result.high > -0.8
    # Data noisier than the floor keep their own estimate: the floor only ever widens.
    noisy_days, y, g = ar1_days(5, 0.0, CONTIGUOUS)
    floored = mean_difference_intervals(noisy_days, y, g, reference=0)
    unfloored = mean_difference_intervals(noisy_days, y, g, reference=0, min_variance=0.0)
    assert floored == unfloored


def test_the_floor_widens_a_nearly_constant_diary() -> None:
    # One day off by one mid-step in each step: σ² below the floor, so the floor decides.
    values = [50] * 6 + [51] + [50] * 7 + [49] * 6 + [48] + [49] * 7
    days = list(range(28))
    groups = [0] * 14 + [1] * 14
    floored = mean_difference_intervals(days, values, groups, reference=0)[1]
    raw = mean_difference_intervals(days, values, groups, reference=0, min_variance=0.0)[1]
    assert floored.se > raw.se
    cov = mean_covariance(days, groups, floored.phi)
    unit = cov[1, 1] + cov[0, 0] - 2 * cov[0, 1]
    assert floored.se == pytest.approx(math.sqrt(SCORE_ROUNDING_VARIANCE * unit))
    # The floor is not estimated from the data, so it adds no Satterthwaite correction.
    assert floored.df == 26


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        fit_ar1_reml([1, 1, 2], [1, 2, 3], [0, 0, 1])
    with pytest.raises(ValueError, match="equal length"):
        fit_ar1_reml([1, 2], [1, 2, 3], [0, 0, 1])
    with pytest.raises(ValueError, match="phi"):
        fit_ar1_reml([1, 2, 3, 4], [1, 2, 3, 5], [0, 0, 1, 1], phi=1.0)
