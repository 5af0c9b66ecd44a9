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
   Then σ² = RSS(φ̂) / (n − p), but never less than 1/12 (SCORE_ROUNDING_VARIANCE): a whole
   number on the 0–100 scale hides up to ±0.5 of what the patient felt, so no diary, not even
   one that repeats the same score every day, carries less noise than that. Without the floor a
   baseline of 50 every day and a step of 49 every day would get a zero-width interval [−1, −1].
3. Variance of the plain difference. The table shows the plain difference of means, so the
   interval is centred on exactly that number (the GLS coefficients only serve to fit the
   noise): with c the contrast (1/n_step on the step's days, −1/n_base on the baseline's),
   Var = σ² cᵀRc, where cᵀRc = Σ cᵢ² + 2 Σⱼ cⱼ Σᵢ₍ᵢ<ⱼ₎ cᵢ φ^(tⱼ − tᵢ).
4. Interval: diff ± t(0.975; ν) · √Var. SPEC §4 suggests ν = n − p, the residual degrees of
   freedom; that ignores that φ itself was estimated from a few weeks of data, and in the tests'
   simulation it covers only about 92% at φ = 0.6. So ν is the Satterthwaite approximation
   ν = 2 Var² / Var(V̂), with Var(V̂) by the delta method from the inverse observed REML
   information of (σ², φ), capped at n − p: the interval can only be wider than the n − p one,
   and it then covers close to 95% at φ from 0 to 0.6 (`df_method="residual"` gives n − p).

Power: what is possible (SPEC §4.1 asks ≥ 20% narrower than the November 2026 engine at φ ≥ 0.5).
One φ shared by a diary's items (fit_diary) takes the width ratio (median, new ÷ November 2026,
seeded simulation of tests/analysis/test_analysis_honest.py: 8 items, baseline and one or two
steps of 14–28 days, 10% of days missing) to 0.854 at φ = 0.5, 0.817 at 0.6 and 0.559 at 0.8
(0.788 pooled), with coverage 0.967, 0.949, 0.958 (0.957 and 0.969 at φ = 0 and 0.3). The bound
on any honest 95% interval around the plain difference is the oracle, which knows the true φ
and σ and uses z = 1.96: on the same diaries its median width is 0.818 × the reference's at
φ = 0.5 (0.814 on 300 other diaries), 0.795 at 0.6 and 0.495 at 0.8, and the engine is 1.044,
1.028 and 1.129 × the oracle. So 0.80 at φ = 0.5 needs an interval narrower than the oracle:
only a lower nominal level gets there (z = 1.92 would, with about 94.5% coverage), and that is
not done. What is left between the engine and the oracle at 0.5 is mostly the t quantile on
each item's own n − p degrees of freedom for σ² (about 2.04 instead of 1.96 on these steps);
pooling σ² across items would remove it (ratio ≈ 0.83, still above 0.80), but items do not
share a variance in real diaries, so it is not done either. GLS centring would not help: the
table shows the plain difference, and √(Var_GLS / Var_OLS) ≈ 0.98 here anyway.

Cost. The whitening weights depend on a row only through its gap to the previous value, so the
REML search works on sums per distinct gap length computed once: each step of the search costs
O(p² · gaps), not O(n). cᵀRc for all steps at once (DᵀRD, D the scaled step indicators) is
computed per run of consecutive days of one step: pairs across two runs factorise into a decayed
tail sum times a decayed head sum, pairs inside a run come from one exponential filter along the
calendar. Nothing is O(n²) and no n × n matrix is ever formed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg.lapack import dpotrf, dtrtrs
from scipy.optimize import minimize_scalar
from scipy.signal import lfilter
from scipy.special import stdtrit

PHI_BOUNDS: Final = (0.0, 0.95)
# Least daily variance an interval assumes: the variance of rounding to a whole score (uniform
# on ±0.5), so identical scores cannot produce certainty.
SCORE_ROUNDING_VARIANCE: Final = 1.0 / 12.0
# Bounded Brent stops within this distance of the REML optimum; a shift of 0.001 in φ changes the
# interval width by well under 1%.
_PHI_TOLERANCE: Final = 1e-3
# Finite-difference step in φ for the REML information and the slope of a contrast's variance.
_DERIVATIVE_STEP: Final = 1e-4


@dataclass(frozen=True)
class Ar1Fit:
    """One item's fitted noise: AR(1) correlation φ per day, residual variance σ², and df."""

    phi: float
    sigma2: float
    df: int
    # Estimated covariance of (σ², φ) from the REML information; None when φ was given or the
    # information is not positive definite (then only σ² is uncertain, with df = n − p).
    param_cov: tuple[tuple[float, float], tuple[float, float]] | None = None


