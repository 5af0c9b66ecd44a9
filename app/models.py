"""All database tables.

Request and response shapes live in app/schemas.py; these classes are only what is stored.
Every row a patient owns carries `user_id` with ON DELETE CASCADE, so deleting an account
removes everything it owned.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

# Row ids are INTEGER columns: 32 bits on PostgreSQL, so no id can be larger than this.
MAX_ROW_ID = 2**31 - 1


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (what every timestamp column stores)."""
    return datetime.now(UTC)


def _owner_column() -> Any:
    return Field(
        sa_column=Column(
            Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    # The patient's IANA time zone: it decides which calendar day "today" is for them.
    timezone: str = Field(default="UTC", max_length=64)
    # What the patient takes LDN for, in their words ("long COVID"): it names the overall item.
    condition: str | None = Field(default=None, max_length=60)
    # The rated item the comparison's summary leads with (SPEC §4.1); None is the default, pain.
    primary_item: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class BrowserSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "browser_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner_column()
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API, stored hashed, revocable."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner_column()
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class DoseStep(SQLModel, table=True):
    """From `start_date` on, the patient takes `dose_mg` (0 = baseline or a pause)."""

    __tablename__ = "dose_step"
    __table_args__ = (UniqueConstraint("user_id", "start_date", name="uq_dose_step_user_date"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner_column()
    start_date: date
    dose_mg: float
    dosing_time: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, max_length=500)
    # A future step of the plan (SPEC §13), until the patient starts it on its day.
    planned: bool = False
    # "capsule" | "liquid" | "cream" | None; liquid LDN also says its strength.
    form: str | None = Field(default=None, max_length=16)
    mg_per_ml: float | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DiaryEntry(SQLModel, table=True):
    """One diary day. Every answer is nullable: null means "not answered", never 0."""

    __tablename__ = "diary_entry"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_diary_entry_user_day"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner_column()
    day: date = Field(index=True)

    # The answers of every item (SPEC §2.5), by item key; an unanswered item has no key.
    # Rated items hold 0–100, side effects 0–3. JSON, so a new item needs no migration.
    ratings: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    side_effects: dict[str, int] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    other_text: str | None = Field(default=None, max_length=200)

    dose_taken: bool | None = None
    dose_time: str | None = Field(default=None, max_length=5)
    dose_mg: float | None = None
    notes: str | None = Field(default=None, max_length=2000)
    tolerability: int | None = None
    pgic: int | None = None

    source: str = Field(default="web", max_length=16)
    retrospective: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Offline sync: the device that last wrote this day and when the patient edited it there.
    client_id: str | None = Field(default=None, max_length=64)
    client_edited_at: datetime | None = None


class OwnItem(SQLModel, table=True):
    """An item the patient made up (SPEC §2.5). One with data is hidden, never deleted."""

    __tablename__ = "own_item"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_own_item_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner_column()
    key: str = Field(max_length=64)
    kind: str = Field(default="rated", max_length=16)
    label: str = Field(max_length=120)
    low_anchor: str = Field(default="", max_length=60)
    high_anchor: str = Field(default="", max_length=60)
    better: str = Field(default="lower", max_length=8)
    hidden: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class ItemChoice(SQLModel, table=True):
    """Whether the patient tracks an item and where it comes in their list. Without a row an
    item keeps the app's default (built-ins tracked, pack items not)."""

    __tablename__ = "item_choice"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_item_choice_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner_column()
    key: str = Field(max_length=64)
    tracked: bool
    position: int


class EntryRevision(SQLModel, table=True):
    """A version of a diary day that was replaced or deleted, kept so nothing is lost."""

    __tablename__ = "entry_revision"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner_column()
    day: date = Field(index=True)
    # The answers as they were, in the API's entry shape.
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    source: str = Field(max_length=16)
    # When that version was saved, and why it stopped being current.
    saved_at: datetime
    replaced_at: datetime = Field(default_factory=utcnow)
    reason: str = Field(max_length=16)
    # The device edit this version was ("<client id>|<device time>"), when a device named it:
    # a save looks a replay up by it instead of reading the day's whole history.
    edit_key: str | None = Field(default=None, max_length=160)

    __table_args__ = (Index("ix_entry_revision_edit", "user_id", "day", "edit_key"),)


class ShareLink(SQLModel, table=True):
    """A read-only link to the doctor's summary. The URL holds a random token; only its hash
    is stored. The range, initials and questions are the ones the patient chose to share."""

    __tablename__ = "share_link"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner_column()
    token_hash: str = Field(max_length=64, unique=True, index=True)
    start_date: date
    end_date: date
    initials: str | None = Field(default=None, max_length=12)
    questions: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None


class ShareLinkOpening(SQLModel, table=True):
    """One time someone opened a share link: the patient sees every one."""

    __tablename__ = "share_link_opening"

    id: int | None = Field(default=None, primary_key=True)
    share_link_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("share_link.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    opened_at: datetime = Field(default_factory=utcnow)
    # "html" (the summary page) or "pdf".
    what: str = Field(max_length=8)
    user_agent: str | None = Field(default=None, max_length=200)


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, kept for a short while to slow down password guessing.

    In the database rather than in memory so that every app process behind a load balancer
    counts the same failures.
    """

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    address: str = Field(max_length=64, index=True)
    # The key of a device known to the account (a browser that signed in before, or the
    # signed-in session), or None: guesses from unknown devices never block known ones.
    device: str | None = Field(default=None, max_length=64)
    failed_at: datetime = Field(default_factory=utcnow, index=True)


class RegistrationAttempt(SQLModel, table=True):
    """An account made from a network address, kept for a day to limit registrations per
    address (many accounts from one address are a script, not a patient)."""

    __tablename__ = "registration_attempt"

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=64, index=True)
    attempted_at: datetime = Field(default_factory=utcnow, index=True)


class DosePlan(SQLModel, table=True):
    """How the patient means to raise the dose (SPEC §13), and their own rule for holding.

    The plan's future steps are ordinary dose steps marked `planned`; this row keeps what made
    them, so the doctor summary can set the plan against what happened.
    """

    __tablename__ = "dose_plan"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    template: str | None = Field(default=None, max_length=32)
    start_date: date | None = None
    start_mg: float | None = None
    step_mg: float | None = None
    every_days: int | None = None
    target_mg: float | None = None
    dosing_time: str | None = Field(default=None, max_length=16)
    form: str | None = Field(default=None, max_length=16)
    mg_per_ml: float | None = None
    # The patient's own rule, in their words, shown on step days; never one the app suggests.
    hold_rule: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class StepDecision(SQLModel, table=True):
    """What the patient chose on a step day: start the planned dose, hold, or step back.

    It keeps the doses as they were, so it still reads right after the steps change.
    """

    __tablename__ = "step_decision"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner_column()
    step_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("dose_step.id", ondelete="SET NULL"), nullable=True),
    )
    decided_on: date = Field(index=True)
    # "start" | "hold" | "step_back"
    choice: str = Field(max_length=16)
    planned_mg: float
    # The dose taken from that day on: the planned one, the one held, or the lower one.
    dose_mg: float
    # For "hold" (and optionally "step_back"): how many days the rest of the plan moved.
    days: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ReminderSettings(SQLModel, table=True):
    """Which reminders the patient wants, at their local time (SPEC §13)."""

    __tablename__ = "reminder_settings"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    diary_enabled: bool = False
    diary_time: str = Field(default="20:00", max_length=5)
    dose_enabled: bool = False
    dose_time: str = Field(default="21:30", max_length=5)
    step_day: bool = False
    updated_at: datetime = Field(default_factory=utcnow)


class PushSubscription(SQLModel, table=True):
    """A browser's Web Push subscription: where to send, and the keys to encrypt for it."""

    __tablename__ = "push_subscription"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner_column()
    endpoint: str = Field(max_length=2048, unique=True)
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    last_sent_at: datetime | None = None


class ReminderDelivery(SQLModel, table=True):
    """One reminder claimed by a sender. The unique key lets exactly one sender claim it."""

    __tablename__ = "reminder_delivery"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "local_date", name="uq_reminder_delivery_once"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner_column()
    # "diary" | "dose" | "step_day"
    kind: str = Field(max_length=16)
    local_date: date
    claimed_at: datetime = Field(default_factory=utcnow)
    # How many browsers got it (0: none subscribed or none answered).
    delivered: int = 0


class CalendarFeed(SQLModel, table=True):
    """The private calendar address: a random token in the URL, only its hash stored."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class SelfTrial(SQLModel, table=True):
    """A blinded LDN-against-placebo trial of one patient (SPEC §14; app/trials/).

    The allocation is stored only sealed under the unblinding code (app/trials/blinding.py);
    `sheet_code` holds that code wrapped with the app's secret until the trial is sealed, so
    the pharmacy sheet can be printed again before the first period, and is never exported.
    `ldn_periods` is written at unblinding, not before.
    """

    __tablename__ = "self_trial"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner_column()
    start_date: date
    pairs: int
    period_days: int
    settle_days: int
    ldn_dose_mg: float | None = None
    already_on_ldn: bool = True
    # Preregistered; both lock when the first period starts.
    primary_item: str = Field(max_length=64)
    meaningful_change: int
    # The sealed allocation (hex): scrypt salt, allocation XOR mask, and a code check value.
    seal_salt: str = Field(max_length=64)
    sealed_allocation: str = Field(max_length=64)
    code_check: str = Field(max_length=128)
    sheet_code: str | None = Field(default=None, max_length=64)
    sealed_at: datetime | None = None
    # Period number (as text) -> "ldn" | "placebo" | "unsure".
    guesses: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    unblinded_at: datetime | None = None
    unblinded_on: date | None = None
    ended_early: bool = False
    # After unblinding: the periods that held LDN, "1,4,5".
    ldn_periods: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class UnblindAttempt(SQLModel, table=True):
    """An unblinding code tried on a trial (app/trials/unblinding.py), kept for a short while
    so that wrong codes can be limited per patient and per trial: the code is 60 bits, but
    nothing should let anyone try codes online without end. Written before the code is checked;
    a right code clears the patient's attempts."""

    __tablename__ = "unblind_attempt"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner_column()
    trial_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("self_trial.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    attempted_at: datetime = Field(default_factory=utcnow, index=True)
