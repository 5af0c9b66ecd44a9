"""A synthetic diary for benchmarks and screenshots: daily entries, dose steps, realistic noise."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlmodel import Session

from app.items import RATED_KEYS, SIDE_EFFECT_KEYS
from app.models import DiaryEntry, DoseStep, User


def seed_diary(
    session: Session, *, user: User, days: int, steps: int, end: date, seed: int = 7
) -> None:
    """`days` daily entries ending at `end`, with `steps` dose steps (the first a baseline)."""
    assert user.id is not None
    rng = random.Random(seed)
    start = end - timedelta(days=days - 1)
    step_length = max(1, days // steps)
    doses = [0.0] + [round(min(4.5, 0.5 * index), 2) for index in range(1, steps)]
    for index, dose in enumerate(doses):
        session.add(
            DoseStep(
                user_id=user.id,
                start_date=start + timedelta(days=index * step_length),
                dose_mg=dose,
                dosing_time="bedtime" if dose else None,
            )
        )
    noise = dict.fromkeys(RATED_KEYS, 0.0)
    for offset in range(days):
        if rng.random() < 0.08:
            continue  # a missed day
        day = start + timedelta(days=offset)
        effect = min(1.0, offset / days * 1.5)
        values = {}
        for key in RATED_KEYS:
            noise[key] = 0.6 * noise[key] + rng.gauss(0, 8)
            centre = 65 - 20 * effect if key not in ("sleep_quality", "mood") else 40 + 15 * effect
            values[key] = max(0, min(100, round(centre + noise[key])))
        side_effects = {key: rng.choice([0, 0, 0, 0, 1, 2]) for key in SIDE_EFFECT_KEYS}
        session.add(
            DiaryEntry(
                user_id=user.id,
                day=day,
                dose_taken=rng.random() < 0.92,
                notes="Slept badly, busy week." if rng.random() < 0.05 else None,
                ratings=values,
                side_effects=side_effects,
            )
        )
    session.commit()