@dataclass(frozen=True)
class MeanDifference:
    """A plain difference of means with the half-width of its interval under the fitted noise."""

    diff: float
    half_width: float
    se: float
    df: float
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
    """One item's days reduced once to sums per gap length, so a REML step costs O(p² · gaps).

    The whitening weights of a row depend only on its gap to the previous value, through
    q = 1 / (1 − ρ²): w² = q, b² = ρ² q and w b = −ρ q. So zᵀz, XᵀR⁻¹X and XᵀR⁻¹y are fixed
    linear maps of the vector (q, ρ² q, −ρ q) over the distinct gap lengths; those maps are built
    here once, and the search over φ never touches the n days again.
    """

    def __init__(
        self, days: NDArray[np.int64], y: NDArray[np.float64], g: NDArray[np.intp], p: int
    ):
        self.n = int(y.size)
        self.p = p
        # Centring changes no residual (the step indicators span the constant) and keeps
        # RSS = zᵀz − uᵀu free of cancellation.
        y = y - y.mean()
        gaps = np.diff(days)
        # Gap lengths are small positive integers: a bincount classes them without sorting.
        present = np.bincount(gaps) > 0
        gap_class = (np.cumsum(present) - 1)[gaps]
        self.gap_lengths = np.flatnonzero(present).astype(np.float64)
        k = self.gap_lengths.size
        self.gap_count = np.bincount(gap_class, minlength=k).astype(np.float64)
        now, before = y[1:], y[:-1]
        cur, prev = g[1:], g[:-1]

        # Rows of the map: p² for XᵀR⁻¹X, p for XᵀR⁻¹y, 1 for zᵀz; columns: the q, ρ²q and −ρq
        # blocks, one column per gap length. Whitened row i is wᵢ e(curᵢ) + bᵢ e(prevᵢ) and its
        # value zᵢ = wᵢ yᵢ + bᵢ yᵢ₋₁.
        pp = p * p
        rows = pp + p + 1
        linear_map = np.zeros((rows, 3, k))
        pairs = np.bincount((cur * p + prev) * k + gap_class, minlength=pp * k).reshape(p, p, k)
        # XᵀR⁻¹X: w² on (cur, cur), b² on (prev, prev), wb on (cur, prev) and (prev, cur).
        diagonal = np.arange(p) * (p + 1)
        linear_map[diagonal, 0] = pairs.sum(axis=1)
        linear_map[diagonal, 1] = pairs.sum(axis=0)
        linear_map[:pp, 2] = (pairs + pairs.transpose(1, 0, 2)).reshape(pp, k)
        # XᵀR⁻¹y: w zᵢ on cur and b zᵢ on prev.
        cur_cell, prev_cell = cur * k + gap_class, prev * k + gap_class
        linear_map[pp : pp + p, 0] = np.bincount(cur_cell, now, p * k).reshape(p, k)
        linear_map[pp : pp + p, 1] = np.bincount(prev_cell, before, p * k).reshape(p, k)
        linear_map[pp : pp + p, 2] = (
            np.bincount(cur_cell, before, p * k) + np.bincount(prev_cell, now, p * k)
        ).reshape(p, k)
        # zᵀz = Σ w² yᵢ² + 2 wb yᵢ yᵢ₋₁ + b² yᵢ₋₁².
        linear_map[pp + p, 0] = np.bincount(gap_class, now * now, k)
        linear_map[pp + p, 1] = np.bincount(gap_class, before * before, k)
        linear_map[pp + p, 2] = 2.0 * np.bincount(gap_class, now * before, k)
        self.linear_map = linear_map.reshape(rows, 3 * k)
        # The first value is whitened on its own: z₁ = y₁, row e(g₁).
        self.constant = np.zeros(rows)
        self.constant[int(g[0]) * (p + 1)] = 1.0
        self.constant[pp + int(g[0])] = y[0]
        self.constant[pp + p] = y[0] ** 2
        self._cache: tuple[float, tuple[float, float, float]] | None = None

    def fit(self, phi: float) -> tuple[float, float, float]:
        """GLS at φ: (RSS, log|R|, log|XᵀR⁻¹X|), from the whitened sums."""
        if self._cache is not None and self._cache[0] == phi:
            return self._cache[1]
        rho = phi**self.gap_lengths
        one_minus = 1.0 - rho * rho
        q = 1.0 / one_minus
        sums = self.linear_map @ np.concatenate((q, rho * rho * q, -rho * q)) + self.constant
        p = self.p
        xtx = sums[: p * p].reshape(p, p)
        # Direct LAPACK calls: for a p × p system numpy.linalg's wrappers cost more than the work.
        chol, info = dpotrf(xtx, lower=1)
        if info != 0:
            raise np.linalg.LinAlgError("step indicators are not of full rank")
        u, _ = dtrtrs(chol, sums[p * p : p * p + p], lower=1)
        rss = float(sums[-1] - u @ u)
        result = (
            rss,
            float(self.gap_count @ np.log(one_minus)),
            2.0 * float(np.log(chol.diagonal()).sum()),
        )
        self._cache = (phi, result)
        return result

    def deviance(self, phi: float) -> float:
        """−2 × restricted log-likelihood at φ, σ² profiled out, constants dropped."""
        rss, log_det_r, log_det_xtx = self.fit(phi)
        if rss <= 0.0:
            return -math.inf
        return log_det_r + log_det_xtx + (self.n - self.p) * math.log(rss)

    def sigma2(self, phi: float) -> float:
        """REML residual variance at φ: RSS / (n − p)."""
        return max(self.fit(phi)[0], 0.0) / (self.n - self.p)

    def param_cov(
        self, phi: float, sigma2: float
    ) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """Inverse observed REML information of (σ², φ) at the estimate."""
        step = _DERIVATIVE_STEP
        rss_low, det_r_low, det_x_low = self.fit(phi - step)
        rss_high, det_r_high, det_x_high = self.fit(phi + step)
        rss, det_r, det_x = self.fit(phi)
        rss_slope = (rss_high - rss_low) / (2.0 * step)
        rss_curve = (rss_high - 2.0 * rss + rss_low) / step**2
        dets_curve = (
            det_r_high + det_x_high - 2.0 * (det_r + det_x) + det_r_low + det_x_low
        ) / step**2
        # ℓ = −½ [(n − p) log σ² + log|R| + log|XᵀR⁻¹X| + RSS/σ²], differentiated twice
        # and taken at σ² = RSS/(n − p).
        info_ss = (self.n - self.p) / (2.0 * sigma2**2)
        info_sp = -rss_slope / (2.0 * sigma2**2)
        info_pp = 0.5 * (dets_curve + rss_curve / sigma2)
        det = info_ss * info_pp - info_sp**2
        if info_pp <= 0.0 or det <= 0.0:
            return None
        return ((info_pp / det, -info_sp / det), (-info_sp / det, info_ss / det))

    def information(self, phi: float, sigma2: float) -> tuple[float, float, float]:
        """Observed REML information of (σ², φ) at the estimate: (I_σσ, I_σφ, I_φφ)."""
        step = _DERIVATIVE_STEP
        rss_low, det_r_low, det_x_low = self.fit(phi - step)
        rss_high, det_r_high, det_x_high = self.fit(phi + step)
        rss, det_r, det_x = self.fit(phi)
        rss_slope = (rss_high - rss_low) / (2.0 * step)
        rss_curve = (rss_high - 2.0 * rss + rss_low) / step**2
        dets_curve = (
            det_r_high + det_x_high - 2.0 * (det_r + det_x) + det_r_low + det_x_low
        ) / step**2
        return (
            (self.n - self.p) / (2.0 * sigma2**2),
            -rss_slope / (2.0 * sigma2**2),
            0.5 * (dets_curve + rss_curve / sigma2),
        )

    def reml_phi(self) -> float:
        """φ in PHI_BOUNDS maximising the restricted likelihood."""
        low, high = PHI_BOUNDS
        # Bounded Brent never evaluates the ends, and the optimum is often exactly φ = 0.
        candidates = [(self.deviance(low), low), (self.deviance(high), high)]
        found = minimize_scalar(
            self.deviance, bounds=PHI_BOUNDS, method="bounded", options={"xatol": _PHI_TOLERANCE}
        )
        candidates.append((float(found.fun), float(found.x)))
        return min(candidates)[1]


