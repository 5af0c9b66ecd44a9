"""The interval engine of November 2026, kept unchanged as the reference the simulations beat.

SPEC §4.1 asks the current engine to be at least 20% narrower than this one at φ ≥ 0.5 with the
same coverage; tests/analysis/test_analysis_power.py measures both on the same diaries. This is
app/analysis/intervals.py as it stood then (one φ per item by REML, Satterthwaite df); only this
docstring differs.
"""

from __future__ import annotations

import math
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
