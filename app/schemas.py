"""Request and response shapes of the diary (SPEC §2, §3, §8).

The JSON API validates with these models directly; the web forms turn their fields into the
same models, so a rule is written once and both say the same thing.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
    model_validator,
)

from app.items import (
    NOTES_MAX,
    OTHER_ANSWER_KEYS,
    OTHER_TEXT_MAX,
    RATED_KEYS,
    SIDE_EFFECT_KEYS,
)

Score = Annotated[int, Field(strict=True, ge=0, le=100)]
Severity = Annotated[int, Field(strict=True, ge=0, le=3)]
Pgic = Annotated[int, Field(strict=True, ge=1, le=7)]
# JSON numbers only: true, "1.5" and the like are refused, not turned into a dose. Forms turn
# their text into numbers themselves before they build these models.
DoseMg = Annotated[float, Field(strict=True, ge=0, le=50, allow_inf_nan=False)]
# A real true or false: "yes", "1" or 1 are refused rather than guessed at.
StrictBool = Annotated[bool, Field(strict=True)]
DosingTime = Literal["morning", "bedtime"]
TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
EARLIEST_DIARY_DAY = date(2000, 1, 1)


def _two_decimals(value: float | None) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or abs(round(value, 2) - value) > 1e-9:
        raise ValueError("Use at most two decimals, for example 1.5 or 0.25")
    return round(value, 2)


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


@lru_cache(maxsize=1)
def _timezone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def known_timezone(name: str) -> str | None:
    """The IANA time zone this server's zoneinfo database knows by that name, spelt as IANA
    spells it ("america/new_york" is America/New_York), or None."""
    return _timezone_names().get(name.strip().lower())


def _storable_text(value: str | None) -> str | None:
    """Refuse what no diary text holds and PostgreSQL cannot store: NUL and broken characters
    (a lone UTF-16 surrogate that a JSON escape such as "\\ud800" can carry)."""
    if value is None:
        return None
    if "\x00" in value:
        raise ValueError("Remove the invisible NUL character from this text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("This text holds a broken character; type it again") from None
    return value


# A date in a query string where `?start=` (a blank value) means the same as leaving it out.
OptionalDay = Annotated[date | None, BeforeValidator(_blank_to_none)]


class SideEffects(BaseModel):
    """Severity of each side effect: 0 none, 1 mild, 2 moderate, 3 severe; null unanswered."""

    model_config = ConfigDict(extra="forbid")

    nightmares: Severity | None = None
    insomnia: Severity | None = None
    headache: Severity | None = None
    nausea: Severity | None = None
    dizziness: Severity | None = None
    anxiety: Severity | None = None
    other: Severity | None = None


class EntryAnswers(BaseModel):
    """What a patient can answer for one diary day. Everything optional, at least one answer."""

    model_config = ConfigDict(extra="forbid")

    overall: Score | None = None
    pain: Score | None = None
    fatigue: Score | None = None
    sleep_quality: Score | None = None
    dream_vividness: Score | None = None
    mood: Score | None = None
    stress: Score | None = None
    life_satisfaction: Score | None = None
    side_effects: SideEffects = Field(default_factory=SideEffects)
    other_text: str | None = Field(default=None, max_length=OTHER_TEXT_MAX)
    dose_taken: StrictBool | None = None
    dose_time: str | None = Field(default=None, pattern=TIME_PATTERN)
    dose_mg: DoseMg | None = None
    notes: str | None = Field(default=None, max_length=NOTES_MAX)
    tolerability: Score | None = None
    pgic: Pgic | None = None
    # Set by the offline outbox: which device wrote this version and when the patient did.
    client_id: str | None = Field(default=None, max_length=64)
    client_edited_at: datetime | None = None

    _blank = field_validator("other_text", "notes", "dose_time", "client_id", mode="before")(
        _blank_to_none
    )
    _storable = field_validator("other_text", "notes", "client_id")(_storable_text)

    @field_validator("dose_mg")
    @classmethod
    def _dose_decimals(cls, value: float | None) -> float | None:
        return _two_decimals(value)

    @field_validator("client_edited_at")
    @classmethod
    def _edit_time_in_utc(cls, value: datetime | None) -> datetime | None:
        """The device's edit time in UTC (naive means UTC); it must fit the diary's years."""
        if value is None:
            return None
        try:
            stamp = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:59-14:00 is in the year 10000 in UTC
            stamp = None
        if stamp is None or stamp.year < EARLIEST_DIARY_DAY.year:
            raise ValueError("Use a real date and time, for example 2026-03-10T21:30:00Z")
        return stamp

    @model_validator(mode="after")
    def _something_answered(self) -> EntryAnswers:
        if not self.answered_fields():
            raise ValueError("Answer at least one question before saving the day")
        return self

    def answered_fields(self) -> list[str]:
        """Names of the fields that hold an answer."""
        answered = [key for key in RATED_KEYS if getattr(self, key) is not None]
        answered += [
            f"side_effects.{key}"
            for key in SIDE_EFFECT_KEYS
            if getattr(self.side_effects, key) is not None
        ]
        for key in OTHER_ANSWER_KEYS:
            if getattr(self, key) is not None:
                answered.append(key)
        return answered


class DatedEntryAnswers(EntryAnswers):
    """An entry in a batch: the answers plus the diary day they belong to."""

    date: date


class EntryBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[DatedEntryAnswers] = Field(min_length=1, max_length=1000)


class EntryPublic(BaseModel):
    """A saved diary day as the API returns it."""

    date: date
    overall: int | None
    pain: int | None
    fatigue: int | None
    sleep_quality: int | None
    dream_vividness: int | None
    mood: int | None
    stress: int | None
    life_satisfaction: int | None
    side_effects: dict[str, int | None]
    other_text: str | None
    dose_taken: bool | None
    dose_time: str | None
    dose_mg: float | None
    scheduled_dose_mg: float | None
    notes: str | None
    tolerability: int | None
    pgic: int | None
    source: str
    retrospective: bool
    created_at: datetime
    updated_at: datetime


# What saving one day did. "superseded": the edit is older than the day's current version,
# which stays; "stays_deleted": the day was deleted after the edit was made and stays deleted.
# Either way the edit is kept in the day's revision history.
SaveStatus = Literal["created", "replaced", "unchanged", "superseded", "stays_deleted"]


class BatchItemResult(BaseModel):
    date: date
    status: SaveStatus


class BatchResult(BaseModel):
    """What a batch did: counts per status, each day's status, and the days as they are now."""

    created: int
    replaced: int
    unchanged: int
    superseded: int
    stays_deleted: int
    results: list[BatchItemResult]
    # The current version of each day in the batch, in batch order; a day that stays deleted
    # has none.
    entries: list[EntryPublic]