def _prepare(
    day_numbers: ArrayLike, values: ArrayLike, groups: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.intp], NDArray[np.intp]]:
    """Validated arrays, groups renumbered 0..p−1 in label order, and the labels themselves."""
    days = np.asarray(day_numbers, dtype=np.int64)
    y = np.asarray(values, dtype=np.float64)
    labels = np.asarray(groups, dtype=np.intp)
    if not (days.ndim == y.ndim == labels.ndim == 1) or not (days.size == y.size == labels.size):
        raise ValueError("day_numbers, values and groups must be 1-D and of equal length")
    if days.size == 0:
        raise ValueError("no days given")
    if days.size > 1 and np.any(np.diff(days) <= 0):
        raise ValueError("day_numbers must be strictly increasing (one value per day)")
    if labels.min() < 0:
        raise ValueError("group labels must be non-negative integers")
    # Group labels are small step indices, so a bincount renumbers them without sorting.
    present = np.bincount(labels) > 0
    renumber = np.cumsum(present) - 1
    return days, y, renumber[labels], np.flatnonzero(present)


def _fit(
    days: NDArray[np.int64], y: NDArray[np.float64], g: NDArray[np.intp], p: int, phi: float | None
) -> Ar1Fit | None:
    df = int(y.size) - p
    if df < 1:
        return None
    if phi is not None and not -1.0 < phi < 1.0:
        raise ValueError("phi must lie in (-1, 1)")
    model = _Ar1Regression(days, y, g, p)
    rss_independent, _, _ = model.fit(0.0)
    if rss_independent <= 1e-9:
        # Every day equals its step's mean: nothing varies, so there is no noise to model.
        return Ar1Fit(phi=0.0 if phi is None else phi, sigma2=0.0, df=df)
    if phi is not None:
        return Ar1Fit(phi=float(phi), sigma2=model.sigma2(float(phi)), df=df)
    chosen = model.reml_phi()
    sigma2 = model.sigma2(chosen)
    return Ar1Fit(phi=chosen, sigma2=sigma2, df=df, param_cov=model.param_cov(chosen, sigma2))


