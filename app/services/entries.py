"""Diary entries (SPEC §2): saving a day, keeping every earlier version, listing days.

Every write goes through `save_entry` or `delete_entry`, which keep the version being
replaced in `entry_revision`, so nothing a patient wrote is ever lost silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from app.db import DirectStatement, as_loaded
from app.items import OTHER_ANSWER_KEYS, RATED_KEYS, SIDE_EFFECT_KEYS
from app.items.patient import Catalogue, catalogue_for
from app.models import DiaryEntry, EntryRevision, User, utcnow
from app.schemas import (
    EARLIEST_DIARY_DAY,
    DatedEntryAnswers,
    EntryAnswers,
    EntryPublic,
    SaveStatus,
)
from app.services.dose_steps import format_day, list_steps, scheduled_dose

Source = Literal["web", "api", "sync", "import"]
# A day's answers: the item values by kind, then the other answers (SPEC §2.3).
ANSWER_KEYS: tuple[str, ...] = ("ratings", "side_effects", *OTHER_ANSWER_KEYS)
CHECK_IN_KEYS = ("tolerability", "pgic")


class DiaryDayRefused(ValueError):
    """The diary day is outside what can be recorded (after tomorrow, or implausibly old)."""

    index: int | None = None  # position in a batch, when the day came in one


class UnknownItem(ValueError):
    """An answer names an item the patient's catalogue does not have (or of another kind)."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.index: int | None = None  # position in a batch, when the day came in one


class DayRepeated(DiaryDayRefused):
    """The same diary day came twice in one batch: which version was meant is unclear."""


@dataclass(frozen=True)
class SaveOutcome:
    """What a save did, and the day as it now is (None when it stays deleted)."""

    entry: DiaryEntry | None
    status: SaveStatus


def patient_now(user: User) -> datetime:
    return datetime.now(ZoneInfo(user.timezone))


def patient_today(user: User) -> date:
    """Today on the patient's own calendar, not the server's."""
    return patient_now(user).date()


def check_diary_day(day: date, *, today: date) -> None:
    """Refuse days after tomorrow and days before the year 2000."""
    if day > today + timedelta(days=1):
        raise DiaryDayRefused(
            f"{format_day(day)} is in the future. You can fill in today or tomorrow, not later."
        )
    if day < EARLIEST_DIARY_DAY:
        raise DiaryDayRefused("Diary days start in the year 2000.")


def is_retrospective(day: date, *, first_saved: datetime, timezone: str) -> bool:
    """Saved after the end of the day following the diary day, on the patient's clock."""
    zone = ZoneInfo(timezone)
    deadline = datetime.combine(day + timedelta(days=2), time(0, 0), tzinfo=zone)
    return first_saved >= deadline


def _answered(values: Any) -> dict[str, int]:
    """The answered values of a {key: value} object, sorted by key (null = not answered)."""
    if not isinstance(values, dict):
        return {}
    return {str(key): value for key, value in sorted(values.items()) if value is not None}


def stored_fields(answers: dict[str, Any]) -> dict[str, Any]:
    """Answers in the flat shape of the first diary (built-in items as their own keys, side
    effects as one object) turned into DiaryEntry's fields; other keys pass through."""
    fields = dict(answers)
    ratings = _answered(fields.pop("ratings", {}))
    effects = _answered(fields.pop("side_effects", {}))
    for key in RATED_KEYS:
        if key in fields:
            value = fields.pop(key)
            if value is not None:
                ratings[key] = value
    for key in SIDE_EFFECT_KEYS:
        if key in fields:
            value = fields.pop(key)
            if value is not None:
                effects[key] = value
    fields["ratings"] = dict(sorted(ratings.items()))
    fields["side_effects"] = dict(sorted(effects.items()))
    return fields


def answers_dict(entry: DiaryEntry) -> dict[str, Any]:
    """The entry's answers: `ratings` and `side_effects` (answered items only), then the rest."""
    values: dict[str, Any] = {
        "ratings": _answered(entry.ratings),
        "side_effects": _answered(entry.side_effects),
    }
    values.update({key: getattr(entry, key) for key in OTHER_ANSWER_KEYS})
    return values


