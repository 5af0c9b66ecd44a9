"""Plain inputs of the analysis: one diary day and one dose step, free of any database type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class DayRecord:
    """One diary day as the analysis needs it (SPEC §2); a missing key means not answered."""

    day: date
    # Rated item key -> 0..100, or None when not answered.
    values: Mapping[str, int | None] = field(default_factory=dict)
    # Side-effect key -> severity 0..3, or None when not answered.
    side_effects: Mapping[str, int | None] = field(default_factory=dict)
    dose_taken: bool | None = None
    retrospective: bool = False


@dataclass(frozen=True)
class StepInput:
    """One dose step as the patient scheduled it (SPEC §3)."""

    step_id: int
    start_date: date
    dose_mg: float
    dosing_time: str | None = None