def fit_ar1_reml(
    day_numbers: ArrayLike, values: ArrayLike, groups: ArrayLike, *, phi: float | None = None
) -> Ar1Fit | None:
    """Fit scores on group indicators with AR(1)-with-gaps errors; None without residual df."""
    days, y, g, labels = _prepare(day_numbers, values, groups)
    return _fit(days, y, g, int(labels.size), phi)


def mean_covariance(day_numbers: ArrayLike, groups: ArrayLike, phi: float) -> NDArray[np.float64]:
    """DᵀRD: covariance of the groups' plain means per unit σ², groups in label order."""
    days, _, g, labels = _prepare(day_numbers, np.zeros(np.shape(day_numbers)), groups)
    return _mean_covariance(days, g, int(labels.size), phi)


# Above this many runs of consecutive days in one group, pairing runs (r² terms) costs more than
# filtering every group along the calendar.
_MAX_RUNS: Final = 256


def _mean_covariance(
    days: NDArray[np.int64], g: NDArray[np.intp], p: int, phi: float
) -> NDArray[np.float64]:
    inv_counts = 1.0 / np.bincount(g, minlength=p)
    gram = np.diag(inv_counts)
    if phi == 0.0:
        return gram
    # cross[a, b] = Σ over day pairs i < j with j in group a, i in group b of φ^(tⱼ − tᵢ).
    new_run = np.empty(g.size, dtype=bool)
    new_run[0] = True
    np.not_equal(g[1:], g[:-1], out=new_run[1:])
    run_first = np.flatnonzero(new_run)
    if phi < 0.0 or run_first.size > _MAX_RUNS:
        cross = _cross_by_calendar(days, g, p, phi)
    else:
        cross = _cross_by_runs(days, g, p, phi, new_run, run_first)
    cross *= inv_counts[:, None] * inv_counts[None, :]
    return np.asarray(gram + cross + cross.T, dtype=np.float64)


def _cross_by_calendar(
    days: NDArray[np.int64], g: NDArray[np.intp], p: int, phi: float
) -> NDArray[np.float64]:
    # One column per group on the calendar grid, 0 on days without a value; an exponential
    # filter then gives every day the φ-weighted count of earlier days of each group.
    offsets = days - days[0]
    grid = np.zeros((int(offsets[-1]) + 1, p))
    grid[offsets, g] = 1.0
    before = lfilter([0.0, phi], [1.0, -phi], grid, axis=0)
    return np.asarray(grid.T @ before, dtype=np.float64)


