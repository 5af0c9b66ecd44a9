"""The diary's items (SPEC §2, §2.5): the catalogue, the patient's own set, their wording.

Everything that names an item — the form, the API, the analysis, the charts, the report and
the exports — reads it from here, so a wording change happens in one place. `catalogue` holds
the built-ins and packs; `patient` a patient's own items, tracked set and order.
"""

from __future__ import annotations

from app.items.catalogue import (
    BUILTIN_RATED,
    BUILTIN_SIDE_EFFECTS,
    FIXED_BY_KEY,
    FIXED_ITEMS,
    KEY_PATTERN,
    PACKS,
    PACKS_BY_KEY,
    SEVERITY_LABELS,
    Item,
    Pack,
    Polarity,
)

# The built-in items (SPEC §2.1, §2.2): the top-level keys of the API's entries.
RatedItem = Item
SideEffect = Item
RATED_ITEMS: tuple[Item, ...] = BUILTIN_RATED
RATED_KEYS: tuple[str, ...] = tuple(item.key for item in RATED_ITEMS)
ITEMS_BY_KEY: dict[str, Item] = {item.key: item for item in RATED_ITEMS}
SIDE_EFFECTS: tuple[Item, ...] = BUILTIN_SIDE_EFFECTS
SIDE_EFFECT_KEYS: tuple[str, ...] = tuple(effect.key for effect in SIDE_EFFECTS)

__all__ = [
    "FIXED_BY_KEY",
    "FIXED_ITEMS",
    "ITEMS_BY_KEY",
    "KEY_PATTERN",
    "PACKS",
    "PACKS_BY_KEY",
    "RATED_ITEMS",
    "RATED_KEYS",
    "SEVERITY_LABELS",
    "SIDE_EFFECTS",
    "SIDE_EFFECT_KEYS",
    "Item",
    "Pack",
    "Polarity",
    "RatedItem",
    "SideEffect",
]

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
