"""Honest 95% intervals for a dose step's mean minus the baseline mean (SPEC §4).

Why a plain t-interval is dishonest here. Daily symptom scores are autocorrelated: a bad day
tends to follow a bad day. A two-sample t (or Welch) interval treats every day as an independent
draw, so 20 days count as 20 pieces of evidence when, with a day-to-day correlation of 0.6, they
carry about as much information about the step's mean as 5 independent days
(n (1 − φ) / (1 + φ)). Its standard error is then too small by up to √((1 + φ) / (1 − φ)) = 2,
and its "95%" interval covers the truth only about 70% of the time (tests/analysis measure it).
A patient's ordinary drift from week to week would be read as a drug effect.

The method used instead:

1. Model. For one item, take the days with a value in the baseline and in every step outside
   its settling-in window, in calendar order, and regress the scores on one indicator per step
   (y = Xβ + e). The errors are a daily AR(1) process observed with gaps: two observed days d
   calendar days apart correlate φ^d, so a missing day (or a left-out settling-in day) weakens the
   link between its neighbours instead of being silently closed up. Such a process is still
   Markov, so the inverse of its correlation matrix R is tridiagonal and the Prais–Winsten
   transform with gaps whitens the data in O(n):
   z₁ = y₁,  zᵢ = (yᵢ − ρᵢ yᵢ₋₁) / √(1 − ρᵢ²),  ρᵢ = φ^(tᵢ − tᵢ₋₁).
2. φ by REML. With σ² profiled out the restricted log-likelihood is, up to a constant,
   −½ [log|R| + log|XᵀR⁻¹X| + (n − p) log RSS(φ)], where log|R| = Σ log(1 − ρᵢ²) and the other
   terms come from the whitened data; XᵀR⁻¹X is only p × p. It is maximised by a bounded scalar
   search on [0, 0.95] (the two ends are evaluated too). REML rather than plain maximum
   likelihood because ML underestimates both σ² and φ in short series, which narrows the
   interval exactly where it should be wide. φ is kept ≥ 0 on purpose: symptom diaries are
   positively autocorrelated, and a negative estimate from a few weeks of data is noise that
   would shrink the interval below even the independent-days one; clipping at 0 can only widen
   it. The upper bound keeps the whitening well conditioned (1 − ρ² ≥ 0.0975).
   Then σ² = RSS(φ̂) / (n − p).
3. Variance of the plain difference. The table shows the plain difference of means, so the
   interval is centred on exactly that number (the GLS coefficients are only used to fit the
   noise): with c the contrast (1/n_step on the step's days, −1/n_base on the baseline's),
   Var = σ² cᵀRc. cᵀRc = Σ cᵢ² + 2 Σⱼ cⱼ Σᵢ₍ᵢ<ⱼ₎ cᵢ φ^(tⱼ − tᵢ), and the inner sum is one
   exponential filter along the calendar, so every step's variance costs O(n).
4. Interval: diff ± t(0.975; n − p) · √Var, the t quantile on the model's residual degrees of
   freedom (n days in the model, p steps with data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg.lapack import dpotrf, dtrtrs
from scipy.optimize import minimize_scalar
from scipy.signal import lfilter
from scipy.special import stdtrit

PHI_BOUNDS: Final = (0.0, 0.95)
# Bounded Brent stops within this distance of the REML optimum; a shift of 0.001 in φ changes the
# interval width by well under 1%.
_PHI_TOLERANCE: Final = 1e-3


@dataclass(frozen=True)
class Ar1Fit:
    """One item's fitted noise: AR(1) correlation φ per day, residual variance σ², and df."""

    phi: float
    sigma2: float
    df: int


@dataclass(frozen=True)
class MeanDifference:
    """A plain difference of means with the half-width of its interval under the fitted noise."""

    diff: float
    half_width: float
    se: float
    df: int
    phi: float

    @property
    def low(self) -> float:
        """Lower end of the interval."""
        return self.diff - self.half_width

    @property
    def high(self) -> float:
        """Upper end of the interval."""
        return self.diff + self.half_width