def _cross_by_runs(
    days: NDArray[np.int64],
    g: NDArray[np.intp],
    p: int,
    phi: float,
    new_run: NDArray[np.bool_],
    run_first: NDArray[np.intp],
) -> NDArray[np.float64]:
    # In the comparison each step is one run of consecutive values, so the pairs split into
    # pairs inside a run and pairs across two runs, and the latter factorise:
    # Σ_{i∈A, j∈B} φ^(tⱼ − tᵢ)
    #   = [Σ_{i∈A} φ^(end_A − tᵢ)] · φ^(start_B − end_A) · [Σ_{j∈B} φ^(tⱼ − start_B)].
    r = run_first.size
    run_of = np.cumsum(new_run) - 1
    run_group = g[run_first]
    run_start = days[run_first]
    run_end = days[np.append(run_first[1:] - 1, days.size - 1)]
    # φ^x as exp(x log φ): numpy's exp is several times faster than a power with float exponents.
    log_phi = math.log(phi)
    from_start = np.exp(log_phi * (days - run_start[run_of]))
    head = np.bincount(run_of, weights=from_start, minlength=r)
    tail = np.bincount(run_of, weights=np.exp(log_phi * (run_end[run_of] - days)), minlength=r)
    order = np.arange(r)
    later = order[:, None] < order[None, :]
    gap = np.where(later, run_start[None, :] - run_end[:, None], 0)
    pair = np.where(later, tail[:, None] * np.exp(log_phi * gap) * head[None, :], 0.0)
    one_hot = np.zeros((r, p))
    one_hot[order, run_group] = 1.0
    cross = one_hot.T @ pair.T @ one_hot
    # Inside a run: one filter along the calendar counts all earlier days; the share from before
    # the run's start is that start's count decayed to tⱼ, and is taken off.
    offsets = days - days[0]
    marks = np.zeros(int(offsets[-1]) + 1)
    marks[offsets] = 1.0
    before = lfilter([0.0, phi], [1.0, -phi], marks)
    inside = before[offsets] - from_start * before[offsets[run_first]][run_of]
    cross.flat[:: p + 1] += np.bincount(
        run_group, weights=np.bincount(run_of, weights=inside, minlength=r), minlength=p
    )
    return np.asarray(cross, dtype=np.float64)


def mean_difference_intervals(
    day_numbers: ArrayLike,
    values: ArrayLike,
    groups: ArrayLike,
    *,
    reference: int,
    level: float = 0.95,
    phi: float | None = None,
    df_method: Literal["satterthwaite", "residual"] = "satterthwaite",
    min_variance: float = SCORE_ROUNDING_VARIANCE,
) -> dict[int, MeanDifference]:
    """Each group's mean minus the reference group's, with an AR(1)-honest interval.

    The daily variance is taken as at least `min_variance` (see SCORE_ROUNDING_VARIANCE).
    """
    days, y, g, labels = _prepare(day_numbers, values, groups)
    p = int(labels.size)
    where = np.flatnonzero(labels == reference)
    if where.size == 0 or p < 2:
        return {}
    fit = _fit(days, y, g, p, phi)
    if fit is None:
        return {}
    ref = int(where[0])
    counts = np.bincount(g, minlength=p)
    means = np.bincount(g, weights=y, minlength=p) / counts
    cov = _mean_covariance(days, g, p, fit.phi)
    sigma2 = fit.sigma2
    floored = sigma2 < min_variance
    if floored:
        # The floor is not estimated, so it has no sampling spread: df stays n − p.
        sigma2 = min_variance
    cov_shifted = None
    if fit.param_cov is not None and df_method == "satterthwaite" and not floored:
        cov_shifted = _mean_covariance(days, g, p, fit.phi + _DERIVATIVE_STEP)
    result: dict[int, MeanDifference] = {}
    for k in range(p):
        if k == ref:
            continue
        unit = cov[k, k] + cov[ref, ref] - 2.0 * cov[k, ref]
        variance = sigma2 * unit
        df = float(fit.df)
        if cov_shifted is not None and fit.param_cov is not None and variance > 0.0:
            shifted = cov_shifted[k, k] + cov_shifted[ref, ref] - 2.0 * cov_shifted[k, ref]
            gradient = (unit, sigma2 * (shifted - unit) / _DERIVATIVE_STEP)
            (c_ss, c_sp), (_, c_pp) = fit.param_cov
            spread = (
                gradient[0] ** 2 * c_ss
                + 2.0 * gradient[0] * gradient[1] * c_sp
                + gradient[1] ** 2 * c_pp
            )
            if spread > 0.0:
                df = min(df, max(1.0, 2.0 * variance**2 / spread))
        se = math.sqrt(max(variance, 0.0))
        result[int(labels[k])] = MeanDifference(
            diff=float(means[k] - means[ref]),
            half_width=float(stdtrit(df, 0.5 + level / 2.0)) * se,
            se=se,
            df=df,
            phi=fit.phi,
        )
    return result


