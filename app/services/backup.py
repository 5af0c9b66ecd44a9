"""The patient's own copy of the diary (SPEC §10): the JSON backup, its import, and CSV.

The backup holds every stored field of the dose steps, the days and their earlier versions,
so a backup imported into an empty account gives back the same diary. Importing validates
the whole file first with the API's own rules, plans what will change (the preview), and
then writes all of it in one transaction or nothing. docs/backup-format.md describes the file.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import stepwise_json
from app.config import Settings
from app.db import PreparedRows, prepare_rows, worker_engine
from app.items import KEY_PATTERN, RATED_KEYS, SIDE_EFFECT_KEYS
from app.items import patient as items
from app.items.catalogue import CUSTOM_PREFIX
from app.models import (
    DiaryEntry,
    DosePlan,
    DoseStep,
    EntryRevision,
    ReminderSettings,
    StepDecision,
    User,
    utcnow,
)
from app.reminders import store as reminder_store
from app.schemas import (
    DatedEntryAnswers,
    DoseForm,
    DoseStepCreate,
    DosingTime,
    EntryAnswers,
    MgPerMl,
    RemindersSettingsIn,
    StepChoice,
    _storable_text,
)
from app.services import dose_plan, entries
from app.services.dose_steps import format_day, format_mg, list_steps, step_in_force
from app.services.revisions import as_utc
from app.trials import service as self_trials
from app.trials.schemas import BackupSelfTrial
from app.workers import IMPORT_CHECK_TIMEOUT_SECONDS, IMPORTS

FORMAT = "ldn-diary-backup"
# Version 2 added `items` (own items, tracked set, condition) and `ratings`; version 1 files
# (the eight built-in items at the top level of each day) still import.
VERSION = 2
READABLE_VERSIONS = (1, 2)
LISTS = ("dose_steps", "entries", "revisions", "step_decisions", "self_trials")
# The titration plan and the reminder times (SPEC §13): one object each, or null.
OBJECTS = ("dose_plan", "reminders")
TOP_LEVEL_KEYS = frozenset(
    {
        "format",
        "version",
        "exported_at",
        "account",
        "items",
        "provenance_seal",
        *LISTS,
        *OBJECTS,
    }
)
# A file larger than this is refused before it is read: five years of daily entries, each
# edited a few times, come to about 4 MB.
MAX_IMPORT_BYTES = 10 * 1024 * 1024
# More errors than this are summed up in one line: nobody reads a thousand of them.
MAX_REPORTED_ERRORS = 100

SourceName = Literal["web", "api", "sync", "import"]
# Why a version stopped being current (docs/backup-format.md).
RevisionReason = Literal["edited", "superseded", "deleted", "restored", "imported"]
Day = date
Row = TypeVar("Row", bound=BaseModel)
# The answers of a day, without the device fields (an import is not a device's edit).
_ANSWER_FIELDS = frozenset(EntryAnswers.model_fields) - {"client_id", "client_edited_at"}


# ---------------------------------------------------------------------------------------------
# The rows of the file: the API's rules plus the stored fields a backup also carries.


def _utc_moment(value: datetime) -> datetime:
    """A moment in UTC (no offset means UTC); refuses ones that leave the calendar in UTC."""
    try:
        return as_utc(value)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before year 1 in UTC
        raise ValueError("Use a real date and time, for example 2026-03-10T21:30:00Z") from None


Moment = Annotated[datetime, AfterValidator(_utc_moment)]


class BackupDoseStep(DoseStepCreate):
    created_at: Moment | None = None
    updated_at: Moment | None = None


class BackupDosePlan(BaseModel):
    """The plan that made the planned steps, and the patient's own hold rule."""

    model_config = ConfigDict(extra="forbid")

    template: Literal["half_mg_weekly", "half_mg_fortnightly", "one_and_a_half_steps"] | None = None
    start_date: Day | None = None
    start_mg: Annotated[float, Field(strict=True, gt=0, le=50, allow_inf_nan=False)] | None = None
    step_mg: Annotated[float, Field(strict=True, gt=0, le=50, allow_inf_nan=False)] | None = None
    every_days: Annotated[int, Field(strict=True, ge=1, le=90)] | None = None
    target_mg: Annotated[float, Field(strict=True, gt=0, le=50, allow_inf_nan=False)] | None = None
    dosing_time: DosingTime | None = None
    form: DoseForm | None = None
    mg_per_ml: MgPerMl | None = None
    hold_rule: Annotated[str, Field(max_length=500)] | None = None

    _storable = field_validator("hold_rule")(_storable_text)


class BackupStepDecision(BaseModel):
    """A step-day answer, with the doses it was about."""

    model_config = ConfigDict(extra="forbid")

    decided_on: Day
    choice: StepChoice
    planned_mg: Annotated[float, Field(strict=True, ge=0, le=50, allow_inf_nan=False)]
    dose_mg: Annotated[float, Field(strict=True, ge=0, le=50, allow_inf_nan=False)]
    days: Annotated[int, Field(strict=True, ge=1, le=90)] | None = None
    created_at: Moment | None = None


