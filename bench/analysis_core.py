"""Benchmark: compare_steps over 5 years of daily entries with 12 dose steps (SPEC §11: ≤ 50 ms).

Run from the repository root: `python -m bench.analysis_core` (or `python bench/analysis_core.py`).
Prints the median wall time of compare_steps; nothing is asserted.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

# Running the file directly puts bench/ on sys.path, not the repository root that holds app/.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.analysis import DayRecord, StepInput, compare_steps
from app.items import RATED_KEYS, SIDE_EFFECT_KEYS

DAYS = 1826
STEPS = 12
RUNS = 30


def synthetic_diary(seed: int = 2013) -> tuple[list[DayRecord], list[StepInput], date]:
    """Five years of daily entries: AR(1) symptoms, a few missing answers, 12 dose steps."""
    rng = random.Random(seed)
    first = date(2020, 1, 1)
    step_length = DAYS // STEPS
    # Two dose-0 steps pooled into the baseline, then rising and falling doses and one pause.
    doses = [0.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.5, 0.0, 3.0, 4.5, 6.0]
    steps = [
        StepInput(step_id=i + 1, start_date=first + timedelta(days=i * step_length), dose_mg=dose)
        for i, dose in enumerate(doses)
    ]
    noise = dict.fromkeys(RATED_KEYS, 0.0)
    days = []
    for offset in range(DAYS):
        for key in RATED_KEYS:
            noise[key] = 0.6 * noise[key] + rng.gauss(0.0, 8.0)
        values: dict[str, int | None] = {
            key: None if rng.random() < 0.05 else max(0, min(100, round(50 + noise[key])))
            for key in RATED_KEYS
        }
        effects: dict[str, int | None] = {
            key: rng.choice((0, 0, 0, 1, 2, 3, None)) for key in SIDE_EFFECT_KEYS
        }
        days.append(
            DayRecord(
                day=first + timedelta(days=offset),
                values=values,
                side_effects=effects,
                dose_taken=rng.random() < 0.95,
                retrospective=rng.random() < 0.1,
            )
        )
    return days, steps, first + timedelta(days=DAYS - 1)


def main() -> None:
    """Time compare_steps and print the median."""
    days, steps, today = synthetic_diary()
    compare_steps(days, steps, today=today)  # warm-up: imports, caches
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        compare_steps(days, steps, today=today)
        timings.append((time.perf_counter() - started) * 1000.0)
    print(
        f"compare_steps, {len(days)} daily entries, {len(steps)} steps, {len(RATED_KEYS)} items: "
        f"median {statistics.median(timings):.1f} ms "
        f"(min {min(timings):.1f}, max {max(timings):.1f}, {RUNS} runs)"
    )


if __name__ == "__main__":
    main()