# φ this close to its upper bound means the data could not pin it: the search stopped at the wall,
# and an interval computed there swings with any added day (SPEC §4.1), so none is given.
PHI_AT_BOUND: Final = PHI_BOUNDS[1] - 0.005
ParamCov = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class TrendContrast:
    """A difference of levels at the same moment, with one linear time trend allowed for.

    `adjusted` is what is left of the difference once a steady drift shared by the whole diary
    is taken out; `trend_part` is how much the fitted drift alone moves the plain difference
    (its slope times the time between the two groups' centres).
    """

    adjusted: float
    half_width: float
    trend_part: float
    # The fitted slope over its standard error: how clearly there is a trend at all.
    trend_t: float = 0.0

    @property
    def low(self) -> float:
        """Lower end of the trend-adjusted interval."""
        return self.adjusted - self.half_width

    @property
    def high(self) -> float:
        """Upper end of the trend-adjusted interval."""
        return self.adjusted + self.half_width


@dataclass(frozen=True)
class ItemNoise:
    """One item's part of a diary fit: its days, its step groups and its fitted noise."""

    days: NDArray[np.int64]
    y: NDArray[np.float64]
    groups: NDArray[np.intp]
    labels: NDArray[np.intp]
    # σ² at the shared φ, floored at the rounding variance; `floored` says the floor was used.
    sigma2: float
    floored: bool
    df: int
    # Covariance of (σ², φ) from the joint REML information; None when not estimable.
    param_cov: ParamCov | None
    # DᵀRD (covariance of the groups' plain means per unit σ²) at the shared φ.
    cov: NDArray[np.float64]

    def index_of(self, label: int) -> int | None:
        """Position of a group label among this item's groups, None when it has no days there."""
        return self.positions.get(label)

    @property
    def positions(self) -> dict[int, int]:
        """Group label → position, computed once."""
        found: dict[int, int] | None = self.__dict__.get("_positions")
        if found is None:
            found = {int(label): index for index, label in enumerate(self.labels.tolist())}
            object.__setattr__(self, "_positions", found)
        return found