class BackupEntry(DatedEntryAnswers):
    source: SourceName = "import"
    retrospective: StrictBool = False
    created_at: Moment | None = None
    updated_at: Moment | None = None


class RevisionData(EntryAnswers):
    """An earlier version of a day, in the shape `entries.entry_snapshot` keeps."""

    date: Day | None = None
    source: SourceName | None = None

    @model_validator(mode="after")
    def _something_answered(self) -> RevisionData:
        # Kept versions are taken as they were; a restore checks them again.
        return self


class BackupOwnItem(BaseModel):
    """An own item's definition (SPEC §2.5), as `items.own` carries it."""

    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, StringConstraints(pattern=KEY_PATTERN, max_length=64)]
    kind: Literal["rated", "side_effect"] = "rated"
    label: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    low_anchor: Annotated[str, StringConstraints(max_length=60)] = ""
    high_anchor: Annotated[str, StringConstraints(max_length=60)] = ""
    better: Literal["lower", "higher", "neither"] = "lower"
    hidden: StrictBool = False

    @model_validator(mode="after")
    def _custom_key(self) -> BackupOwnItem:
        if not self.key.startswith(CUSTOM_PREFIX):
            raise ValueError(f"an own item's key starts with {CUSTOM_PREFIX}")
        return self


class BackupItems(BaseModel):
    """The patient's items: what they take LDN for, own items, and the tracked set in order."""

    model_config = ConfigDict(extra="forbid")

    condition: Annotated[str, StringConstraints(max_length=60)] | None = None
    own: list[BackupOwnItem] = []
    tracked: list[Annotated[str, StringConstraints(pattern=KEY_PATTERN, max_length=64)]] | None = (
        None
    )
    # The item the summaries lead with, chosen by the patient (none: pain).
    primary_item: Annotated[str, StringConstraints(pattern=KEY_PATTERN, max_length=64)] | None = (
        None
    )


class BackupRevision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: Day
    data: dict[str, Any]
    source: SourceName
    saved_at: Moment
    replaced_at: Moment
    reason: RevisionReason


# ---------------------------------------------------------------------------------------------
# Export


def _stamp(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


def _entry_row(entry: DiaryEntry) -> dict[str, Any]:
    values = entries.answers_dict(entry)
    row: dict[str, Any] = {"date": entry.day.isoformat()}
    # The built-in items at the top level too, as version 1 files and older readers have them.
    row.update({key: values["ratings"].get(key) for key in RATED_KEYS})
    row["ratings"] = values["ratings"]
    row["side_effects"] = values["side_effects"]
    for key in ("other_text", "dose_taken", "dose_time", "dose_mg", "notes"):
        row[key] = values[key]
    row["tolerability"] = values["tolerability"]
    row["pgic"] = values["pgic"]
    row["source"] = entry.source
    row["retrospective"] = entry.retrospective
    row["created_at"] = _stamp(entry.created_at)
    row["updated_at"] = _stamp(entry.updated_at)
    row["client_id"] = entry.client_id
    row["client_edited_at"] = _stamp(entry.client_edited_at)
    return row


def _step_row(step: DoseStep) -> dict[str, Any]:
    return {
        "start_date": step.start_date.isoformat(),
        "dose_mg": step.dose_mg,
        "dosing_time": step.dosing_time,
        "note": step.note,
        "planned": step.planned,
        "form": step.form,
        "mg_per_ml": step.mg_per_ml,
        "created_at": _stamp(step.created_at),
        "updated_at": _stamp(step.updated_at),
    }


def _revision_row(revision: EntryRevision) -> dict[str, Any]:
    return {
        "date": revision.day.isoformat(),
        "data": revision.data,
        "source": revision.source,
        "saved_at": _stamp(revision.saved_at),
        "replaced_at": _stamp(revision.replaced_at),
        "reason": revision.reason,
    }


def all_revisions(session: Session, *, user_id: int) -> list[EntryRevision]:
    """Every kept version of every day, by day and then in the order they were replaced."""
    statement = (
        select(EntryRevision)
        .where(EntryRevision.user_id == user_id)
        .order_by(col(EntryRevision.day), col(EntryRevision.replaced_at), col(EntryRevision.id))
    )
    return list(session.exec(statement))


def _items_section(session: Session, *, user: User) -> dict[str, Any]:
    assert user.id is not None
    catalogue = items.catalogue_for(session, user=user)
    return {
        "condition": user.condition,
        "own": [
            {
                "key": row.key,
                "kind": row.kind,
                "label": row.label,
                "low_anchor": row.low_anchor,
                "high_anchor": row.high_anchor,
                "better": row.better,
                "hidden": row.hidden,
            }
            for row in items.own_items(session, user_id=user.id)
        ],
        "tracked": [item.key for item in catalogue.items(tracked=True)],
        "primary_item": user.primary_item,
    }


def export_backup(session: Session, *, user: User, seal_key: str | None = None) -> dict[str, Any]:
    """The whole diary as a backup document (docs/backup-format.md). With `seal_key` (the
    app's secret), the document carries a seal over each day's provenance, so this server can
    trust the file's `created_at` and `retrospective` when it is imported back."""
    assert user.id is not None
    rows = [_entry_row(entry) for entry in entries.list_entries(session, user_id=user.id)]
    document = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _stamp(utcnow()),
        "account": {"email": user.email, "timezone": user.timezone},
        "items": _items_section(session, user=user),
        "dose_steps": [_step_row(step) for step in list_steps(session, user_id=user.id)],
        "entries": rows,
        "revisions": [
            _revision_row(revision) for revision in all_revisions(session, user_id=user.id)
        ],
        "dose_plan": _plan_row(dose_plan.get_plan(session, user_id=user.id)),
        "step_decisions": [
            _decision_row(decision)
            for decision in dose_plan.list_decisions(session, user_id=user.id)
        ],
        "reminders": reminder_store.as_schema(
            reminder_store.get_settings(session, user_id=user.id)
        ).model_dump(),
        # Blinded self-trials with their allocation sealed: a backup cannot unblind one.
        "self_trials": self_trials.backup_rows(session, user_id=user.id),
    }
    if seal_key:
        document["provenance_seal"] = provenance_seal(seal_key, rows)
    return document


