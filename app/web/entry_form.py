"""The daily entry form: turning posted fields into EntryAnswers, and errors back into words.

Field names are the item keys (SPEC §2, §2.5). A slider always posts a number, so each rated
item also posts `<key>_unanswered` while its "not answered" box is ticked; then the item is null.
The form shows the patient's tracked items; answers to items it does not show (untracked since)
are kept as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.items import Item
from app.models import DiaryEntry
from app.schemas import EntryAnswers
from app.services.entries import answers_dict
from app.web.form_numbers import plain_number, whole_number

FORM_ERROR = "__form__"
DOSE_MESSAGE = "Use a dose from 0 to 50 mg, for example 1.5"

_FRIENDLY = {
    "less_than_equal": "must be {le} or less",
    "greater_than_equal": "must be {ge} or more",
    "string_too_long": "is too long: at most {max_length} characters",
    "string_pattern_mismatch": "must be a time like 21:30",
}


# Each other field's name in the list of problems at the top of the form, and the control the
# list links to, in the order the form shows them (after the items).
_FIELDS: dict[str, tuple[str, str]] = {
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


def problems(
    errors: dict[str, str], *, rated: Sequence[Item] = (), effects: Sequence[Item] = ()
) -> list[Problem]:
    """The form's errors in form order, each linking to its field (for the summary on top)."""
    fields = {
        **{item.key: (item.label, item.key) for item in rated},
        **{effect.key: (effect.label, f"{effect.key}-0") for effect in effects},
        **_FIELDS,
    }
    return [
        Problem(label, f"#{target}", errors[key])
        for key, (label, target) in fields.items()
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


def _whole_number(raw: str, key: str, errors: dict[str, str], low: int, high: int) -> int | None:
    if raw == "":
        return None
    number = whole_number(raw)
    if number is None:
        errors[key] = f"Use a whole number from {low} to {high}"
    return number


def parse_entry_form(
    form: FormData,
    *,
    rated: Sequence[Item],
    effects: Sequence[Item],
    kept: DiaryEntry | None = None,
) -> ParsedForm:
    """Validate a posted entry form with the same rules as the API.

    `rated` and `effects` are the items the form showed; `kept` the day as saved, whose
    answers to items the form did not show stay as they are.
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    data: dict[str, Any] = {}

    shown = {item.key for item in (*rated, *effects)}
    ratings: dict[str, Any] = {}
    side_effects: dict[str, Any] = {}
    if kept is not None:
        ratings.update({k: v for k, v in (kept.ratings or {}).items() if k not in shown})
        side_effects.update({k: v for k, v in (kept.side_effects or {}).items() if k not in shown})

    # Without JavaScript nothing unticks "Not answered" when a slider moves: a slider moved
    # with its box still ticked would be dropped without a word. The form asks instead, and
    # sent again as it stands, it leaves the item unanswered. (With JavaScript, a moved
    # slider whose box is ticked again was un-answered on purpose.)
    no_script = "no_script" in form
    for key in (*(item.key for item in rated), "tolerability"):
        raw = _text(form, key)
        unanswered = f"{key}_unanswered" in form
        values[key] = None if unanswered else raw
        position = whole_number(raw)
        if unanswered and position is not None and 0 <= position <= 100:
            values[f"{key}_slider"] = position
            start = form.get(f"{key}_start")
            if no_script and isinstance(start, str) and raw != start:
                errors[key] = (
                    f"You moved this slider to {position}, but its “Not answered” box is "
                    "still ticked. Untick the box to keep the answer, or save again to leave "
                    "it unanswered."
                )
        elif not unanswered:
            number = _whole_number(raw, key, errors, 0, 100)
            if key == "tolerability":
                data[key] = number
            else:
                ratings[key] = number
    data["ratings"] = ratings

    # "No side effects" in one tap: every effect not rated otherwise is none (0).
    none_at_all = "no_side_effects" in form
    values["no_side_effects"] = none_at_all
    for effect in effects:
        raw = _text(form, effect.key)
        values[effect.key] = raw
        if raw == "" and none_at_all:
            raw = "0"
        side_effects[effect.key] = _whole_number(raw, effect.key, errors, 0, 3)
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
    if "other" not in shown and kept is not None:
        data["other_text"] = kept.other_text  # the form did not ask about it

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
        loc = [part for part in error["loc"] if part not in ("side_effects", "ratings")]
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


def no_side_effects(values: dict[str, Any], effects: Sequence[Item]) -> bool:
    """Whether the form shows "No side effects" ticked: as sent, or every effect saved as none."""
    return bool(values.get("no_side_effects")) or (
        bool(effects) and all(values.get(effect.key) == "0" for effect in effects)
    )


def side_effects_open(
    values: dict[str, Any], errors: dict[str, str], effects: Sequence[Item]
) -> bool:
    """The list of side effects opens when one was rated above none or needs another look."""
    keys = [effect.key for effect in effects]
    rated = any(values.get(key) in ("1", "2", "3") for key in keys)
    return rated or any(key in errors for key in (*keys, "other_text"))


def form_values(entry: DiaryEntry | None) -> dict[str, Any]:
    """A saved entry as the form shows it (None for an unanswered item)."""
    if entry is None:
        return {}
    values = answers_dict(entry)
    ratings = values.pop("ratings")
    side_effects = values.pop("side_effects")
    values.update(ratings)
    values.update({key: str(value) for key, value in side_effects.items()})
    values["dose_taken"] = {True: "yes", False: "no"}.get(values["dose_taken"], "")
    values["pgic"] = "" if values["pgic"] is None else str(values["pgic"])
    values["dose_mg"] = "" if values["dose_mg"] is None else f"{values['dose_mg']:g}"
    return values