@dataclass(frozen=True)
class DiaryFit:
    """The noise of a whole diary: one φ shared by its items, σ² per item (SPEC §4.1 power).

    Every item of a diary is the same person's days, so their day-to-day correlation is estimated
    once from all of them: eight items put eight times the days behind φ, the Satterthwaite
    degrees of freedom lost to estimating it shrink accordingly, and the t quantile falls from
    about 2.5 towards 2.0 on a few weeks of data. Each item keeps its own variance and means.
    """

    phi: float
    at_bound: bool
    items: dict[str, ItemNoise]
    # Standard error of φ from the joint REML information (None when not estimable).
    phi_se: float | None = None

    def differences(
        self, key: str, reference: int, level: float = 0.95
    ) -> dict[int, MeanDifference]:
        """Each group's plain mean minus the reference group's, with its honest interval."""
        item = self.items.get(key)
        if item is None:
            return {}
        ref = item.index_of(reference)
        if ref is None:
            return {}
        p = int(item.labels.size)
        counts = np.bincount(item.groups, minlength=p)
        means = np.bincount(item.groups, weights=item.y, minlength=p) / counts
        cov_shifted = None
        if item.param_cov is not None and not item.floored:
            cov_shifted = _mean_covariance(item.days, item.groups, p, self.phi + _DERIVATIVE_STEP)
        quantile = 0.5 + level / 2.0
        result: dict[int, MeanDifference] = {}
        for k in range(p):
            if k == ref:
                continue
            unit = item.cov[k, k] + item.cov[ref, ref] - 2.0 * item.cov[k, ref]
            variance = item.sigma2 * unit
            df = float(item.df)
            if cov_shifted is not None and item.param_cov is not None and variance > 0.0:
                shifted = cov_shifted[k, k] + cov_shifted[ref, ref] - 2.0 * cov_shifted[k, ref]
                gradient = (unit, item.sigma2 * (shifted - unit) / _DERIVATIVE_STEP)
                (c_ss, c_sp), (_, c_pp) = item.param_cov
                spread = (
                    gradient[0] ** 2 * c_ss
                    + 2.0 * gradient[0] * gradient[1] * c_sp
                    + gradient[1] ** 2 * c_pp
                )
                if spread > 0.0:
                    df = min(df, max(1.0, 2.0 * variance**2 / spread))
            se = math.sqrt(max(variance, 0.0))
            result[int(item.labels[k])] = MeanDifference(
                diff=float(means[k] - means[ref]),
                half_width=float(stdtrit(df, quantile)) * se,
                se=se,
                df=df,
                phi=self.phi,
            )
        return result

    def trend_contrasts(
        self, key: str, reference: int, level: float = 0.95
    ) -> dict[int, tuple[TrendContrast, ...]]:
        """Each group against the reference once a time trend is allowed for, two ways.

        The same regression and the same AR(1)-with-gaps noise at the shared φ, plus one column:
        (1) a steady trend over the whole diary (a slow natural improvement): the step
        coefficients are then levels at the same moment; (2) a trend within the reference
        only (a flare fading before the first dose): the group is then compared with the
        reference's level at its last day, where the reference was heading, not its average.
        """
        item = self.items.get(key)
        if item is None:
            return {}
        ref = item.index_of(reference)
        p = int(item.labels.size)
        n = int(item.y.size)
        if ref is None or n - p - 1 < 2:
            return {}
        # Months, centred: keeps the trend columns on the scale of the indicators.
        time = (item.days - item.days.mean()) / 30.0
        counts = np.bincount(item.groups, minlength=p)
        centres = np.bincount(item.groups, weights=time, minlength=p) / counts
        in_ref = item.groups == ref
        within_ref = np.where(in_ref, time - centres[ref], 0.0)
        ref_end = float(time[in_ref].max() - centres[ref])
        quantile = float(stdtrit(n - p - 1, 0.5 + level / 2.0))
        result: dict[int, list[TrendContrast]] = {}
        for column, lever in ((time, None), (within_ref, ref_end)):
            fitted = _gls_with_column(item, column, self.phi)
            if fitted is None:
                continue
            coef, inverse, sigma2 = fitted
            slope_se = math.sqrt(max(sigma2 * float(inverse[p, p]), 0.0))
            trend_t = abs(float(coef[p])) / slope_se if slope_se > 0.0 else 0.0
            for k in range(p):
                if k == ref:
                    continue
                contrast = np.zeros(p + 1)
                contrast[k], contrast[ref] = 1.0, -1.0
                if lever is None:
                    trend_part = float(coef[p] * (centres[k] - centres[ref]))
                else:
                    contrast[p] = -lever
                    trend_part = float(coef[p] * lever)
                variance = sigma2 * float(contrast @ inverse @ contrast)
                result.setdefault(int(item.labels[k]), []).append(
                    TrendContrast(
                        adjusted=float(contrast @ coef),
                        half_width=quantile * math.sqrt(max(variance, 0.0)),
                        trend_part=trend_part,
                        trend_t=trend_t,
                    )
                )
        return {label: tuple(found) for label, found in result.items()}

    def projected_variance(
        self,
        key: str,
        reference: int,
        gaps: Sequence[int],
        days: int,
        *,
        phi: float | None = None,
    ) -> NDArray[np.float64] | None:
        """Variance of the difference for a step of 1..`days` consecutive rated days.

        One row per gap: the step would start that many calendar days after the reference
        group's last day; the reference keeps its actual days. Entry [row, m − 1] is the
        variance with m days in the step. `phi` replaces the fitted φ (a planning value), σ²
        staying the item's.
        """
        item = self.items.get(key)
        if item is None or days < 1:
            return None
        ref = item.index_of(reference)
        if ref is None:
            return None
        m = np.arange(1, days + 1, dtype=np.float64)
        ref_days = item.days[item.groups == ref]
        if phi is None or phi == self.phi:
            phi = self.phi
            ref_var = float(item.cov[ref, ref])
        else:
            alone = np.zeros(ref_days.size, dtype=np.intp)
            ref_var = float(_mean_covariance(ref_days, alone, 1, phi)[0, 0])
        if phi == 0.0:
            row = item.sigma2 * (1.0 / m + ref_var)
            return np.asarray(np.tile(row, (len(gaps), 1)), dtype=np.float64)
        power = phi**m
        # Σ_{k=1}^{m−1} (m − k) φ^k in closed form.
        pairs = phi * (m * (1.0 - phi) - (1.0 - power)) / (1.0 - phi) ** 2
        step_var = (m + 2.0 * pairs) / (m * m)
        tail = float(np.sum(phi ** (ref_days[-1] - ref_days).astype(np.float64)))
        head = (1.0 - power) / (1.0 - phi) / (m * ref_days.size)
        decay = phi ** np.maximum(np.asarray(gaps, dtype=np.float64), 1.0)
        cross = tail * decay[:, None] * head[None, :]
        return np.asarray(item.sigma2 * (step_var + ref_var - 2.0 * cross), dtype=np.float64)