def flat_answers(answers: EntryAnswers) -> dict[str, Any]:
    values: dict[str, Any] = {
        "ratings": _answered(answers.rating_values()),
        "side_effects": _answered(answers.side_effect_values()),
    }
    values.update({key: getattr(answers, key) for key in OTHER_ANSWER_KEYS})
    return values


def check_item_keys(answers: EntryAnswers, catalogue: Catalogue) -> None:
    """Refuse answers to items the patient's catalogue does not have (UnknownItem)."""
    rated = catalogue.keys("rated")
    for key in answers.ratings:
        if key not in rated:
            raise UnknownItem(
                ("ratings", key),
                f"{key} is not a 0–100 item of this diary (GET /api/v1/items lists them)",
            )
    effects = catalogue.keys("side_effect")
    for key in answers.side_effects:
        if key not in effects:
            raise UnknownItem(
                ("side_effects", key),
                f"{key} is not a side effect of this diary (GET /api/v1/items lists them)",
            )


def snapshot_values(data: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """The rated values and side effects a kept version holds, in either shape it was kept in
    (built-in items at the top level before items were data, `ratings` since)."""
    ratings = _answered(data.get("ratings"))
    for key in RATED_KEYS:
        if data.get(key) is not None:
            ratings[key] = data[key]
    return dict(sorted(ratings.items())), _answered(data.get("side_effects"))


def entry_snapshot(entry: DiaryEntry) -> dict[str, Any]:
    """A JSON-ready copy of a version of the day, kept in the revision history."""
    data = answers_dict(entry)
    data.update({key: data["ratings"].get(key) for key in RATED_KEYS})
    data["date"] = entry.day.isoformat()
    data["source"] = entry.source
    data["client_id"] = entry.client_id
    data["client_edited_at"] = (
        entry.client_edited_at.isoformat() if entry.client_edited_at else None
    )
    return data


def get_entry(session: Session, *, user_id: int, day: date) -> DiaryEntry | None:
    statement = select(DiaryEntry).where(DiaryEntry.user_id == user_id, DiaryEntry.day == day)
    return session.exec(statement).first()


def list_entries(
    session: Session, *, user_id: int, start: date | None = None, end: date | None = None
) -> list[DiaryEntry]:
    """The patient's entries between two dates (inclusive, both optional), oldest first."""
    statement = select(DiaryEntry).where(DiaryEntry.user_id == user_id)
    if start is not None:
        statement = statement.where(DiaryEntry.day >= start)
    if end is not None:
        statement = statement.where(DiaryEntry.day <= end)
    return list(session.exec(statement.order_by(col(DiaryEntry.day))))


def edit_key(client_id: Any, edited_at: datetime | None) -> str | None:
    """How a device edit is looked up in the history: its device and its device time."""
    if not isinstance(client_id, str) or edited_at is None:
        return None
    return f"{client_id}|{_utc(edited_at).isoformat()}"[:160]


def snapshot_edit_key(data: dict[str, Any]) -> str | None:
    """The device edit a kept version was, if a device named it."""
    return edit_key(data.get("client_id"), _snapshot_time(data))


def _keep_revision(
    connection: Connection, *, entry: DiaryEntry, reason: str, data: dict[str, Any] | None = None
) -> None:
    snapshot = data if data is not None else entry_snapshot(entry)
    row = {
        "user_id": entry.user_id,
        "day": entry.day,
        "data": snapshot,
        "source": entry.source,
        "saved_at": entry.updated_at,
        "replaced_at": utcnow(),
        "reason": reason,
        "edit_key": snapshot_edit_key(snapshot),
    }
    _INSERT_REVISION.run(connection, row)


# Every replacing save writes one revision and one day: statements built once and run on the
# driver's cursor (app.db `DirectStatement`; the ORM's unit of work took half of a save's
# time, SQLAlchemy's execution layer most of the rest), see `_replace`.
_DAYS: Final = DiaryEntry.__table__  # type: ignore[attr-defined]
_REVISIONS: Final = EntryRevision.__table__  # type: ignore[attr-defined]


def _set_on_insert(table: Any) -> list[str]:
    """The columns an INSERT of a new row sets: all but the id the database gives it."""
    return [column.key for column in table.c if column.key != "id"]


_NEW_DAY_COLUMNS: Final = _set_on_insert(_DAYS)
_INSERT_REVISION: Final = DirectStatement(_REVISIONS.insert(), columns=_set_on_insert(_REVISIONS))
_REPLACED_COLUMNS: Final = (*ANSWER_KEYS, "source", "updated_at", "client_id", "client_edited_at")
_UPDATE_DAY: Final = DirectStatement(
    _DAYS.update().where(_DAYS.c.id == bindparam("entry_id")), columns=_REPLACED_COLUMNS
)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _device_time(answers: EntryAnswers) -> datetime | None:
    """The device's edit time as the device sent it, in UTC (naive means UTC).

    Kept as sent, so a replay of the same edit is recognised however late it arrives; only
    `_edit_order` limits it, when edits are compared.
    """
    if answers.client_edited_at is None:
        return None
    return _utc(answers.client_edited_at)


def _edit_order(edited_at: datetime | None, received_at: datetime) -> datetime:
    """When an edit counts as made, to order it against others: the device's time, but never
    after the server received it, so a device whose clock runs fast cannot win over edits made
    after its own (and an edit without a device time was made when it was received)."""
    received_at = _utc(received_at)
    return received_at if edited_at is None else min(_utc(edited_at), received_at)


def _first_saved(
    user: User, *, source: Source, edited_at: datetime | None, now: datetime
) -> datetime:
    """When the day was first written down, for the retrospective flag (SPEC §2.4).

    Only the offline outbox ("sync") may say the patient wrote the day earlier than the server
    received it; that time is never taken as earlier than the account itself, so a made-up
    device time cannot hide a back-filled day from the doctor.
    """
    if source != "sync" or edited_at is None:
        return now
    return min(max(edited_at, _utc(user.created_at)), now)


def _snapshot_answers(data: dict[str, Any]) -> dict[str, Any]:
    """The answers a kept version holds, in the shape of `answers_dict`."""
    ratings, side_effects = snapshot_values(data)
    flat: dict[str, Any] = {"ratings": ratings, "side_effects": side_effects}
    flat.update({key: data.get(key) for key in OTHER_ANSWER_KEYS})
    return flat


def _snapshot_time(data: dict[str, Any]) -> datetime | None:
    raw = data.get("client_edited_at")
    if not isinstance(raw, str):
        return None
    try:
        return _utc(datetime.fromisoformat(raw))
    except ValueError:
        return None


@dataclass(frozen=True)
class _Edit:
    """One save request: the answers, which device made them and when."""

    values: dict[str, Any]
    client_id: str | None
    edited_at: datetime | None  # as the device sent it
    received_at: datetime

    @property
    def order(self) -> datetime:
        return _edit_order(self.edited_at, self.received_at)

    @property
    def replayable(self) -> bool:
        """Only an edit named by its device and edit time can arrive again as a replay."""
        return self.client_id is not None and self.edited_at is not None

    def is_entry(self, entry: DiaryEntry) -> bool:
        """The same device edit as the day's current version: same key, same answers."""
        return (
            self.replayable
            and entry.client_id == self.client_id
            and entry.client_edited_at is not None
            and _utc(entry.client_edited_at) == self.edited_at
            and answers_dict(entry) == self.values
        )

    def is_snapshot(self, data: dict[str, Any]) -> bool:
        """The same device edit as a kept version of the day."""
        return (
            self.replayable
            and data.get("client_id") == self.client_id
            and _snapshot_time(data) == self.edited_at
            and _snapshot_answers(data) == self.values
        )


def _locked_entry(connection: Connection, *, user_id: int, day: date) -> DiaryEntry | None:
    """The day's row, locked until the transaction ends (PostgreSQL; SQLite has one writer).

    Two saves of one day from two app processes then run one after the other, and the second
    keeps the version the first wrote, not the one both read before either wrote. The row is
    read with a Core statement and handed over detached (app.db `as_loaded`): the session
    never holds it, and a save writes it with its own statements (`_replace`, `delete_day`).
    """
    parameters = {"user_id": user_id, "day": day}
    row = _LOCKED_ROW.first(connection, parameters)
    return as_loaded(DiaryEntry, row._asdict()) if row is not None else None


# Run on every save: built once (building a statement costs more than running it).
_LOCKED_ROW: Final = DirectStatement(
    sa_select(_DAYS)
    .where(_DAYS.c.user_id == bindparam("user_id"), _DAYS.c.day == bindparam("day"))
    .with_for_update()
)
_DELETE_DAY: Final = DirectStatement(_DAYS.delete().where(_DAYS.c.id == bindparam("entry_id")))


# A day's first version, unless another app process saved one first (then no id comes back):
# ON CONFLICT leaves their row without failing this transaction (a batch carries on), and
# without the two round trips of a savepoint. On SQLite (one writer) it cannot happen.
def _insert_new_day(dialect: Any) -> DirectStatement:
    statement = (
        dialect.insert(_DAYS)
        .on_conflict_do_nothing(index_elements=[_DAYS.c.user_id, _DAYS.c.day])
        .returning(_DAYS.c.id)
    )
    return DirectStatement(statement, columns=_NEW_DAY_COLUMNS)


_INSERT_NEW_DAY: Final = {
    "postgresql": _insert_new_day(postgresql),
    "sqlite": _insert_new_day(sqlite),
}


# A save reads at most this many of a day's kept versions (a day edited 50,000 times still
# saves in milliseconds): versions of one device edit are found by their key, and a version
# without one is compared with the most recent versions only.
REVISIONS_SCANNED = 100


def _kept_versions(key: bool) -> DirectStatement:
    """What a day's latest kept versions hold (at most REVISIONS_SCANNED); with `key`, only
    the versions of one device edit."""
    statement = sa_select(_REVISIONS.c.data).where(
        _REVISIONS.c.user_id == bindparam("user_id"), _REVISIONS.c.day == bindparam("day")
    )
    if key:
        statement = statement.where(_REVISIONS.c.edit_key == bindparam("key"))
    return DirectStatement(statement.order_by(_REVISIONS.c.id.desc()).limit(REVISIONS_SCANNED))


_VERSIONS_OF_EDIT: Final = _kept_versions(key=True)
_LATEST_VERSIONS: Final = _kept_versions(key=False)
_LAST_DELETION: Final = DirectStatement(
    sa_select(_REVISIONS.c.replaced_at)
    .where(
        _REVISIONS.c.user_id == bindparam("user_id"),
        _REVISIONS.c.day == bindparam("day"),
        _REVISIONS.c.reason == "deleted",
    )
    .order_by(_REVISIONS.c.replaced_at.desc())
    .limit(1)
)


def _day_revisions(
    connection: Connection, *, user_id: int, day: date, key: str | None
) -> list[dict[str, Any]]:
    """What the day's kept versions of the device edit `key` hold; without a key, what the
    latest few hold."""
    where: dict[str, Any] = {"user_id": user_id, "day": day}
    if key is None:
        return [row.data for row in _LATEST_VERSIONS.rows(connection, where)]
    return [row.data for row in _VERSIONS_OF_EDIT.rows(connection, {**where, "key": key})]


def _seen_before(connection: Connection, *, user_id: int, day: date, edit: _Edit) -> bool:
    """True when this device edit is already in the day's history (a replay)."""
    if not edit.replayable:
        return False
    key = edit_key(edit.client_id, edit.edited_at)
    return any(
        edit.is_snapshot(data)
        for data in _day_revisions(connection, user_id=user_id, day=day, key=key)
    )


def _last_deletion(connection: Connection, *, user_id: int, day: date) -> datetime | None:
    row = _LAST_DELETION.first(connection, {"user_id": user_id, "day": day})
    return _utc(row.replaced_at) if row is not None else None


def _keep_superseded(
    connection: Connection, *, user: User, day: date, edit: _Edit, source: Source
) -> None:
    """Keep an edit that lost to a later change in the day's history (once)."""
    assert user.id is not None
    incoming = DiaryEntry(
        user_id=user.id,
        day=day,
        source=source,
        updated_at=edit.received_at,
        client_id=edit.client_id,
        client_edited_at=edit.edited_at,
        **edit.values,
    )
    snapshot = entry_snapshot(incoming)
    if not _revision_exists(connection, user_id=user.id, day=day, snapshot=snapshot):
        _keep_revision(connection, entry=incoming, reason="superseded", data=snapshot)


def save_entry(
    session: Session,
    *,
    user: User,
    day: date,
    answers: EntryAnswers,
    source: Source,
    commit: bool = True,
    reason: str = "edited",
    catalogue: Catalogue | None = None,
) -> SaveOutcome:
    """Create or replace the patient's entry for `day`, keeping the replaced version.

    Replays of the same device edit change nothing. When two devices edited the same day,
    the later edit wins and the other goes to the revision history ("superseded"); an edit
    made before the day was deleted does not bring it back ("stays_deleted").
    """
    outcome = write_entry(
        session.connection(),
        user=user,
        day=day,
        answers=answers,
        source=source,
        reason=reason,
        catalogue=catalogue or catalogue_for(session, user=user),
    )
    if commit:
        session.commit()  # every field is set here, so nothing needs reading back
    else:
        session.flush()
    return outcome


def write_entry(
    connection: Connection,
    *,
    user: User,
    day: date,
    answers: EntryAnswers,
    source: Source,
    catalogue: Catalogue,
    reason: str = "edited",
) -> SaveOutcome:
    """`save_entry` on a connection, in its transaction, which the caller commits (the API's
    save: see `Database.run_write`). Every statement of the save runs on this connection."""
    assert user.id is not None
    check_diary_day(day, today=patient_today(user))
    check_item_keys(answers, catalogue)
    edit = _edit_of(answers)
    entry = _locked_entry(connection, user_id=user.id, day=day)
    return _save(
        connection, user=user, day=day, edit=edit, source=source, reason=reason, entry=entry
    )


def _save(
    connection: Connection,
    *,
    user: User,
    day: date,
    edit: _Edit,
    source: Source,
    reason: str,
    entry: DiaryEntry | None,
) -> SaveOutcome:
    """The save's rules, given the day's row as read and locked (None: there was none)."""
    assert user.id is not None
    outcome = None
    if entry is None:
        outcome = _save_new_day(connection, user=user, day=day, edit=edit, source=source)
        if outcome is None:
            # Another app process saved the day's first version meanwhile: this is an edit of it.
            entry = _locked_entry(connection, user_id=user.id, day=day)
            assert entry is not None
    if outcome is None:
        assert entry is not None
        outcome = _save_over(
            connection, user=user, entry=entry, edit=edit, source=source, reason=reason
        )
    return outcome


def _edit_of(answers: EntryAnswers) -> _Edit:
    return _Edit(
        values=flat_answers(answers),
        client_id=answers.client_id,
        edited_at=_device_time(answers),
        received_at=utcnow(),
    )


def _save_new_day(
    connection: Connection, *, user: User, day: date, edit: _Edit, source: Source
) -> SaveOutcome | None:
    """The day's first version, or None when another process created the day meanwhile."""
    assert user.id is not None
    if _seen_before(connection, user_id=user.id, day=day, edit=edit):
        return SaveOutcome(entry=None, status="stays_deleted")  # a replay, after a deletion
    if edit.edited_at is not None:
        deleted_at = _last_deletion(connection, user_id=user.id, day=day)
        if deleted_at is not None and edit.order < deleted_at:
            _keep_superseded(connection, user=user, day=day, edit=edit, source=source)
            return SaveOutcome(entry=None, status="stays_deleted")
    first_saved = _first_saved(user, source=source, edited_at=edit.edited_at, now=edit.received_at)
    entry = DiaryEntry(
        user_id=user.id,
        day=day,
        source=source,
        retrospective=is_retrospective(day, first_saved=first_saved, timezone=user.timezone),
        created_at=edit.received_at,
        updated_at=edit.received_at,
        client_id=edit.client_id,
        client_edited_at=edit.edited_at,
        **edit.values,
    )
    values = {key: getattr(entry, key) for key in _NEW_DAY_COLUMNS}
    inserted = _INSERT_NEW_DAY[connection.dialect.name].first(connection, values)
    if inserted is None:
        return None
    entry.id = inserted.id
    make_transient_to_detached(entry)  # as if read back, and detached like `_locked_entry`'s
    return SaveOutcome(entry=entry, status="created")


def _save_over(
    connection: Connection,
    *,
    user: User,
    entry: DiaryEntry,
    edit: _Edit,
    source: Source,
    reason: str,
) -> SaveOutcome:
    """Replace the day's current version with the edit, unless the edit is older or a replay."""
    assert user.id is not None
    if edit.is_entry(entry):
        return SaveOutcome(entry=entry, status="unchanged")  # the same device edit again
    if _seen_before(connection, user_id=user.id, day=entry.day, edit=edit):
        # A replay of an edit that a later change already replaced: it stays in the history.
        return SaveOutcome(entry=entry, status="superseded")
    current = _edit_order(entry.client_edited_at, entry.updated_at)
    if answers_dict(entry) == edit.values and entry.client_id == edit.client_id:
        # The same answers from the same device, earlier or later: nothing to keep.
        if edit.replayable and edit.order > current:
            # Edited again later: the day now counts as made then, so another device's edit
            # made in between, arriving next, is superseded, as it would be had the answers
            # changed. (A page's save has no device time: it leaves the day be.)
            _replace(connection, entry=entry, edit=edit, source=source)
        return SaveOutcome(entry=entry, status="unchanged")
    if edit.edited_at is not None and edit.order < current:
        # An older edit from another device (or one made before the day was last saved
        # online, which has no device time: its save time stands in): keep it in the history.
        _keep_superseded(connection, user=user, day=entry.day, edit=edit, source=source)
        return SaveOutcome(entry=entry, status="superseded")
    _keep_revision(connection, entry=entry, reason=reason)
    _replace(connection, entry=entry, edit=edit, source=source)
    return SaveOutcome(entry=entry, status="replaced")


def _replace(connection: Connection, *, entry: DiaryEntry, edit: _Edit, source: Source) -> None:
    """Write the edit over the day's row with one UPDATE, and give `entry` the same values as
    already saved ones: the session has nothing of it left to write at the commit."""
    values: dict[str, Any] = {
        **{
            key: dict(value) if isinstance(value, dict) else value
            for key, value in edit.values.items()
        },
        "source": source,
        "updated_at": edit.received_at,
        "client_id": edit.client_id,
        "client_edited_at": edit.edited_at,
    }
    _UPDATE_DAY.run(connection, {"entry_id": entry.id, **values})
    # As saved: `entry` is detached (`_locked_entry`), so nothing tracks its changes.
    entry.__dict__.update(values)


def _revision_exists(
    connection: Connection, *, user_id: int, day: date, snapshot: dict[str, Any]
) -> bool:
    key = snapshot_edit_key(snapshot)
    return any(
        data == snapshot for data in _day_revisions(connection, user_id=user_id, day=day, key=key)
    )


def save_batch(
    session: Session,
    *,
    user: User,
    entries: Sequence[DatedEntryAnswers],
    source: Source,
    catalogue: Catalogue | None = None,
) -> list[SaveOutcome]:
    """Save every entry or none: one transaction, rolled back on the first refusal."""
    today = patient_today(user)
    first_index: dict[date, int] = {}
    for index, item in enumerate(entries):
        try:
            check_diary_day(item.date, today=today)
            if item.date in first_index:
                raise DayRepeated(
                    f"{format_day(item.date)} is already entry {first_index[item.date]} of "
                    "this batch. Send each day once."
                )
        except DiaryDayRefused as refusal:
            refusal.index = index
            raise
        first_index[item.date] = index
    catalogue = catalogue or catalogue_for(session, user=user)
    for index, item in enumerate(entries):
        try:
            check_item_keys(item, catalogue)
        except UnknownItem as unknown:
            unknown.index = index
            raise
    try:
        outcomes = _save_days(session.connection(), user=user, entries=entries, source=source)
        session.commit()  # each day holds what was written: nothing needs reading back
    except Exception:
        session.rollback()
        raise
    return outcomes


def _save_days(
    connection: Connection, *, user: User, entries: Sequence[DatedEntryAnswers], source: Source
) -> list[SaveOutcome]:
    """The save's rules for each day of a checked batch, with every day's row read (and
    locked) in one statement, where `save_entry` reads each in its own: a statement costs
    more than the work it does (on SQLite each also gives up Python's interpreter lock, and
    must wait to take it back while the event loop is busy), and SQLite's write lock is held
    meanwhile."""
    assert user.id is not None
    current = _locked_days(connection, user_id=user.id, days=[item.date for item in entries])
    return [
        _save(
            connection,
            user=user,
            day=item.date,
            edit=_edit_of(item),
            source=source,
            reason="edited",
            entry=current.get(item.date),
        )
        for item in entries
    ]


def _locked_days(
    connection: Connection, *, user_id: int, days: list[date]
) -> dict[date, DiaryEntry]:
    """The rows of these days that exist, locked until the transaction ends, in the order of
    their days (so two batches lock the days they share in the same order)."""
    statement = (
        sa_select(_DAYS)
        .where(_DAYS.c.user_id == user_id, _DAYS.c.day.in_(days))
        .order_by(_DAYS.c.day)
        .with_for_update()
    )
    rows = connection.execute(statement)
    return {row.day: as_loaded(DiaryEntry, row._asdict()) for row in rows}


def delete_entry(session: Session, *, entry: DiaryEntry) -> None:
    """Remove this entry's day (see `delete_day`)."""
    delete_day(session, user_id=entry.user_id, day=entry.day)


def delete_day(session: Session, *, user_id: int, day: date) -> bool:
    """Remove a day from the diary; its last version stays in the revision history. False
    when there was no such day (or another request deleted it first)."""
    # Locked and read here: a save that landed since the day was last read is the version kept.
    connection = session.connection()
    current = _locked_entry(connection, user_id=user_id, day=day)
    if current is None:
        session.commit()
        return False
    _keep_revision(connection, entry=current, reason="deleted")
    _DELETE_DAY.run(connection, {"entry_id": current.id})
    session.commit()
    return True


def list_revisions(
    session: Session,
    *,
    user_id: int,
    day: date,
    limit: int | None = None,
    offset: int = 0,
) -> list[EntryRevision]:
    """Earlier versions of a day, newest first; a page of them with `limit` and `offset`."""
    statement = (
        select(EntryRevision)
        .where(EntryRevision.user_id == user_id, EntryRevision.day == day)
        .order_by(col(EntryRevision.replaced_at).desc(), col(EntryRevision.id).desc())
        .offset(offset)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement))


