"""The diary's vocabulary (SPEC §2): rated items, side effects and their wording.

Everything that names an item — the form, the API, the analysis, the charts and the
report — reads it from here, so a wording change happens in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Polarity = Literal["lower", "higher", "neither"]


@dataclass(frozen=True)
class RatedItem:
    """One 0–100 visual analogue scale of the daily diary."""

    key: str
    label: str
    question: str
    low_anchor: str
    high_anchor: str
    better: Polarity

    @property
    def polarity_text(self) -> str:
        """Plain words for the axis of a chart: which way is better."""
        if self.better == "lower":
            return "higher is worse"
        if self.better == "higher":
            return "higher is better"
        return "neither direction is better"


RATED_ITEMS: tuple[RatedItem, ...] = (
    RatedItem(
        "pain", "Pain", "Pain today, on average", "no pain", "worst pain imaginable", "lower"
    ),
    RatedItem(
        "fatigue", "Fatigue", "Fatigue today", "no fatigue", "worst fatigue imaginable", "lower"
    ),
    RatedItem(
        "sleep_quality",
        "Sleep",
        "How well did you sleep last night?",
        "did not sleep well at all",
        "slept extremely well",
        "higher",
    ),
    RatedItem(
        "overall",
        "Overall symptoms",
        "Overall fibromyalgia symptoms today",
        "no symptoms",
        "worst imaginable",
        "lower",
    ),
    RatedItem("mood", "Mood", "Mood today", "worst mood", "best mood", "higher"),
    RatedItem("stress", "Stress", "Stress today", "no stress", "extreme stress", "lower"),
    RatedItem(
        "life_satisfaction",
        "Life satisfaction",
        "Satisfaction with life today",
        "not at all",
        "completely",
        "higher",
    ),
    RatedItem(
        "dream_vividness",
        "Dreams",
        "Dreams last night",
        "none remembered",
        "extremely vivid",
        "neither",
    ),
)
RATED_KEYS: tuple[str, ...] = tuple(item.key for item in RATED_ITEMS)
ITEMS_BY_KEY: dict[str, RatedItem] = {item.key: item for item in RATED_ITEMS}


@dataclass(frozen=True)
class SideEffect:
    """One entry of the side-effect checklist, rated 0 (none) to 3 (severe)."""

    key: str
    label: str


SIDE_EFFECTS: tuple[SideEffect, ...] = (
    SideEffect("nightmares", "Disturbing dreams"),
    SideEffect("insomnia", "Trouble sleeping"),
    SideEffect("headache", "Headache"),
    SideEffect("nausea", "Nausea"),
    SideEffect("dizziness", "Dizziness"),
    SideEffect("anxiety", "Anxiety"),
    SideEffect("other", "Something else"),
)
SIDE_EFFECT_KEYS: tuple[str, ...] = tuple(effect.key for effect in SIDE_EFFECTS)
SEVERITY_LABELS: tuple[str, ...] = ("none", "mild", "moderate", "severe")

PGIC_LABELS: dict[int, str] = {
    1: "Very much improved",
    2: "Much improved",
    3: "Minimally improved",
    4: "No change",
    5: "Minimally worse",
    6: "Much worse",
    7: "Very much worse",
}

# The form asks tolerability and the patient's global impression of change every 14 days.
CHECK_IN_EVERY_DAYS = 14

# Answers besides the rated items and side effects, in the order the API lists them.
OTHER_ANSWER_KEYS: tuple[str, ...] = (
    "other_text",
    "dose_taken",
    "dose_time",
    "dose_mg",
    "notes",
    "tolerability",
    "pgic",
)

OTHER_TEXT_MAX = 200
NOTES_MAX = 2000
