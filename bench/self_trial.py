"""Simulation figures of the blinded self-trial (SPEC §14, issue 15).

Seeded simulated trials (AR(1) daily noise, SD 12 points, 10% of days missing, settle days
left out) analysed exactly as the app does (app/trials/analysis.py). Prints:
    validity: for every attainable α, the share of no-effect trials with p ≤ α
    coverage: the share of 95% intervals holding the true difference (no effect, and 20 points)
    power:    the share of trials whose interval excludes 0 with a true 10/15/20-point effect
Run: .venv/bin/python bench/self_trial.py [trials]   (2000 by default; about a minute)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.trials.analysis import item_result  # noqa: E402
from tests.trials.simulate import simulated_trial  # noqa: E402


def run(trials: int, seed: int, **kwargs: float) -> tuple[list[float], float, float]:
    rng = np.random.default_rng(seed)
    effect = float(kwargs.get("effect", 0.0))
    ps, covered, excludes = [], 0, 0
    for _ in range(trials):
        shape, order, scores = simulated_trial(rng, **kwargs)  # type: ignore[arg-type]
        result = item_result("pain", "lower", scores, shape, order)
        assert result.p_value is not None and result.ci95 is not None
        ps.append(result.p_value)
        low, high = result.ci95
        covered += low <= -effect <= high
        excludes += high < 0 or low > 0
    return ps, covered / trials, excludes / trials


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(f"{trials} simulated trials per line, daily SD 12, 10% days missing, 3 settle days")
    for pairs, days in ((3, 21), (5, 14)):
        for phi in (0.0, 0.3, 0.6):
            ps, coverage, _ = run(trials, seed=100 + pairs + int(10 * phi), pairs=pairs,
                                  period_days=days, phi=phi)  # fmt: skip
            worst = max(
                sum(p <= j / 2**pairs + 1e-12 for p in ps) / trials - j / 2**pairs
                for j in range(1, 2**pairs + 1)
            )
            low = [sum(p <= j / 2**pairs + 1e-12 for p in ps) / trials for j in (1, 2)]
            print(
                f"no effect, {pairs} pairs of {days} days, phi={phi}: coverage {coverage:.3f}; "
                f"P(p<=1/{2**pairs})={low[0]:.4f}, P(p<=2/{2**pairs})={low[1]:.4f}, "
                f"largest share(p<=a)-a over attainable a: {worst:+.4f}"
            )
    for effect in (10.0, 15.0, 20.0):
        _, coverage, power = run(trials, seed=200 + int(effect), effect=effect, phi=0.5)
        print(
            f"true {effect:.0f}-point effect, 3 pairs of 21 days, phi=0.5: interval excludes 0 in "
            f"{power:.3f}, covers the truth {coverage:.3f}"
        )


if __name__ == "__main__":
    main()
