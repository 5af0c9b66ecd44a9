"""A day's history (SPEC §2.4): the earlier versions kept by every save, and restoring one.

The versions themselves are written by `entries.save_entry` and `entries.delete_entry`; this
module reads them back, in the patient's words, and turns one into the current version again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, select

from app.models import MAX_ROW_ID, EntryRevision, User
from app.schemas import EntryAnswers
from app.services import entries

# Where a version came from, as the day page says it.
SOURCE_WORDS: dict[str, str] = {
    "web": "saved on the web",
    "api": "from the app",
    "sync": "synced from this phone",
    "import": "imported",
}
# Why a version stopped being the current one.
REASON_WORDS: dict[str, str] = {
    "edited": "replaced by a later edit",
    "superseded": "an older edit from another device; the later change was kept",
    "deleted": "the day was deleted",
    "restored": "replaced when an earlier version was restored",
    "imported": "replaced by an imported backup",
}
# Keys of a kept version that are not answers (the snapshot also records where it came from).
_SNAPSHOT_ONLY_KEYS = ("date", "source")


class RevisionUnusable(ValueError):
    """A kept version that can no longer be turned back into answers."""


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive ones are UTC already (SQLite drops the offset)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def has_history(session: Session, *, user_id: int, day: date) -> bool:
    """True when the patient has the day now or had it once (a deleted day keeps its history)."""
    if entries.get_entry(session, user_id=user_id, day=day) is not None:
        return True
    statement = select(EntryRevision.id).where(
        EntryRevision.user_id == user_id, EntryRevision.day == day
    )
    return session.exec(statement).first() is not None


def get_revision(
    session: Session, *, user_id: int, day: date, revision_id: int
) -> EntryRevision | None:
    """One kept version of the patient's own day; another patient's is as good as missing."""
    if not 0 < revision_id <= MAX_ROW_ID:
        return None  # no such row, and the database cannot even be asked about it
    statement = select(EntryRevision).where(
        EntryRevision.id == revision_id,
        EntryRevision.user_id == user_id,
        EntryRevision.day == day,
    )
    return session.exec(statement).first()


def revision_answers(data: dict[str, Any]) -> EntryAnswers:
    """The answers a kept version holds, checked with today's rules, as a fresh web edit."""
    answers = {key: value for key, value in data.items() if key not in _SNAPSHOT_ONLY_KEYS}
    # A restore is a new edit made now on the web, not a replay of the old device's edit.
    answers["client_id"] = None
    answers["client_edited_at"] = None
    try:
        return EntryAnswers.model_validate(answers)
    except ValidationError as invalid:
        raise RevisionUnusable("This version cannot be restored: it holds no answers.") from invalid


def restore_revision(
    session: Session, *, user: User, revision: EntryRevision
) -> entries.SaveOutcome:
    """Make a kept version the current one; the version it replaces is kept in turn."""
    answers = revision_answers(revision.data)
    return entries.save_entry(
        session, user=user, day=revision.day, answers=answers, source="web", reason="restored"
    )
