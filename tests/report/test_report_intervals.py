"""The report prints a change's interval so that it agrees with the verdict beside it."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from app.analysis import DayRecord, StepInput, compare_steps
from app.items import ITEMS_BY_KEY
from app.services.report import CHART_ITEMS, _key_number, _step_row


def test_an_improved_change_never_prints_an_interval_reaching_0() -> None:
    # Pain about 6 points lower on 1.5 mg: the interval is −15.4 to −0.6, "improved".
    rng = np.random.default_rng(1)
    values = np.r_[50 + rng.normal(0, 8, 14), 44 + rng.normal(0, 8, 24)]
    pain = np.clip(np.round(values), 0, 100).astype(int)
    first = date(2026, 1, 1)
    records = [DayRecord(first + timedelta(days=i), {"pain": int(v)}) for i, v in enumerate(pain)]
    steps = [StepInput(1, first, 0.0), StepInput(2, first + timedelta(days=14), 1.5)]
    comparison = compare_steps(records, steps, today=first + timedelta(days=37))
    baseline, step = comparison.steps
    stats = step.items["pain"]
    assert stats.diff_ci95 == (-15.4, -0.6) and stats.verdict == "improved"

    key = _key_number(ITEMS_BY_KEY["pain"], baseline, stats)
    row = _step_row(step, None, [])
    cell = row.cells[[item.key for item in CHART_ITEMS].index("pain")]

    # Rounded out to whole points the upper end would be 0: it keeps its one decimal.
    assert key.points.endswith("(−16 to −0.6)"), key.points
    assert cell.interval == "−16 to −0.6"