def _gls_with_column(
    item: ItemNoise, column: NDArray[np.float64], phi: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], float] | None:
    """GLS of the item on its group indicators plus one column, AR(1)-with-gaps noise at φ."""
    n = int(item.y.size)
    p = int(item.labels.size)
    design = np.zeros((n, p + 1))
    design[np.arange(n), item.groups] = 1.0
    design[:, p] = column
    response = item.y - item.y.mean()
    if phi != 0.0:
        # Prais–Winsten with gaps, as in the main model.
        rho = phi ** np.diff(item.days).astype(np.float64)
        scale = 1.0 / np.sqrt(1.0 - rho * rho)
        design[1:] = (design[1:] - rho[:, None] * design[:-1]) * scale[:, None]
        response[1:] = (response[1:] - rho * response[:-1]) * scale
    try:
        inverse = np.linalg.inv(design.T @ design)
    except np.linalg.LinAlgError:
        return None
    coef = np.asarray(inverse @ (design.T @ response), dtype=np.float64)
    residual = response - design @ coef
    sigma2 = max(float(residual @ residual) / (n - p - 1), SCORE_ROUNDING_VARIANCE)
    return coef, np.asarray(inverse, dtype=np.float64), sigma2


def fit_diary(
    series: Mapping[str, tuple[ArrayLike, ArrayLike, ArrayLike]],
    *,
    min_variance: float = SCORE_ROUNDING_VARIANCE,
) -> DiaryFit:
    """Fit every item's scores on its step groups with one AR(1) φ shared by the items.

    `series` maps an item key to (day numbers, values, group labels) of its rated days in the
    model. φ maximises the summed restricted likelihoods (σ² profiled out per item); the joint
    observed information then gives each item's (σ², φ) covariance for its Satterthwaite df.
    Items with no residual degrees of freedom are left out.
    """
    prepared: dict[
        str, tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.intp], NDArray[np.intp]]
    ] = {}
    models: dict[str, _Ar1Regression] = {}
    for key, (day_numbers, values, groups) in series.items():
        days, y, g, labels = _prepare(day_numbers, values, groups)
        if int(y.size) - int(labels.size) < 1:
            continue
        prepared[key] = (days, y, g, labels)
        model = _Ar1Regression(days, y, g, int(labels.size))
        if model.fit(0.0)[0] > 1e-9:
            models[key] = model
    phi = 0.0
    if models:
        fitted = list(models.values())

        def deviance(value: float) -> float:
            return sum(model.deviance(value) for model in fitted)

        low, high = PHI_BOUNDS
        candidates = [(deviance(low), low), (deviance(high), high)]
        found = minimize_scalar(
            deviance, bounds=PHI_BOUNDS, method="bounded", options={"xatol": _PHI_TOLERANCE}
        )
        candidates.append((float(found.fun), float(found.x)))
        phi = min(candidates)[1]

    # Joint information: each item's (σ²_k, φ) block shares the φ row; the Schur complement of
    # the σ² block is the information left about φ.
    infos: dict[str, tuple[float, float, float]] = {}
    for key, model in models.items():
        sigma2 = model.sigma2(phi)
        if sigma2 > 0.0:
            infos[key] = model.information(phi, sigma2)
    # An item whose likelihood curves the wrong way at φ̂ (φ̂ at the bound of 0 while its own days
    # lean negative) says nothing about φ's spread: it adds no information, rather than less.
    phi_info = sum(max(i_pp - i_sp**2 / i_ss, 0.0) for i_ss, i_sp, i_pp in infos.values())
    items: dict[str, ItemNoise] = {}
    for key, (days, y, g, labels) in prepared.items():
        p = int(labels.size)
        fitted_model = models.get(key)
        raw = fitted_model.sigma2(phi) if fitted_model is not None else 0.0
        floored = raw < min_variance
        param_cov: ParamCov | None = None
        info = infos.get(key)
        if info is not None and phi_info > 0.0 and not floored:
            i_ss, i_sp, _ = info
            ratio = i_sp / i_ss
            param_cov = (
                (1.0 / i_ss + ratio**2 / phi_info, -ratio / phi_info),
                (-ratio / phi_info, 1.0 / phi_info),
            )
        items[key] = ItemNoise(
            days=days,
            y=y,
            groups=g,
            labels=labels,
            sigma2=max(raw, min_variance),
            floored=floored,
            df=int(y.size) - p,
            param_cov=param_cov,
            cov=_mean_covariance(days, g, p, phi),
        )
    return DiaryFit(
        phi=phi,
        at_bound=phi >= PHI_AT_BOUND,
        items=items,
        phi_se=math.sqrt(1.0 / phi_info) if phi_info > 0.0 else None,
    )