class _Ar1Regression:
    """One item's days reduced once to sums per gap length, so a REML step costs O(p² + gaps).

    The whitening weights depend on a row only through its gap to the previous day, so every
    quantity GLS needs (zᵀz, XᵀR⁻¹X, XᵀR⁻¹y, log|R|) is a weighted sum over the distinct gap
    lengths of sums computed here once; the search over φ never touches the n days again.
    """

    def __init__(
        self, days: NDArray[np.int64], y: NDArray[np.float64], g: NDArray[np.intp], p: int
    ):
        self.n = int(y.size)
        self.p = p
        # Centring changes no residual (the step indicators span the constant) and keeps
        # RSS = zᵀz − uᵀu free of cancellation.
        y = y - y.mean()
        self.first_group = int(g[0])
        self.first_value = float(y[0])
        gap_lengths, gap_class = np.unique(np.diff(days), return_inverse=True)
        self.gap_lengths = gap_lengths.astype(np.float64)
        k = self.gap_lengths.size
        now, before = y[1:], y[:-1]
        cur, prev = g[1:], g[:-1]
        self.gap_count = np.bincount(gap_class, minlength=k).astype(np.float64)
        # zᵢ = wᵢ yᵢ + bᵢ yᵢ₋₁, so zᵀz needs Σy², Σyy₋₁ and Σy₋₁² per gap length.
        self.square_sums = np.concatenate(
            [
                np.bincount(gap_class, weights=x, minlength=k)
                for x in (now * now, now * before, before * before)
            ]
        )
        # Whitened row i is wᵢ e(curᵢ) + bᵢ e(prevᵢ): XᵀR⁻¹X needs the rows counted by
        # (current step, previous step, gap length), XᵀR⁻¹y the values summed the same way.
        self.transitions = (
            np.bincount((cur * p + prev) * k + gap_class, minlength=p * p * k)
            .reshape(p, p, k)
            .astype(np.float64)
        )
        self.diagonal_counts = np.concatenate(
            (self.transitions.sum(axis=1), self.transitions.sum(axis=0)), axis=1
        )
        cur_cell, prev_cell = cur * k + gap_class, prev * k + gap_class
        self.value_sums = np.concatenate(
            [
                np.bincount(cell, weights=x, minlength=p * k).reshape(p, k)
                for cell, x in (
                    (cur_cell, now),
                    (cur_cell, before),
                    (prev_cell, now),
                    (prev_cell, before),
                )
            ],
            axis=1,
        )

    def _fit(self, phi: float) -> tuple[float, float, float]:
        """GLS at φ: (RSS, log|R|, log|XᵀR⁻¹X|), from the whitened sums."""
        rho = phi**self.gap_lengths
        one_minus = 1.0 - rho * rho
        w = 1.0 / np.sqrt(one_minus)
        b = -w * rho
        ww, bb, wb = w * w, b * b, w * b
        cross = self.transitions @ wb
        xtx = cross + cross.T
        xtx.flat[:: self.p + 1] += self.diagonal_counts @ np.concatenate((ww, bb))
        xtx[self.first_group, self.first_group] += 1.0
        xtz = self.value_sums @ np.concatenate((ww, wb, wb, bb))
        xtz[self.first_group] += self.first_value
        ztz = self.first_value**2 + float(self.square_sums @ np.concatenate((ww, 2.0 * wb, bb)))
        # Direct LAPACK calls: for a p × p system numpy.linalg's wrappers cost more than the work.
        chol, info = dpotrf(xtx, lower=1)
        if info != 0:
            raise np.linalg.LinAlgError("step indicators are not of full rank")
        u, _ = dtrtrs(chol, xtz, lower=1)
        rss = ztz - float(u @ u)
        log_det_r = float(self.gap_count @ np.log(one_minus))
        log_det_xtx = 2.0 * float(np.log(chol.diagonal()).sum())
        return rss, log_det_r, log_det_xtx

    def deviance(self, phi: float) -> float:
        """−2 × restricted log-likelihood at φ, σ² profiled out, constants dropped."""
        rss, log_det_r, log_det_xtx = self._fit(phi)
        if rss <= 0.0:
            return -math.inf
        return log_det_r + log_det_xtx + (self.n - self.p) * math.log(rss)

    def sigma2(self, phi: float) -> float:
        """REML residual variance at φ: RSS / (n − p)."""
        return max(self._fit(phi)[0], 0.0) / (self.n - self.p)

    def reml_phi(self) -> float:
        """φ in PHI_BOUNDS maximising the restricted likelihood."""
        low, high = PHI_BOUNDS
        found = minimize_scalar(
            self.deviance, bounds=PHI_BOUNDS, method="bounded", options={"xatol": _PHI_TOLERANCE}
        )
        # Bounded Brent never evaluates the ends; the optimum is often exactly φ = 0.
        candidates = [(float(found.fun), float(found.x)), (self.deviance(low), low)]
        candidates.append((self.deviance(high), high))
        return min(candidates)[1]