def _plan_row(plan: DosePlan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return BackupDosePlan.model_validate(
        {name: getattr(plan, name) for name in BackupDosePlan.model_fields}
    ).model_dump(mode="json")


def _decision_row(decision: StepDecision) -> dict[str, Any]:
    return {
        "decided_on": decision.decided_on.isoformat(),
        "choice": decision.choice,
        "planned_mg": decision.planned_mg,
        "dose_mg": decision.dose_mg,
        "days": decision.days,
        "created_at": _stamp(decision.created_at),
    }


def provenance_seal(key: str, rows: Sequence[Any]) -> str:
    """HMAC of each day's date, first save time and retrospective flag (rows as exported)."""
    facts = [
        [row.get("date"), row.get("created_at"), row.get("retrospective")]
        for row in rows
        if isinstance(row, dict)
    ]
    message = json.dumps(facts, separators=(",", ":"), sort_keys=True).encode()
    return hmac.new(key.encode(), b"provenance:" + message, hashlib.sha256).hexdigest()


def _sealed_by(key: str | None, document: dict[str, Any]) -> bool:
    seal = document.get("provenance_seal")
    rows = document.get("entries")
    if not key or not isinstance(seal, str) or not isinstance(rows, list):
        return False
    return hmac.compare_digest(seal, provenance_seal(key, rows))


def backup_filename(user: User, suffix: str) -> str:
    """'ldn-diary-2026-03-05.json': named after the patient's today, never their email."""
    return f"ldn-diary-{entries.patient_today(user).isoformat()}.{suffix}"


# ---------------------------------------------------------------------------------------------
# CSV for spreadsheets

# The columns after the items' (SPEC §2.3 and the day's provenance).
CSV_OTHER_COLUMNS: tuple[str, ...] = (
    "other_text",
    "dose_taken",
    "dose_time",
    "dose_mg",
    "dose_in_force_mg",
    "notes",
    "tolerability",
    "pgic",
    "source",
    "retrospective",
)
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> str:
    """A value as a CSV cell; text that a spreadsheet would run as a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def csv_item_columns(catalogue: items.Catalogue, rows: Sequence[DiaryEntry]) -> list[str]:
    """The item columns: the built-ins always (as before items were data), then every other
    item that has data, in the patient's order; rated items first, then side effects."""
    rated_data = {key for row in rows for key in (row.ratings or {})}
    effect_data = {key for row in rows for key in (row.side_effects or {})}
    rated = [*RATED_KEYS]
    rated += [
        item.key for item in catalogue.rated() if item.key in rated_data and item.key not in rated
    ]
    effects = [*SIDE_EFFECT_KEYS]
    effects += [
        item.key
        for item in catalogue.side_effects()
        if item.key in effect_data and item.key not in effects
    ]
    # Answers to items the catalogue no longer lists are still the patient's data.
    rated += sorted(rated_data - set(rated))
    effects += sorted(effect_data - set(effects))
    return [*rated, *effects]


def export_csv(session: Session, *, user: User) -> str:
    """One row per diary day: a column per item with data, then the other answers
    (docs/backup-format.md)."""
    assert user.id is not None
    steps = list_steps(session, user_id=user.id)
    rows = entries.list_entries(session, user_id=user.id)
    item_columns = csv_item_columns(items.catalogue_for(session, user=user), rows)
    columns = ["date", *item_columns, *CSV_OTHER_COLUMNS]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for entry in rows:
        answers = entries.answers_dict(entry)
        values: dict[str, Any] = {**answers["side_effects"], **answers["ratings"]}
        values.update({key: answers[key] for key in entries.ANSWER_KEYS[2:]})
        step = step_in_force(steps, entry.day)
        values.update(
            date=entry.day.isoformat(),
            dose_in_force_mg=step.dose_mg if step else None,
            source=entry.source,
            retrospective=entry.retrospective,
        )
        writer.writerow([spreadsheet_cell(values.get(column)) for column in columns])
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Import: validate everything, plan, then write all of it or nothing.


@dataclass(frozen=True)
class RowError:
    """One refused value: where in the file (`entries[3].pain`) and why."""

    loc: tuple[str | int, ...]
    message: str

    @property
    def field(self) -> str:
        text = ""
        for part in self.loc:
            if isinstance(part, int):
                text += f"[{part}]"
            else:
                text += f".{part}" if text else part
        return text or "file"


class ImportRefused(ValueError):
    """The file cannot be imported; `errors` names every refused row and field."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the backup file")
        self.errors = list(errors)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ImportRefused, (self.errors,))  # raised in the import worker, re-raised here


@dataclass
class ImportPlan:
    """What an import will do to the account: the preview, and the work to apply."""

    items: BackupItems | None = None
    new_own_items: list[BackupOwnItem] = field(default_factory=list)
    new_steps: list[BackupDoseStep] = field(default_factory=list)
    same_steps: int = 0
    new_days: list[BackupEntry] = field(default_factory=list)
    replaced_days: list[BackupEntry] = field(default_factory=list)
    same_days: int = 0
    new_revisions: list[BackupRevision] = field(default_factory=list)
    known_revisions: int = 0
    # The file was exported by this server and not changed since (its provenance seal
    # holds): its days' first-save times and retrospective flags are trusted.
    provenance_trusted: bool = False
    plan: BackupDosePlan | None = None
    new_decisions: list[BackupStepDecision] = field(default_factory=list)
    reminders: RemindersSettingsIn | None = None
    new_trials: list[BackupSelfTrial] = field(default_factory=list)
    # The new days and kept versions as table rows in the driver's form, made while checking
    # (no write lock held) and written with one multi-row insert each.
    day_rows: PreparedRows | None = None
    revision_rows: PreparedRows | None = None
    days_added: int = 0
    revisions_added: int = 0

    @property
    def changes_anything(self) -> bool:
        return bool(
            self.new_steps
            or self.days_added
            or self.replaced_days
            or self.revisions_added
            or self.plan
            or self.new_decisions
            or self.reminders
            or self.new_own_items
            or self.new_trials
        )

    def summary(self) -> dict[str, Any]:
        """The counts the preview and the API report."""
        return {
            "days_added": self.days_added,
            "days_replaced": len(self.replaced_days),
            "days_unchanged": self.same_days,
            "dose_steps_added": len(self.new_steps),
            "dose_steps_unchanged": self.same_steps,
            "revisions_added": self.revisions_added,
            "revisions_already_there": self.known_revisions,
            "replaced_dates": [row.date for row in self.replaced_days],
            "step_decisions_added": len(self.new_decisions),
            "dose_plan_restored": self.plan is not None,
            "reminders_restored": self.reminders is not None,
            "own_items_added": len(self.new_own_items),
            "self_trials_added": len(self.new_trials),
        }


_FRIENDLY = {
    "less_than_equal": "must be {le} or less",
    "greater_than_equal": "must be {ge} or more",
    "string_too_long": "must be at most {max_length} characters",
    "string_too_short": "must not be empty",
    "too_long": "must have at most {max_length} items",
    "extra_forbidden": "is not part of the backup format",
    "missing": "is required",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "date_type": "must be a date like 2026-01-31",
    "date_parsing": "must be a date like 2026-01-31",
    "date_from_datetime_parsing": "must be a date like 2026-01-31",
    "date_from_datetime_inexact": "must be a date like 2026-01-31",
    "datetime_type": "must be a date and time like 2026-01-31T08:00:00+00:00",
    "datetime_parsing": "must be a date and time like 2026-01-31T08:00:00+00:00",
    "datetime_from_date_parsing": "must be a date and time like 2026-01-31T08:00:00+00:00",
    "string_pattern_mismatch": "must be a time like 21:30",
    "literal_error": "must be one of {expected}",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
}


def _message(error: Any) -> str:
    template = _FRIENDLY.get(error["type"])
    if template is not None:
        try:
            context = {
                key: f"{value:g}" if isinstance(value, float) else value
                for key, value in error.get("ctx", {}).items()
            }
            return template.format(**context)
        except (KeyError, IndexError):
            pass
    return str(error["msg"]).removeprefix("Value error, ")


def _earlier_row(first_rows: dict[date, int], day: date, index: int) -> int | None:
    """The index of an earlier row in the file for the same day, remembering this one if first."""
    first = first_rows.setdefault(day, index)
    return None if first == index else first


def _validate_row(
    model: type[Row], value: Any, prefix: tuple[str | int, ...], errors: list[RowError]
) -> Row | None:
    try:
        return model.model_validate(value)
    except ValidationError as invalid:
        for error in invalid.errors():
            errors.append(RowError((*prefix, *error["loc"]), _message(error)))
        return None


def _check_envelope(document: Any) -> list[RowError]:
    if not isinstance(document, dict):
        return [RowError((), "The file must hold one JSON object: an LDN Diary backup")]
    errors: list[RowError] = []
    if document.get("format") != FORMAT:
        errors.append(RowError(("format",), f'must be "{FORMAT}": this is not an LDN Diary backup'))
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int):  # true is not version 1
        errors.append(RowError(("version",), f"must be {VERSION}"))
    elif version > VERSION:
        errors.append(
            RowError(("version",), f"is {version}, newer than this app reads (version {VERSION})")
        )
    elif version not in READABLE_VERSIONS:
        errors.append(RowError(("version",), f"must be {VERSION}"))
    if errors:
        return errors  # the rows of some other file mean nothing here
    for key in sorted(set(document) - TOP_LEVEL_KEYS, key=str):
        errors.append(RowError((str(key),), "is not part of the backup format"))
    for key in LISTS:
        if not isinstance(document.get(key, []), list):
            errors.append(RowError((key,), "must be a list"))
    for key in OBJECTS:
        if not isinstance(document.get(key) or {}, dict):
            errors.append(RowError((key,), "must be an object or null"))
    return errors


def _revision_key(
    *, day: date, source: str, reason: str, saved_at: datetime, replaced_at: datetime, data: Any
) -> tuple[Any, ...]:
    """What makes two kept versions the same one (importing a backup twice adds nothing)."""
    return (
        day,
        source,
        reason,
        as_utc(saved_at),
        as_utc(replaced_at),
        json.dumps(data, sort_keys=True, default=str),
    )


def _flat_answers(row: EntryAnswers) -> dict[str, Any]:
    return entries.flat_answers(row)


def _plan_items(
    session: Session, *, user: User, document: dict[str, Any], errors: list[RowError]
) -> tuple[BackupItems | None, list[BackupOwnItem], items.Catalogue, set[str], set[str]]:
    """The file's items section checked against the account: own items to add, and the keys
    of rated items and side effects that the diary will know after the import."""
    catalogue = items.catalogue_for(session, user=user)
    section = None
    if "items" in document:
        section = _validate_row(BackupItems, document["items"], ("items",), errors)
    rated = set(catalogue.keys("rated"))
    effects = set(catalogue.keys("side_effect"))
    new_own: list[BackupOwnItem] = []
    if section is not None:
        seen: set[str] = set()
        for index, own in enumerate(section.own):
            current = catalogue.get(own.key)
            if own.key in seen:
                errors.append(RowError(("items", "own", index, "key"), "is in the file twice"))
                continue
            seen.add(own.key)
            if current is not None and current.kind != own.kind:
                errors.append(
                    RowError(
                        ("items", "own", index, "kind"),
                        f"your diary already has {own.key} as another kind of item",
                    )
                )
                continue
            if current is None:
                new_own.append(own)
            (rated if own.kind == "rated" else effects).add(own.key)
        owned = catalogue.own_count()
        if owned + len(new_own) > items.MAX_OWN_ITEMS:
            errors.append(
                RowError(
                    ("items", "own"),
                    f"your diary would have {owned + len(new_own)} items of your own, more "
                    f"than the {items.MAX_OWN_ITEMS} it keeps",
                )
            )
        for index, key in enumerate(section.tracked or []):
            if key not in rated and key not in effects:
                errors.append(
                    RowError(("items", "tracked", index), f"{key} is not an item of the diary")
                )
    return section, new_own, catalogue, rated, effects


def _check_row_items(
    row: EntryAnswers, index: int, rated: set[str], effects: set[str], errors: list[RowError]
) -> bool:
    fine = True
    for key in row.ratings:
        if key not in rated:
            errors.append(
                RowError(("entries", index, "ratings", key), "is not a 0–100 item of the diary")
            )
            fine = False
    for key in row.side_effects:
        if key not in effects:
            errors.append(
                RowError(
                    ("entries", index, "side_effects", key), "is not a side effect of the diary"
                )
            )
            fine = False
    return fine


def _same_step(step: DoseStep, row: BackupDoseStep) -> bool:
    fields = ("dose_mg", "dosing_time", "note", "planned", "form", "mg_per_ml")
    return all(getattr(step, name) == getattr(row, name) for name in fields)


def _decision_key(row: StepDecision | BackupStepDecision) -> tuple[Any, ...]:
    return (row.decided_on, row.choice, row.planned_mg, row.dose_mg, row.days)


def _describe_step(step: DoseStep) -> str:
    when = f" ({step.dosing_time})" if step.dosing_time else ""
    return f"{format_mg(step.dose_mg)}{when}"


def plan_import(
    session: Session, *, user: User, document: Any, seal_key: str | None = None
) -> ImportPlan:
    """Check the whole file and work out what importing it changes; writes nothing.

    Raises ImportRefused with every problem found. Rules for an account that already has
    data: a day in both is replaced by the file's version (the account's version is kept in
    the day's history) unless the answers are the same; a dose step starting on the same
    date must be identical, or the import is refused; kept versions already in the account
    are not added twice.
    """
    assert user.id is not None
    errors = _check_envelope(document)
    if errors:
        raise ImportRefused(errors)
    today = entries.patient_today(user)
    section, new_own, _, rated_keys, effect_keys = _plan_items(
        session, user=user, document=document, errors=errors
    )

    steps: list[BackupDoseStep] = []
    first_step_row: dict[date, int] = {}
    for index, raw in enumerate(document.get("dose_steps", [])):
        row = _validate_row(BackupDoseStep, raw, ("dose_steps", index), errors)
        if row is None:
            continue
        other = _earlier_row(first_step_row, row.start_date, index)
        if other is not None:
            errors.append(
                RowError(
                    ("dose_steps", index, "start_date"),
                    f"another step in the file (dose_steps[{other}]) starts on the same day",
                )
            )
            continue
        steps.append(row)

    days: list[BackupEntry] = []
    first_day_row: dict[date, int] = {}
    for index, raw in enumerate(document.get("entries", [])):
        entry_row = _validate_row(BackupEntry, raw, ("entries", index), errors)
        if entry_row is None:
            continue
        if not _check_row_items(entry_row, index, rated_keys, effect_keys, errors):
            continue
        try:
            entries.check_diary_day(entry_row.date, today=today)
        except entries.DiaryDayRefused as refusal:
            errors.append(RowError(("entries", index, "date"), str(refusal)))
            continue
        other = _earlier_row(first_day_row, entry_row.date, index)
        if other is not None:
            errors.append(
                RowError(
                    ("entries", index, "date"),
                    f"the same day is in the file twice (also entries[{other}])",
                )
            )
            continue
        days.append(entry_row)

    revisions: list[BackupRevision] = []
    for index, raw in enumerate(document.get("revisions", [])):
        revision = _validate_row(BackupRevision, raw, ("revisions", index), errors)
        if revision is None:
            continue
        data = _validate_row(RevisionData, revision.data, ("revisions", index, "data"), errors)
        if data is None:
            continue
        if data.date is not None and data.date != revision.date:
            errors.append(
                RowError(("revisions", index, "data", "date"), "must be the revision's date")
            )
            continue
        try:
            entries.check_diary_day(revision.date, today=today)
        except entries.DiaryDayRefused as refusal:
            errors.append(RowError(("revisions", index, "date"), str(refusal)))
            continue
        revisions.append(revision)

    plan = ImportPlan(
        items=section, new_own_items=new_own, provenance_trusted=_sealed_by(seal_key, document)
    )
    existing_steps = {step.start_date: step for step in list_steps(session, user_id=user.id)}
    for row in steps:
        current = existing_steps.get(row.start_date)
        if current is None:
            plan.new_steps.append(row)
        elif _same_step(current, row):
            plan.same_steps += 1
        else:
            errors.append(
                RowError(
                    ("dose_steps", first_step_row[row.start_date], "start_date"),
                    f"your diary already has a different dose step starting on "
                    f"{format_day(row.start_date)} ({_describe_step(current)}): change or "
                    "delete one of them first",
                )
            )

    existing_days = {entry.day: entry for entry in entries.list_entries(session, user_id=user.id)}
    for entry_row in days:
        current_entry = existing_days.get(entry_row.date)
        if current_entry is None:
            plan.new_days.append(entry_row)
        elif entries.answers_dict(current_entry) == _flat_answers(entry_row):
            plan.same_days += 1
        else:
            plan.replaced_days.append(entry_row)

    known = Counter(
        _revision_key(
            day=revision.day,
            source=revision.source,
            reason=revision.reason,
            saved_at=revision.saved_at,
            replaced_at=revision.replaced_at,
            data=revision.data,
        )
        for revision in all_revisions(session, user_id=user.id)
    )
    for revision in revisions:
        key = _revision_key(
            day=revision.date,
            source=revision.source,
            reason=revision.reason,
            saved_at=revision.saved_at,
            replaced_at=revision.replaced_at,
            data=revision.data,
        )
        if known[key] > 0:
            known[key] -= 1
            plan.known_revisions += 1
        else:
            plan.new_revisions.append(revision)

    _plan_the_plan(session, user_id=user.id, document=document, plan=plan, errors=errors)
    # Self-trials: one already in the account (the same sealed allocation) is not added twice.
    held = {trial.seal_salt for trial in self_trials.list_trials(session, user_id=user.id)}
    for index, raw in enumerate(document.get("self_trials", [])):
        trial_row = _validate_row(BackupSelfTrial, raw, ("self_trials", index), errors)
        if trial_row is not None and trial_row.seal_salt not in held:
            held.add(trial_row.seal_salt)
            plan.new_trials.append(trial_row)

    if errors:
        raise ImportRefused(errors)
    plan.day_rows = prepare_rows(session, DiaryEntry, _day_rows(plan, user=user, now=utcnow()))
    plan.revision_rows = prepare_rows(
        session,
        EntryRevision,
        [_revision_table_row(revision, user_id=user.id) for revision in plan.new_revisions],
    )
    plan.days_added, plan.revisions_added = len(plan.new_days), len(plan.new_revisions)
    return plan


class ImportNotChecked(Exception):
    """The import worker was stuck or crashed: nothing was checked, and nothing written."""


class ImportConflict(Exception):
    """The diary changed between the check and the write (a day the check found new was saved
    meanwhile, say): nothing was written, and the same file may simply be sent again."""

    def __init__(self) -> None:
        super().__init__("The diary changed while importing. Nothing was imported: try again.")


async def check_in_worker(
    settings: Settings, *, user_id: int, raw: bytes, seal_key: str
) -> ImportPlan:
    """`check_import` in the import worker process, awaited without holding a thread: megabytes
    of JSON and thousands of rows in the server's own interpreter kept every other request
    waiting for turns (app.workers). Raises ImportRefused or ImportNotChecked."""
    check = partial(check_import, settings, user_id=user_id, raw=raw, seal_key=seal_key)
    try:
        return await IMPORTS.run(check, timeout=IMPORT_CHECK_TIMEOUT_SECONDS)
    except (TimeoutError, BrokenProcessPool):
        raise ImportNotChecked() from None


def check_import(settings: Settings, *, user_id: int, raw: bytes, seal_key: str) -> ImportPlan:
    """`read_document` and `plan_import` for an uploaded file, run in the import worker process
    (app.workers) with its own database connection. The plan comes back without the file's
    checked new days and kept versions: they travel as table rows (`day_rows`,
    `revision_rows`), which the server reads back in milliseconds. Raises ImportRefused."""
    document = read_document(raw)
    with Session(worker_engine(settings), expire_on_commit=False) as session:
        user = session.get(User, user_id)
        if user is None:
            raise ImportRefused([RowError((), "This account no longer exists.")])
        plan = plan_import(session, user=user, document=document, seal_key=seal_key)
    return replace(plan, new_days=[], new_revisions=[])


def _day_rows(plan: ImportPlan, *, user: User, now: datetime) -> list[dict[str, Any]]:
    """The new days as `diary_entry` rows.

    A day is retrospective by the rule every save follows (first saved after the end of the
    next day). The file's word is trusted only when this server sealed it; otherwise the day
    is judged as first saved now, so a crafted file cannot pass back-filled days off as kept
    on time. (Its times are kept as the file says.)
    """
    rows = []
    for row in plan.new_days:
        retrospective = row.retrospective
        if not plan.provenance_trusted:
            retrospective = row.retrospective or entries.is_retrospective(
                row.date, first_saved=now, timezone=user.timezone
            )
        rows.append(
            {
                "user_id": user.id,
                "day": row.date,
                "source": row.source,
                "retrospective": retrospective,
                "created_at": as_utc(row.created_at) if row.created_at else now,
                "updated_at": as_utc(row.updated_at) if row.updated_at else now,
                "client_id": row.client_id,
                "client_edited_at": as_utc(row.client_edited_at) if row.client_edited_at else None,
                **_flat_answers(row),
            }
        )
    return rows


def _revision_table_row(revision: BackupRevision, *, user_id: int) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "day": revision.date,
        "data": revision.data,
        "source": revision.source,
        "saved_at": as_utc(revision.saved_at),
        "replaced_at": as_utc(revision.replaced_at),
        "reason": revision.reason,
        "edit_key": entries.snapshot_edit_key(revision.data),
    }


def _plan_the_plan(
    session: Session, *, user_id: int, document: Any, plan: ImportPlan, errors: list[RowError]
) -> None:
    """The titration plan, step-day answers and reminder times of the file (SPEC §13).

    The file's plan and reminder times replace the account's; answers already there are not
    added twice.
    """
    if document.get("dose_plan") is not None:
        plan.plan = _validate_row(BackupDosePlan, document["dose_plan"], ("dose_plan",), errors)
    if document.get("reminders") is not None:
        plan.reminders = _validate_row(
            RemindersSettingsIn, document["reminders"], ("reminders",), errors
        )
    known = Counter(
        _decision_key(row) for row in dose_plan.list_decisions(session, user_id=user_id)
    )
    for index, raw in enumerate(document.get("step_decisions", [])):
        decision = _validate_row(BackupStepDecision, raw, ("step_decisions", index), errors)
        if decision is None:
            continue
        key = _decision_key(decision)
        if known[key] > 0:
            known[key] -= 1
        else:
            plan.new_decisions.append(decision)


def _apply_the_plan(session: Session, *, user_id: int, plan: ImportPlan, now: datetime) -> None:
    if plan.plan is not None:
        row = dose_plan.get_plan(session, user_id=user_id) or DosePlan(user_id=user_id)
        for name, value in plan.plan.model_dump().items():
            setattr(row, name, value)
        row.updated_at = now
        session.add(row)
    for decision in plan.new_decisions:
        session.add(
            StepDecision(
                user_id=user_id,
                **decision.model_dump(exclude={"created_at"}),
                created_at=as_utc(decision.created_at) if decision.created_at else now,
            )
        )
    if plan.reminders is not None:
        settings = reminder_store.get_settings(session, user_id=user_id)
        settings = settings if settings.id is not None else ReminderSettings(user_id=user_id)
        settings.diary_enabled = plan.reminders.diary.enabled
        settings.diary_time = plan.reminders.diary.time
        settings.dose_enabled = plan.reminders.dose.enabled
        settings.dose_time = plan.reminders.dose.time
        settings.step_day = plan.reminders.step_day
        settings.updated_at = now
        session.add(settings)


def apply_import(session: Session, *, user: User, plan: ImportPlan) -> None:
    """Write a checked plan in one transaction: all of it, or (on any failure) nothing.
    ImportConflict when the diary changed since the check in a way the plan cannot take."""
    assert user.id is not None
    now = utcnow()
    try:
        _apply_items(session, user=user, plan=plan)
        for step in plan.new_steps:
            session.add(
                DoseStep(
                    user_id=user.id,
                    start_date=step.start_date,
                    dose_mg=step.dose_mg,
                    dosing_time=step.dosing_time,
                    note=step.note,
                    planned=step.planned,
                    form=step.form,
                    mg_per_ml=step.mg_per_ml if step.form == "liquid" else None,
                    created_at=as_utc(step.created_at) if step.created_at else now,
                    updated_at=as_utc(step.updated_at) if step.updated_at else now,
                )
            )
        if plan.day_rows is not None:
            plan.day_rows.insert(session)
        for row in plan.replaced_days:
            # The account's version goes to the day's history; the file's becomes current.
            answers = EntryAnswers.model_validate(row.model_dump(include=set(_ANSWER_FIELDS)))
            entries.save_entry(
                session,
                user=user,
                day=row.date,
                answers=answers,
                source="import",
                reason="imported",
                commit=False,
            )
        if plan.revision_rows is not None:
            plan.revision_rows.insert(session)
        _apply_the_plan(session, user_id=user.id, plan=plan, now=now)
        self_trials.restore_rows(
            session, user_id=user.id, rows=[row.model_dump(mode="json") for row in plan.new_trials]
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ImportConflict() from None
    except Exception:
        session.rollback()
        raise


def _apply_items(session: Session, *, user: User, plan: ImportPlan) -> None:
    """Add the file's own items, then take its condition and tracked set (version 2 files)."""
    for own in plan.new_own_items:
        row = items.add_own_item(
            session,
            user=user,
            label=own.label,
            low_anchor=own.low_anchor,
            high_anchor=own.high_anchor,
            better=own.better,
            kind=own.kind,
            key=own.key,
            commit=False,
        )
        row.hidden = own.hidden
        session.add(row)
    session.flush()
    if plan.items is None:
        return
    if plan.items.condition is not None:
        user.condition = plan.items.condition.strip() or None
        session.add(user)
    if plan.items.tracked is not None:
        items.set_order(session, user=user, tracked_keys=plan.items.tracked)
    if plan.items.primary_item is not None:
        # Kept as the file says: while it is not a tracked rated item the summaries lead
        # with pain, as they do when the patient stops tracking their chosen item.
        user.primary_item = plan.items.primary_item
        session.add(user)
    session.flush()


def read_document(raw: bytes) -> Any:
    """The JSON in an uploaded file; raises ImportRefused when it is not JSON at all."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise ImportRefused([RowError((), too_large_message())])
    not_json = ImportRefused(
        [RowError((), "This file is not a JSON backup from LDN Diary (it is not JSON).")]
    )
    try:
        # Decoded a row at a time: one call for the whole file would hold the interpreter
        # (and so every other request) for a tenth of a second.
        document = stepwise_json.loads(raw.decode("utf-8-sig"))
    except (UnicodeError, ValueError, RecursionError):  # ValueError: JSON, or 4300+ digit numbers
        raise not_json from None
    # A "\ud800" escape decodes to a broken character that no page or database can hold.
    if stepwise_json.may_hold_surrogates(raw) and stepwise_json.has_surrogates(document):
        raise not_json
    return document


def too_large_message() -> str:
    size = MAX_IMPORT_BYTES // (1024 * 1024)
    return (
        f"The file is larger than {size} MB, more than any diary backup holds. "
        "Check that it is the right file."
    )


def error_details(errors: Iterable[RowError]) -> list[dict[str, Any]]:
    """Errors in FastAPI's 422 shape, each naming its row and field (`entries[3].pain`)."""
    listed = list(errors)
    details: list[dict[str, Any]] = [
        {
            "loc": ["body", *error.loc],
            "field": error.field,
            "msg": error.message,
            "type": "value_error",
        }
        for error in listed[:MAX_REPORTED_ERRORS]
    ]
    if len(listed) > MAX_REPORTED_ERRORS:
        details.append(
            {
                "loc": ["body"],
                "field": "file",
                "msg": f"and {len(listed) - MAX_REPORTED_ERRORS} more problems",
                "type": "value_error",
            }
        )
    return details
