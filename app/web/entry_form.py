"""The daily entry form: turning posted fields into EntryAnswers, and errors back into words.

Field names are the SPEC §2 keys. A slider always posts a number, so each rated item also
posts `<key>_unanswered` while its "not answered" box is ticked; then the item is null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.items import RATED_ITEMS, RATED_KEYS, SIDE_EFFECT_KEYS, SIDE_EFFECTS
from app.models import DiaryEntry
from app.schemas import EntryAnswers
from app.services.entries import answers_dict

SCORE_KEYS = (*RATED_KEYS, "tolerability")
FORM_ERROR = "__form__"
DOSE_MESSAGE = "Use a dose from 0 to 50 mg, for example 1.5"

_FRIENDLY = {
    "less_than_equal": "must be {le} or less",
    "greater_than_equal": "must be {ge} or more",
    "string_too_long": "is too long: at most {max_length} characters",
    "string_pattern_mismatch": "must be a time like 21:30",
}


# Each field's name in the list of problems at the top of the form, and the control the
# list links to, in the order the form shows them.
_FIELDS: dict[str, tuple[str, str]] = {
    **{item.key: (item.label, item.key) for item in RATED_ITEMS},
    **{effect.key: (effect.label, f"{effect.key}-0") for effect in SIDE_EFFECTS},
    "other_text": ("What the other side effect was", "other_text"),
    "dose_taken": ("Whether you took your LDN", "dose_taken-yes"),
    "dose_time": ("Time of the dose", "dose_time"),
    "dose_mg": ("The different dose", "dose_mg"),
    "notes": ("Notes", "notes"),
    "tolerability": ("How well you tolerate LDN", "tolerability"),
    "pgic": ("Change since starting LDN", "pgic-1"),
}


@dataclass(frozen=True)
class Problem:
    label: str
    href: str
    message: str


def problems(errors: dict[str, str]) -> list[Problem]:
    """The form's errors in form order, each linking to its field (for the summary on top)."""
    return [
        Problem(label, f"#{target}", errors[key])
        for key, (label, target) in _FIELDS.items()
        if key in errors
    ]


@dataclass
class ParsedForm:
    answers: EntryAnswers | None
    errors: dict[str, str] = field(default_factory=dict)
    # What the patient sent, as text, to put back in the form beside any error.
    values: dict[str, Any] = field(default_factory=dict)


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


# Digits 0-9 as typed on a keyboard: Python's int() and float() would also read "1_0", "٤٠"
# or "nan", which no patient means as a number.
_WHOLE = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"[0-9]*[.,]?[0-9]+")


def plain_number(text: str) -> float | None:
    """A number typed as 1.5, 1,5 or .5; None for anything else."""
    return float(text.replace(",", ".")) if _DECIMAL.fullmatch(text) else None


def _whole_number(raw: str, key: str, errors: dict[str, str], low: int, high: int) -> int | None:
    if raw == "":
        return None
    if not _WHOLE.fullmatch(raw):
        errors[key] = f"Use a whole number from {low} to {high}"
        return None
    return int(raw)


def parse_entry_form(form: FormData) -> ParsedForm:
    """Validate a posted entry form with the same rules as the API."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    data: dict[str, Any] = {}

    for key in SCORE_KEYS:
        raw = _text(form, key)
        unanswered = f"{key}_unanswered" in form
        values[key] = None if unanswered else raw
        if not unanswered:
            data[key] = _whole_number(raw, key, errors, 0, 100)

    # "No side effects" in one tap: every effect not rated otherwise is none (0).
    none_at_all = "no_side_effects" in form
    values["no_side_effects"] = none_at_all
    side_effects: dict[str, Any] = {}
    for key in SIDE_EFFECT_KEYS:
        raw = _text(form, key)
        values[key] = raw
        if raw == "" and none_at_all:
            raw = "0"
        side_effects[key] = _whole_number(raw, key, errors, 0, 3)
    data["side_effects"] = side_effects

    raw_taken = _text(form, "dose_taken")
    values["dose_taken"] = raw_taken
    if raw_taken not in ("yes", "no", ""):
        errors["dose_taken"] = "Choose yes, no or not answered"
    data["dose_taken"] = {"yes": True, "no": False}.get(raw_taken)

    raw_mg = _text(form, "dose_mg")
    values["dose_mg"] = raw_mg
    if raw_mg:
        data["dose_mg"] = plain_number(raw_mg)
        if data["dose_mg"] is None:
            errors["dose_mg"] = DOSE_MESSAGE

    raw_pgic = _text(form, "pgic")
    values["pgic"] = raw_pgic
    data["pgic"] = _whole_number(raw_pgic, "pgic", errors, 1, 7)

    for key in ("dose_time", "notes", "other_text"):
        raw_value = form.get(key)
        values[key] = raw_value if isinstance(raw_value, str) else ""
        data[key] = values[key]

    # The model checks the rest even when some fields could not be read, so every problem is
    # listed at once rather than one round at a time (those fields are None here).
    try:
        answers = EntryAnswers.model_validate(data)
    except ValidationError as invalid:
        checked = _messages(invalid)
        if errors:
            checked.pop(FORM_ERROR, None)  # "answer at least one": they did, unreadably
        return ParsedForm(answers=None, errors={**checked, **errors}, values=values)
    if errors:
        return ParsedForm(answers=None, errors=errors, values=values)
    return ParsedForm(answers=answers, values=values)


def _messages(invalid: ValidationError) -> dict[str, str]:
    messages: dict[str, str] = {}
    for error in invalid.errors():
        loc = [part for part in error["loc"] if part != "side_effects"]
        key = str(loc[0]) if loc else FORM_ERROR
        template = _FRIENDLY.get(error["type"])
        if key == "dose_mg" and error["type"] != "value_error":
            text = DOSE_MESSAGE  # out of range or not finite; decimals have their own words
        elif template:
            text = "This " + template.format(**error.get("ctx", {}))
        else:
            text = str(error["msg"]).removeprefix("Value error, ")
        messages.setdefault(key, text)
    return messages


def no_side_effects(values: dict[str, Any]) -> bool:
    """Whether the form shows "No side effects" ticked: as sent, or every effect saved as none."""
    return bool(values.get("no_side_effects")) or all(
        values.get(key) == "0" for key in SIDE_EFFECT_KEYS
    )


def side_effects_open(values: dict[str, Any], errors: dict[str, str]) -> bool:
    """The list of side effects opens when one was rated above none or needs another look."""
    rated = any(values.get(key) in ("1", "2", "3") for key in SIDE_EFFECT_KEYS)
    return rated or any(key in errors for key in (*SIDE_EFFECT_KEYS, "other_text"))


def form_values(entry: DiaryEntry | None) -> dict[str, Any]:
    """A saved entry as the form shows it (None for an unanswered item)."""
    if entry is None:
        return {}
    values = answers_dict(entry)
    values["dose_taken"] = {True: "yes", False: "no"}.get(values["dose_taken"], "")
    for key in SIDE_EFFECT_KEYS:
        values[key] = "" if values[key] is None else str(values[key])
    values["pgic"] = "" if values["pgic"] is None else str(values["pgic"])
    values["dose_mg"] = "" if values["dose_mg"] is None else f"{values['dose_mg']:g}"
    return values
