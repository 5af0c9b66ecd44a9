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
    StringConstraints,
    field_validator,
    model_validator,
)

from app.items import (
    KEY_PATTERN,
    NOTES_MAX,
    OTHER_ANSWER_KEYS,
    OTHER_TEXT_MAX,
    RATED_KEYS,
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
DoseForm = Literal["capsule", "liquid", "cream"]
# The strength of liquid LDN, in mg per ml (compounded solutions are about 0.5–5 mg/ml).
MgPerMl = Annotated[float, Field(strict=True, gt=0, le=100, allow_inf_nan=False)]
TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
EARLIEST_DIARY_DAY = date(2000, 1, 1)


def _milligrams(value: float | None) -> float | None:
    """A dose to the microgram (0.001 mg): ultra-low doses are written in micrograms."""
    if value is None:
        return None
    if not math.isfinite(value) or abs(round(value, 3) - value) > 1e-9:
        raise ValueError("Use at most three decimals, for example 1.5 or 0.125")
    return round(value, 3)


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


ItemKey = Annotated[str, StringConstraints(pattern=KEY_PATTERN, max_length=64)]
# At most this many items in one entry: far more than anyone tracks.
MAX_ITEMS_PER_ENTRY = 200


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
    # Every rated item by key (built-in, pack, own), and every side effect; null unanswered.
    # Keys the patient's catalogue does not know are refused when the entry is saved.
    ratings: dict[ItemKey, Score | None] = Field(
        default_factory=dict, max_length=MAX_ITEMS_PER_ENTRY
    )
    side_effects: dict[ItemKey, Severity | None] = Field(
        default_factory=dict, max_length=MAX_ITEMS_PER_ENTRY
    )
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
        return _milligrams(value)

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
    def _one_value_per_item(self) -> EntryAnswers:
        for key in RATED_KEYS:
            top, inner = getattr(self, key), self.ratings.get(key)
            if top is not None and inner is not None and top != inner:
                raise ValueError(
                    f"{key} is {top} at the top level but {inner} in ratings: send one value"
                )
        return self

    @model_validator(mode="after")
    def _something_answered(self) -> EntryAnswers:
        if not self.answered_fields():
            raise ValueError("Answer at least one question before saving the day")
        return self

    def rating_values(self) -> dict[str, int]:
        """Every answered rated item by key: `ratings` and the built-in top-level keys."""
        values = {key: value for key, value in self.ratings.items() if value is not None}
        for key in RATED_KEYS:
            value = getattr(self, key)
            if value is not None:
                values[key] = value
        return values

    def side_effect_values(self) -> dict[str, int]:
        """Every answered side effect by key."""
        return {key: value for key, value in self.side_effects.items() if value is not None}

    def answered_fields(self) -> list[str]:
        """Names of the fields that hold an answer."""
        answered = [f"ratings.{key}" for key in self.rating_values()]
        answered += [f"side_effects.{key}" for key in self.side_effect_values()]
        for key in OTHER_ANSWER_KEYS:
            if getattr(self, key) is not None:
                answered.append(key)
        return answered


class DatedEntryAnswers(EntryAnswers):
    """An entry in a batch: the answers plus the diary day they belong to."""

    date: date


# A batch is one transaction, and on SQLite every other patient's save waits for it: 100 new
# days hold the write lock about 40 ms, 1,000 about 400 ms, and 2.3 s while the server is busy
# (bench/write_lock.py). A longer history goes in several batches, or as a backup import.
MAX_BATCH_DAYS = 100


class EntryBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[DatedEntryAnswers] = Field(min_length=1, max_length=MAX_BATCH_DAYS)


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
    ratings: dict[str, int | None]
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


def latest_step_start() -> date:
    """The last day a dose step may start: about STEP_YEARS_AHEAD years from now."""
    return date.today().replace(day=1) + timedelta(days=365 * STEP_YEARS_AHEAD)


def _plausible_step_start(value: date) -> date:
    if value < EARLIEST_DIARY_DAY:
        raise ValueError("Start date must be in the year 2000 or later")
    if value > latest_step_start():
        raise ValueError(f"Start date must be within {STEP_YEARS_AHEAD} years from now")
    return value


def _strength_only_for_liquid(model: Any) -> Any:
    if model.mg_per_ml is not None and model.form != "liquid":
        raise ValueError('mg_per_ml is for liquid LDN only: set form to "liquid" too')
    return model


def volume_ml(dose_mg: float, mg_per_ml: float | None) -> float | None:
    """How many ml of a liquid hold this dose (two decimals), or None without a strength."""
    if not mg_per_ml:
        return None
    return round(dose_mg / mg_per_ml, 2)


class DoseStepCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_date: date
    dose_mg: DoseMg
    dosing_time: DosingTime | None = None
    note: str | None = Field(default=None, max_length=500)
    planned: StrictBool = False
    form: DoseForm | None = None
    mg_per_ml: MgPerMl | None = None

    _form_fits = model_validator(mode="after")(_strength_only_for_liquid)

    _blank = field_validator("note", "dosing_time", mode="before")(_blank_to_none)
    _storable = field_validator("note")(_storable_text)

    @field_validator("dose_mg")
    @classmethod
    def _dose_decimals(cls, value: float) -> float:
        checked = _milligrams(value)
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
    planned: StrictBool | None = None
    form: DoseForm | None = None
    mg_per_ml: MgPerMl | None = None

    _blank = field_validator("note", "dosing_time", mode="before")(_blank_to_none)
    _storable = field_validator("note")(_storable_text)

    @field_validator("dose_mg")
    @classmethod
    def _dose_decimals(cls, value: float | None) -> float | None:
        return _milligrams(value)

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
    planned: bool = False
    form: str | None = None
    mg_per_ml: float | None = None
    # For liquid LDN: how many ml hold the dose (1.5 mg at 1 mg/ml is 1.5 ml).
    volume_ml: float | None = None


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
    step_decisions_added: int = 0
    dose_plan_restored: bool = False
    reminders_restored: bool = False
    own_items_added: int = 0
    self_trials_added: int = 0


# ---------------------------------------------------------------------------------------------
# The titration plan, step-day decisions and reminders (SPEC §13)

PositiveMg = Annotated[float, Field(strict=True, gt=0, le=50, allow_inf_nan=False)]
PlanTemplateName = Literal["half_mg_weekly", "half_mg_fortnightly", "one_and_a_half_steps"]
HOLD_DAYS_MAX = 90


class DosePlanCreate(BaseModel):
    """A plan: a named template, or the numbers of a custom one (both start on start_date)."""

    model_config = ConfigDict(extra="forbid")

    start_date: date
    template: PlanTemplateName | None = None
    start_mg: PositiveMg | None = None
    step_mg: PositiveMg | None = None
    every_days: int | None = Field(default=None, strict=True, ge=1, le=90)
    target_mg: PositiveMg | None = None
    dosing_time: DosingTime | None = None
    form: DoseForm | None = None
    mg_per_ml: MgPerMl | None = None
    hold_rule: str | None = Field(default=None, max_length=500)

    _blank = field_validator("hold_rule", "dosing_time", "template", mode="before")(_blank_to_none)
    _storable = field_validator("hold_rule")(_storable_text)
    _form_fits = model_validator(mode="after")(_strength_only_for_liquid)

    @field_validator("start_mg", "step_mg", "target_mg")
    @classmethod
    def _dose_precision(cls, value: float | None) -> float | None:
        return _milligrams(value)

    @field_validator("start_date")
    @classmethod
    def _plausible_start(cls, value: date) -> date:
        # Its steps are dose steps: they start within the same years.
        return _plausible_step_start(value)

    @model_validator(mode="after")
    def _template_or_numbers(self) -> DosePlanCreate:
        if self.template is not None:
            return self
        missing = [
            name
            for name in ("start_mg", "step_mg", "every_days", "target_mg")
            if getattr(self, name) is None
        ]
        if missing:
            raise ValueError(
                "Give a template, or all of start_mg, step_mg, every_days and target_mg "
                f"(missing: {', '.join(missing)})"
            )
        assert self.start_mg is not None and self.target_mg is not None
        if self.target_mg < self.start_mg:
            raise ValueError("target_mg must be at least start_mg")
        return self


class HoldRuleUpdate(BaseModel):
    """The patient's own rule for holding a step, in their words (or null to remove it)."""

    model_config = ConfigDict(extra="forbid")

    hold_rule: str | None = Field(default=None, max_length=500)

    _blank = field_validator("hold_rule", mode="before")(_blank_to_none)
    _storable = field_validator("hold_rule")(_storable_text)


class DosePlanPublic(BaseModel):
    template: str | None
    start_date: date | None
    start_mg: float | None
    step_mg: float | None
    every_days: int | None
    target_mg: float | None
    dosing_time: str | None
    form: str | None
    mg_per_ml: float | None
    hold_rule: str | None


class DosePlanCreated(BaseModel):
    plan: DosePlanPublic
    steps: list[DoseStepPublic]


StepChoice = Literal["start", "hold", "step_back"]


class StepDecisionCreate(BaseModel):
    """The answer to the step-day question; `days` moves the rest of the plan later."""

    model_config = ConfigDict(extra="forbid")

    choice: StepChoice
    days: int | None = Field(default=None, strict=True, ge=1, le=HOLD_DAYS_MAX)

    @model_validator(mode="after")
    def _hold_needs_days(self) -> StepDecisionCreate:
        if self.choice == "hold" and self.days is None:
            raise ValueError("Say for how many days (days, 1–90) the rest of the plan moves")
        if self.choice == "start" and self.days is not None:
            raise ValueError("days is only for hold or step_back")
        return self


class StepDecisionPublic(BaseModel):
    id: int
    step_id: int | None
    decided_on: date
    choice: StepChoice
    planned_mg: float
    dose_mg: float
    days: int | None


class ReminderTime(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool = False
    time: str = Field(default="20:00", pattern=TIME_PATTERN)


class RemindersSettingsIn(BaseModel):
    """Reminders at the patient's local time (their time zone)."""

    model_config = ConfigDict(extra="forbid")

    diary: ReminderTime = Field(default_factory=ReminderTime)
    dose: ReminderTime = Field(default_factory=lambda: ReminderTime(time="21:30"))
    step_day: StrictBool = False


class RemindersSettingsPublic(RemindersSettingsIn):
    timezone: str
    push_subscriptions: int
    # The application server key a browser subscribes with (base64url).
    vapid_public_key: str


class PushKeys(BaseModel):
    p256dh: str = Field(min_length=1, max_length=200)
    auth: str = Field(min_length=1, max_length=100)


class PushSubscriptionIn(BaseModel):
    """The browser's PushSubscription.toJSON(): endpoint and keys."""

    endpoint: str = Field(min_length=1, max_length=2048)
    keys: PushKeys
    expirationTime: int | None = None


class PushSubscriptionRemove(BaseModel):
    endpoint: str = Field(min_length=1, max_length=2048)


class PushSubscriptionPublic(BaseModel):
    id: int
    endpoint: str
    created_at: datetime


class PushTestResult(BaseModel):
    sent: int
    dropped: int
    failed: int


class CalendarFeedCreated(BaseModel):
    url: str


class ItemPublic(BaseModel):
    """An item of the catalogue with this patient's choices (SPEC §2.5)."""

    key: str
    kind: Literal["rated", "side_effect"]
    label: str = Field(description="The question the form asks")
    short_label: str = Field(description="The short name tables and charts use")
    low_anchor: str | None
    high_anchor: str | None
    better: Literal["lower", "higher", "neither"]
    source: Literal["builtin", "pack", "custom"]
    pack: str | None
    tracked: bool
    position: int
    hidden: bool = Field(description="An own item the patient removed; its answers stay")


class ItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracked: StrictBool | None = None
    position: int | None = Field(default=None, strict=True, ge=0, le=10_000)


class ItemCreate(BaseModel):
    """A new own item: the question, two anchors (rated items) and which way is better."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=120)
    low_anchor: str | None = Field(default=None, max_length=60)
    high_anchor: str | None = Field(default=None, max_length=60)
    better: Literal["lower", "higher", "neither"] = "lower"
    kind: Literal["rated", "side_effect"] = "rated"

    _blank = field_validator("label", "low_anchor", "high_anchor", mode="before")(_blank_to_none)
    _storable = field_validator("label", "low_anchor", "high_anchor")(_storable_text)

    @model_validator(mode="after")
    def _anchors_for_scales(self) -> ItemCreate:
        if self.kind == "rated":
            missing = [name for name in ("low_anchor", "high_anchor") if not getattr(self, name)]
            if missing:
                raise ValueError(f"A 0–100 item needs words for both ends: {' and '.join(missing)}")
        return self


class PackPublic(BaseModel):
    key: str
    name: str
    description: str
    items: list[ItemPublic]
