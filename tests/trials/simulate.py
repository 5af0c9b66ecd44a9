"""Simulated self-trial diaries: AR(1) daily noise, missing days, an optional LDN effect."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from app.trials.design import Period, draw_order, periods


def simulated_trial(
    rng: np.random.Generator,
    *,
    pairs: int = 3,
    period_days: int = 21,
    settle_days: int = 3,
    phi: float = 0.5,
    sd: float = 12.0,
    effect: float = 0.0,
    missing: float = 0.1,
    start: date = date(2026, 1, 5),
) -> tuple[tuple[Period, ...], tuple[bool, ...], list[tuple[date, int]]]:
    """Periods, the order drawn, and one item's (day, score): LDN lowers the score by `effect`."""
    shape = periods(start, pairs=pairs, period_days=period_days, settle_days=settle_days)
    order = draw_order(pairs, coin=lambda: bool(rng.integers(2)))
    ldn = {2 * pair + (1 if first else 2) for pair, first in enumerate(order)}
    days = 2 * pairs * period_days
    noise = np.empty(days)
    noise[0] = rng.normal(0.0, sd)
    innovation = sd * np.sqrt(1.0 - phi * phi)
    for i in range(1, days):
        noise[i] = phi * noise[i - 1] + rng.normal(0.0, innovation)
    scores = []
    for i in range(days):
        if rng.random() < missing:
            continue
        period = shape[i // period_days]
        value = 50.0 + noise[i] - (effect if period.number in ldn else 0.0)
        scores.append((start + timedelta(days=i), int(np.clip(round(value), 0, 100))))
    return shape, order, scores
