"""The catalogue of diary items (SPEC §2.5): built-ins, packs, and the shape of own items.

One `Item` type for every question the diary can ask. Pure data: no database, no I/O. What a
patient tracks, in which order, and their own items live in `app.items.patient`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

Polarity = Literal["lower", "higher", "neither"]
Kind = Literal["rated", "side_effect"]
ItemSource = Literal["builtin", "pack", "custom"]

# Keys are short, lower-case, and safe as form field names, CSV headers and FHIR codes.
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
CUSTOM_PREFIX = "custom_"
SEVERITY_LABELS: tuple[str, ...] = ("none", "mild", "moderate", "severe")


@dataclass(frozen=True)
class Item:
    """One question of the diary: a 0–100 scale ("rated") or a 0–3 side effect.

    `question` is what the form asks (the API calls it `label`); `label` is the short name
    tables, charts and the report use.
    """

    key: str
    label: str
    question: str
    low_anchor: str = ""
    high_anchor: str = ""
    better: Polarity = "lower"
    kind: Kind = "rated"
    source: ItemSource = "builtin"
    pack: str | None = None

    @property
    def polarity_text(self) -> str:
        """Plain words for the axis of a chart: which way is better."""
        if self.better == "lower":
            return "higher is worse"
        if self.better == "higher":
            return "higher is better"
        return "neither direction is better"

    @property
    def is_rated(self) -> bool:
        return self.kind == "rated"

    @property
    def scale_text(self) -> str:
        """The scale in words, as FHIR and the doctor read it."""
        if self.is_rated:
            return f"0 {self.low_anchor}, 100 {self.high_anchor}"
        return "0 none, 1 mild, 2 moderate, 3 severe"


@dataclass(frozen=True)
class Pack:
    """A set of items for one condition (or extra side effects) the patient can track at once."""

    key: str
    name: str
    description: str
    items: tuple[Item, ...]


def _rated(
    key: str, label: str, question: str, low: str, high: str, better: Polarity, pack: str | None
) -> Item:
    return Item(
        key=key,
        label=label,
        question=question,
        low_anchor=low,
        high_anchor=high,
        better=better,
        source="builtin" if pack is None else "pack",
        pack=pack,
    )


def _effect(key: str, label: str, pack: str | None = None) -> Item:
    return Item(
        key=key,
        label=label,
        question=label,
        better="lower",
        kind="side_effect",
        source="builtin" if pack is None else "pack",
        pack=pack,
    )


OVERALL_QUESTION = "Overall symptoms today"

BUILTIN_RATED: tuple[Item, ...] = (
    _rated(
        "pain", "Pain", "Pain today, on average", "no pain", "worst pain imaginable", "lower", None
    ),
    _rated(
        "fatigue",
        "Fatigue",
        "Fatigue today",
        "no fatigue",
        "worst fatigue imaginable",
        "lower",
        None,
    ),
    _rated(
        "sleep_quality",
        "Sleep",
        "How well did you sleep last night?",
        "did not sleep well at all",
        "slept extremely well",
        "higher",
        None,
    ),
    _rated(
        "overall",
        "Overall symptoms",
        OVERALL_QUESTION,
        "no symptoms",
        "worst imaginable",
        "lower",
        None,
    ),
    _rated("mood", "Mood", "Mood today", "worst mood", "best mood", "higher", None),
    _rated("stress", "Stress", "Stress today", "no stress", "extreme stress", "lower", None),
    _rated(
        "life_satisfaction",
        "Life satisfaction",
        "Satisfaction with life today",
        "not at all",
        "completely",
        "higher",
        None,
    ),
    _rated(
        "dream_vividness",
        "Dreams",
        "Dreams last night",
        "none remembered",
        "extremely vivid",
        "neither",
        None,
    ),
)

BUILTIN_SIDE_EFFECTS: tuple[Item, ...] = (
    _effect("nightmares", "Disturbing dreams"),
    _effect("insomnia", "Trouble sleeping"),
    _effect("headache", "Headache"),
    _effect("nausea", "Nausea"),
    _effect("dizziness", "Dizziness"),
    _effect("anxiety", "Anxiety"),
    _effect("other", "Something else"),
)

PACKS: tuple[Pack, ...] = (
    Pack(
        "me_cfs",
        "ME/CFS and long COVID",
        "Crashes after effort, brain fog, symptoms on standing, and how hard you pushed.",
        (
            _rated(
                "pem",
                "PEM (crash)",
                "Post-exertional malaise today: a crash after effort",
                "no crash",
                "worst crash imaginable",
                "lower",
                "me_cfs",
            ),
            _rated(
                "brain_fog",
                "Brain fog",
                "Brain fog today: trouble thinking or finding words",
                "clear head",
                "worst brain fog imaginable",
                "lower",
                "me_cfs",
            ),
            _rated(
                "orthostatic",
                "Standing up",
                "Symptoms on standing up today (dizzy, racing heart, faint)",
                "no symptoms",
                "worst imaginable",
                "lower",
                "me_cfs",
            ),
            _rated(
                "exertion",
                "Exertion",
                "How far beyond your limits did you go yesterday?",
                "stayed well within my limits",
                "far beyond my limits",
                "neither",
                "me_cfs",
            ),
        ),
    ),
    Pack(
        "autoimmune",
        "Autoimmune conditions (MS, rheumatoid arthritis, lupus, and others)",
        "Morning stiffness and feeling ill or feverish.",
        (
            _rated(
                "joint_stiffness",
                "Stiffness",
                "Stiffness this morning",
                "no stiffness",
                "worst stiffness imaginable",
                "lower",
                "autoimmune",
            ),
            _rated(
                "flu_like",
                "Feeling ill",
                "Feeling ill or feverish today",
                "not at all",
                "extremely",
                "lower",
                "autoimmune",
            ),
        ),
    ),
    Pack(
        "gut",
        "Gut (Crohn's disease, ulcerative colitis, IBS)",
        "Belly pain and bowel urgency.",
        (
            _rated(
                "abdominal_pain",
                "Belly pain",
                "Belly pain today",
                "no pain",
                "worst pain imaginable",
                "lower",
                "gut",
            ),
            _rated(
                "bowel_urgency",
                "Bowel urgency",
                "Bowel urgency today",
                "none",
                "extreme urgency",
                "lower",
                "gut",
            ),
        ),
    ),
    Pack(
        "side_effects",
        "More side effects",
        "Other effects some people notice on LDN.",
        (
            _effect("bloating_diarrhoea", "Bloating or diarrhoea", "side_effects"),
            _effect("mood_swings", "Mood swings", "side_effects"),
            _effect("libido_change", "Change in sex drive", "side_effects"),
            _effect("palpitations", "Racing or pounding heart", "side_effects"),
        ),
    ),
)
PACKS_BY_KEY: dict[str, Pack] = {pack.key: pack for pack in PACKS}

# Every item the app itself defines, in the order a new diary lists them.
FIXED_ITEMS: tuple[Item, ...] = (
    *BUILTIN_RATED,
    *(item for pack in PACKS for item in pack.items if item.is_rated),
    *BUILTIN_SIDE_EFFECTS,
    *(item for pack in PACKS for item in pack.items if not item.is_rated),
)
FIXED_BY_KEY: dict[str, Item] = {item.key: item for item in FIXED_ITEMS}

# What a patient may say they take LDN for (onboarding), and the pack that fits each.
CONDITIONS: tuple[tuple[str, str, str | None], ...] = (
    ("fibromyalgia", "Fibromyalgia", None),
    ("me_cfs", "ME/CFS", "me_cfs"),
    ("long_covid", "Long COVID", "me_cfs"),
    ("ms", "Multiple sclerosis (MS)", "autoimmune"),
    ("autoimmune", "Another autoimmune condition", "autoimmune"),
    ("crohns", "Crohn's disease or another gut condition", "gut"),
    ("chronic_pain", "Chronic pain", None),
)
CONDITION_NAMES: dict[str, str] = {
    "fibromyalgia": "fibromyalgia",
    "me_cfs": "ME/CFS",
    "long_covid": "long COVID",
    "ms": "MS",
    "autoimmune": "autoimmune",
    "crohns": "Crohn's",
    "chronic_pain": "chronic pain",
}
CONDITION_PACKS: dict[str, str | None] = {key: pack for key, _, pack in CONDITIONS}
CONDITION_MAX = 60


def overall_item(condition: str | None) -> Item:
    """The "overall" item named after the patient's condition, when they gave one."""
    base = FIXED_BY_KEY["overall"]
    if not condition:
        return base
    return replace(base, question=f"Overall {condition} symptoms today")


def custom_key(label: str, taken: set[str]) -> str:
    """A new own item's key: custom_ and the label in lower-case letters, made unique."""
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:40].strip("_") or "item"
    key = f"{CUSTOM_PREFIX}{slug}"
    number = 2
    while key in taken:
        key = f"{CUSTOM_PREFIX}{slug}_{number}"
        number += 1
    return key