# A plan reaches a few years ahead at most; a step in the year 9999 is a typing mistake.
STEP_YEARS_AHEAD = 5


def _plausible_step_start(value: date) -> date:
    if value < EARLIEST_DIARY_DAY:
        raise ValueError("Start date must be in the year 2000 or later")
    if value > date.today().replace(day=1) + timedelta(days=365 * STEP_YEARS_AHEAD):
        raise ValueError(f"Start date must be within {STEP_YEARS_AHEAD} years from now")
    return value


class DoseStepCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_date: date
    dose_mg: DoseMg
    dosing_time: DosingTime | None = None
    note: str | None = Field(default=None, max_length=500)

    _blank = field_validator("note", "dosing_time", mode="before")(_blank_to_none)
    _storable = field_validator("note")(_storable_text)

    @field_validator("dose_mg")
    @classmethod
    def _dose_decimals(cls, value: float) -> float:
        checked = _two_decimals(value)
        assert checked is not None
        return checked

    @field_validator("start_date")
    @classmethod
    def _plausible_start(cls, value: date) -> date:
        return _plausible_step_start(value)


class DoseStepUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_date: date | None = None
    dose_mg: DoseMg | None = None
    dosing_time: DosingTime | None = None
    note: str | None = Field(default=None, max_length=500)

    _blank = field_validator("note", "dosing_time", mode="before")(_blank_to_none)
    _storable = field_validator("note")(_storable_text)

    @field_validator("dose_mg")
    @classmethod
    def _dose_decimals(cls, value: float | None) -> float | None:
        return _two_decimals(value)

    @field_validator("start_date")
    @classmethod
    def _plausible_start(cls, value: date | None) -> date | None:
        return None if value is None else _plausible_step_start(value)


class DoseStepPublic(BaseModel):
    id: int
    start_date: date
    dose_mg: float
    dosing_time: str | None
    note: str | None


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)


class Registration(Credentials):
    """A new account: email, password and, optionally, the patient's IANA time zone."""

    timezone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA time zone, e.g. Europe/Berlin; it decides the patient's 'today'. "
        "UTC when left out.",
        examples=["Europe/Berlin"],
    )

    _blank = field_validator("timezone", mode="before")(_blank_to_none)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = known_timezone(value)
        if name is None:
            raise ValueError("Use an IANA time zone name, for example Europe/Berlin")
        return name


class UserPublic(BaseModel):
    id: int
    email: str


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)


class ShareLinkCreate(BaseModel):
    """A share link to the doctor's summary; the range defaults to the report page's."""

    model_config = ConfigDict(extra="forbid")

    expires_in_days: int = Field(default=14, strict=True, ge=1, le=90)
    start: date | None = None
    end: date | None = None
    initials: str | None = Field(default=None, max_length=12)
    questions: str | None = Field(default=None, max_length=1000)

    _blank = field_validator("initials", "questions", mode="before")(_blank_to_none)
    _storable = field_validator("initials", "questions")(_storable_text)


class ShareLinkCreated(BaseModel):
    id: int
    url: str
    expires_at: datetime
    start: date
    end: date


class ShareLinkOpeningPublic(BaseModel):
    opened_at: datetime
    what: Literal["html", "pdf"]
    user_agent: str | None


class ShareLinkPublic(BaseModel):
    id: int
    status: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    start: date
    end: date
    initials: str | None
    openings: list[ShareLinkOpeningPublic]


class RevisionPublic(BaseModel):
    """An earlier version of a diary day: what it said, where it came from, when it changed."""

    id: int
    date: date
    data: dict[str, Any]
    source: str
    saved_at: datetime
    replaced_at: datetime
    reason: str


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordConfirmation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=1024)


class ImportSummary(BaseModel):
    """What an import changed, or (with dry_run) would change."""

    dry_run: bool
    days_added: int
    days_replaced: int
    days_unchanged: int
    dose_steps_added: int
    dose_steps_unchanged: int
    revisions_added: int
    revisions_already_there: int
    replaced_dates: list[date]
