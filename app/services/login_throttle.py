"""Slowing down password guessing: per account and per network address (OWASP ASVS 2.2.1).

After `per_account` failed sign-ins for one email, or `per_address` from one address, within
the window, further attempts are refused with 429 until the oldest failure leaves the window.
A successful sign-in clears the account's failures. Each attempt is written down before its
password is checked (`begin`), so parallel guesses are counted too.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, text
from sqlmodel import Session, col, delete, func, select

from app.config import Settings
from app.models import LoginFailure, utcnow
from app.services.accounts import WrongPassword, normalise_email


@dataclass(frozen=True)
class ThrottleRules:
    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


def rules_from(settings: Settings) -> ThrottleRules:
    return ThrottleRules(
        per_account=settings.login_failures_per_account,
        per_address=settings.login_failures_per_address,
        window=timedelta(seconds=settings.login_window_seconds),
    )


class TooManyAttempts(Exception):
    """Sign-in refused for now; `retry_after` seconds until it is allowed again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many attempts. Try again in {math.ceil(retry_after / 60)} minutes.")
        self.retry_after = retry_after


def _wait(
    session: Session, since: datetime, window: timedelta, condition: ColumnElement[bool]
) -> int:
    oldest = session.exec(
        select(func.min(LoginFailure.failed_at)).where(LoginFailure.failed_at >= since, condition)
    ).one()
    if oldest is None:
        return 1
    if oldest.tzinfo is None:  # SQLite hands back naive UTC from an aggregate
        oldest = oldest.replace(tzinfo=utcnow().tzinfo)
    return max(1, math.ceil((oldest + window - utcnow()).total_seconds()))


def client_address(client: object | None) -> str:
    """The caller's address as the server sees it (uvicorn --proxy-headers behind a proxy)."""
    host = getattr(client, "host", None)
    return str(host) if host else "unknown"


def begin(session: Session, *, email: str, address: str, rules: ThrottleRules) -> LoginFailure:
    """Start one password check: written down as a failure before the password is checked.

    Counting and writing down happen under a lock per account and per address (SQLite: the
    write transaction; PostgreSQL: advisory locks), so guesses sent in parallel are counted
    one after another and at most the limit of them ever reach the slow password check. Over
    a limit, TooManyAttempts. A wrong password leaves the attempt counted; a right one calls
    `clear`.
    """
    attempt = LoginFailure(email=normalise_email(email)[:254], address=address[:64])
    if session.get_bind().dialect.name == "postgresql":
        # Account first, then address, in every request: two requests never wait on each other
        # in a circle. Held until the commit below.
        for kind, key in ((1, attempt.email), (2, attempt.address)):
            session.execute(
                text("SELECT pg_advisory_xact_lock(:kind, hashtext(:key))"),
                {"kind": kind, "key": key},
            )
    now = utcnow()
    since = now - rules.window
    session.exec(delete(LoginFailure).where(col(LoginFailure.failed_at) < since))
    limits: list[tuple[ColumnElement[bool], int]] = [
        (col(LoginFailure.email) == attempt.email, rules.per_account),
        (col(LoginFailure.address) == attempt.address, rules.per_address),
    ]
    for condition, limit in limits:
        failures = session.exec(
            select(func.count()).where(LoginFailure.failed_at >= since, condition)
        ).one()
        if failures >= limit:
            wait = _wait(session, since, rules.window, condition)
            session.commit()
            raise TooManyAttempts(wait)
    session.add(attempt)
    session.commit()
    return attempt


def clear(session: Session, *, email: str) -> None:
    """A right password: the account starts afresh."""
    session.exec(
        delete(LoginFailure).where(col(LoginFailure.email) == normalise_email(email)[:254])
    )
    session.commit()


@contextmanager
def password_attempt(
    session: Session, *, email: str, address: str, rules: ThrottleRules
) -> Iterator[None]:
    """Around a password re-entry (change password, delete account): throttled like sign-in.

    Raises TooManyAttempts before the check while throttled; a WrongPassword inside counts
    as a failed attempt and is raised again; getting through clears the account's failures.
    """
    attempt = begin(session, email=email, address=address, rules=rules)
    try:
        yield
    except WrongPassword:
        session.rollback()
        raise  # the attempt stays counted
    except Exception:
        # The password was not what failed (a weak new password, say): not a guess.
        session.rollback()
        session.delete(attempt)
        session.commit()
        raise
    clear(session, email=email)