def entry_public(
    entry: DiaryEntry, *, scheduled_dose_mg: float | None, catalogue: Catalogue
) -> EntryPublic:
    """The API shape of an entry, with the dose the schedule sets for that day.

    `ratings` and `side_effects` name every built-in item, every item the patient tracks and
    every item the day answers (null = not answered); the built-in rated items are at the
    top level too, as before items were data.
    """
    values = answers_dict(entry)
    answered_ratings = values.pop("ratings")
    answered_effects = values.pop("side_effects")
    ratings: dict[str, int | None] = dict.fromkeys(catalogue.listed("rated"))
    ratings.update(answered_ratings)
    side_effects: dict[str, int | None] = dict.fromkeys(catalogue.listed("side_effect"))
    side_effects.update(answered_effects)
    return EntryPublic(
        date=entry.day,
        ratings=ratings,
        side_effects=side_effects,
        **{key: answered_ratings.get(key) for key in RATED_KEYS},
        scheduled_dose_mg=scheduled_dose_mg,
        source=entry.source,
        retrospective=entry.retrospective,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
        **values,
    )


def entries_public(session: Session, *, user: User, entries: Sequence[DiaryEntry]) -> list[Any]:
    assert user.id is not None
    steps = list_steps(session, user_id=user.id)
    catalogue = catalogue_for(session, user=user)
    return [
        entry_public(entry, scheduled_dose_mg=scheduled_dose(steps, entry.day), catalogue=catalogue)
        for entry in entries
    ]


def check_in_due(session: Session, *, user_id: int, day: date) -> bool:
    """True when the 14-day check-in (tolerability, PGIC) should be asked on `day`."""
    window_start = day - timedelta(days=13)
    recent = select(DiaryEntry.id).where(
        DiaryEntry.user_id == user_id,
        DiaryEntry.day >= window_start,
        DiaryEntry.day < day,
        (col(DiaryEntry.tolerability).is_not(None)) | (col(DiaryEntry.pgic).is_not(None)),
    )
    if session.exec(recent).first() is not None:
        return False
    # A new diary asks first once it has run for two weeks.
    earlier = select(DiaryEntry.id).where(
        DiaryEntry.user_id == user_id, DiaryEntry.day <= window_start
    )
    return session.exec(earlier).first() is not None