def _prepare(
    day_numbers: ArrayLike, values: ArrayLike, groups: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.intp], NDArray[np.int64]]:
    days = np.asarray(day_numbers, dtype=np.int64)
    y = np.asarray(values, dtype=np.float64)
    labels = np.asarray(groups, dtype=np.int64)
    if not (days.ndim == y.ndim == labels.ndim == 1) or not (days.size == y.size == labels.size):
        raise ValueError("day_numbers, values and groups must be 1-D and of equal length")
    if days.size > 1 and np.any(np.diff(days) <= 0):
        raise ValueError("day_numbers must be strictly increasing (one value per day)")
    unique, g = np.unique(labels, return_inverse=True)
    return days, y, g.astype(np.intp), unique


def _within_groups_constant(y: NDArray[np.float64], g: NDArray[np.intp], p: int) -> bool:
    counts = np.bincount(g, minlength=p)
    means = np.bincount(g, weights=y, minlength=p) / counts
    return bool(np.all(np.abs(y - means[g]) < 1e-9))


def fit_ar1_reml(
    day_numbers: ArrayLike, values: ArrayLike, groups: ArrayLike, *, phi: float | None = None
) -> Ar1Fit | None:
    """Fit scores on group indicators with AR(1)-with-gaps errors; None without residual df."""
    days, y, g, labels = _prepare(day_numbers, values, groups)
    p = int(labels.size)
    df = int(y.size) - p
    if df < 1:
        return None
    if _within_groups_constant(y, g, p):
        # Every day equals its step's mean: nothing varies, so there is no noise to model.
        return Ar1Fit(phi=0.0 if phi is None else phi, sigma2=0.0, df=df)
    model = _Ar1Regression(days, y, g, p)
    chosen = model.reml_phi() if phi is None else float(phi)
    if not -1.0 < chosen < 1.0:
        raise ValueError("phi must lie in (-1, 1)")
    return Ar1Fit(phi=chosen, sigma2=model.sigma2(chosen), df=df)


def mean_covariance(day_numbers: ArrayLike, groups: ArrayLike, phi: float) -> NDArray[np.float64]:
    """DᵀRD: covariance of the groups' plain means per unit σ², groups in sorted label order."""
    days, _, g, labels = _prepare(day_numbers, np.zeros(np.shape(day_numbers)), groups)
    return _mean_covariance(days, g, int(labels.size), phi)


def _mean_covariance(
    days: NDArray[np.int64], g: NDArray[np.intp], p: int, phi: float
) -> NDArray[np.float64]:
    counts = np.bincount(g, minlength=p).astype(np.float64)
    # D puts 1/n_group on each observed day of the calendar grid; missing days stay 0, so a
    # filter running day by day sees the gaps and decays by φ per calendar day.
    offsets = days - days[0]
    grid = np.zeros((int(offsets[-1]) + 1, p))
    grid[offsets, g] = 1.0 / counts[g]
    gram = np.diag(1.0 / counts)
    if phi != 0.0:
        # before[t] = Σ_{s<t} φ^(t−s) grid[s]: the correlation-weighted past of every group.
        before = lfilter([0.0, phi], [1.0, -phi], grid, axis=0)
        cross = grid.T @ before
        gram = gram + cross + cross.T
    return np.asarray(gram, dtype=np.float64)


def mean_difference_intervals(
    day_numbers: ArrayLike,
    values: ArrayLike,
    groups: ArrayLike,
    *,
    reference: int,
    level: float = 0.95,
    phi: float | None = None,
) -> dict[int, MeanDifference]:
    """Each group's mean minus the reference group's, with an AR(1)-honest interval."""
    days, y, g, labels = _prepare(day_numbers, values, groups)
    p = int(labels.size)
    where = np.flatnonzero(labels == reference)
    if where.size == 0 or p < 2:
        return {}
    fit = fit_ar1_reml(days, y, g, phi=phi)
    if fit is None:
        return {}
    ref = int(where[0])
    counts = np.bincount(g, minlength=p)
    means = np.bincount(g, weights=y, minlength=p) / counts
    cov = _mean_covariance(days, g, p, fit.phi)
    quantile = float(stdtrit(fit.df, 0.5 + level / 2.0))
    result: dict[int, MeanDifference] = {}
    for k in range(p):
        if k == ref:
            continue
        variance = fit.sigma2 * (cov[k, k] + cov[ref, ref] - 2.0 * cov[k, ref])
        se = math.sqrt(max(variance, 0.0))
        result[int(labels[k])] = MeanDifference(
            diff=float(means[k] - means[ref]),
            half_width=quantile * se,
            se=se,
            df=fit.df,
            phi=fit.phi,
        )
    return result
