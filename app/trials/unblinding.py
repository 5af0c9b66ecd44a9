"""Unblinding with the pharmacy sheet's code, with wrong codes limited (SPEC §14).

The code is 60 random bits and every try costs scrypt, yet nothing should let anyone (someone
holding the patient's phone or token, or a script) try codes online without end. Every code
tried is written down before it is checked; after `per_window` of them within `window` for one
patient or one trial, the next is refused (429, or a message beside the field) until the
oldest leaves the window. The right code, tried after the wait, still opens the trial, and it
clears the patient's attempts.

Three short steps, like signing in (app.deps.signing_in), so the slow scrypt work never holds
a write (on SQLite, the app's write lock): count the attempt in one write; open the sealed
allocation with no database work at all; write the result down in a second write that reads
the trial afresh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, col, delete, func, select

from app.db import Database, fresh
from app.models import SelfTrial, UnblindAttempt, utcnow
from app.trials import service


@dataclass(frozen=True)
class CodeRules:
    """How many codes may be tried in how long, per patient and per trial."""

    per_window: int = 5
    window: timedelta = timedelta(minutes=15)


RULES = CodeRules()


def count_attempt(session: Session, *, trial: SelfTrial, rules: CodeRules = RULES) -> None:
    """Write down one code tried on `trial`; TooManyCodes when the limit is reached.

    Counting and writing happen under a lock per patient (SQLite: the write transaction;
    PostgreSQL: an advisory lock), so codes sent in parallel are counted one after another
    and at most `per_window` of them ever reach scrypt.
    """
    assert trial.id is not None
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(4, :user_id)"), {"user_id": trial.user_id}
        )
    since = utcnow() - rules.window
    session.exec(
        delete(UnblindAttempt).where(
            col(UnblindAttempt.user_id) == trial.user_id, col(UnblindAttempt.attempted_at) < since
        )
    )
    counted = (col(UnblindAttempt.user_id) == trial.user_id) | (
        col(UnblindAttempt.trial_id) == trial.id
    )
    recent = select(func.count()).where(col(UnblindAttempt.attempted_at) >= since, counted)
    if session.exec(recent).one() >= rules.per_window:
        oldest = session.exec(
            select(func.min(UnblindAttempt.attempted_at)).where(
                col(UnblindAttempt.attempted_at) >= since, counted
            )
        ).one()
        session.commit()
        raise service.TooManyCodes(_seconds_until_free(oldest, rules.window))
    session.add(UnblindAttempt(user_id=trial.user_id, trial_id=trial.id))
    session.commit()


def _seconds_until_free(oldest: datetime | None, window: timedelta) -> int:
    if oldest is None:
        return 60
    if oldest.tzinfo is None:  # SQLite hands back naive UTC from an aggregate
        oldest = oldest.replace(tzinfo=UTC)
    return max(1, math.ceil((oldest + window - utcnow()).total_seconds()))


def clear_attempts(session: Session, *, user_id: int) -> None:
    """The right code: the patient starts afresh."""
    session.exec(delete(UnblindAttempt).where(col(UnblindAttempt.user_id) == user_id))


def unblind_with_code(
    database: Database, *, trial: SelfTrial, code: str, today: date, rules: CodeRules = RULES
) -> SelfTrial:
    """Open `trial` (read by a dependency) with the pharmacy sheet's code and record the
    result; raises the service's TrialRefused kinds (TooManyCodes while limited)."""
    service.check_unblinding(trial, code=code, today=today)
    with database.write() as session:
        current = fresh(session, trial)
        service.check_unblinding(current, code=code, today=today)
        count_attempt(session, trial=current, rules=rules)
    ldn_first = service.open_allocation(current, code=code)  # a wrong code stays counted
    with database.write() as session:
        current = fresh(session, trial)
        clear_attempts(session, user_id=current.user_id)
        return service.record_unblinding(session, trial=current, ldn_first=ldn_first, today=today)
