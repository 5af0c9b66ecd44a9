"""Slowing down password guessing: per account and per network address (OWASP ASVS 2.2.1).

After `per_account` failed sign-ins for one email, or `per_address` from one address, within
the window, further attempts are refused with 429 until the oldest failure leaves the window.
A successful sign-in clears the account's failures.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement
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


def check(session: Session, *, email: str, address: str, rules: ThrottleRules) -> None:
    """Raise TooManyAttempts when this account or address has failed too often lately."""
    since = utcnow() - rules.window
    email = normalise_email(email)
    limits: list[tuple[ColumnElement[bool], int]] = [
        (col(LoginFailure.email) == email, rules.per_account),
        (col(LoginFailure.address) == address, rules.per_address),
    ]
    for condition, limit in limits:
        failures = session.exec(
            select(func.count()).where(LoginFailure.failed_at >= since, condition)
        ).one()
        if failures >= limit:
            raise TooManyAttempts(_wait(session, since, rules.window, condition))


def record_failure(session: Session, *, email: str, address: str, rules: ThrottleRules) -> None:
    """Remember a failed sign-in, and forget the ones that left the window."""
    session.exec(delete(LoginFailure).where(col(LoginFailure.failed_at) < utcnow() - rules.window))
    session.add(LoginFailure(email=normalise_email(email)[:254], address=address[:64]))
    session.commit()


def clear(session: Session, *, email: str) -> None:
    """A successful sign-in: the account starts afresh."""
    session.exec(delete(LoginFailure).where(col(LoginFailure.email) == normalise_email(email)))
    session.commit()


@contextmanager
def password_attempt(
    session: Session, *, email: str, address: str, rules: ThrottleRules
) -> Iterator[None]:
    """Around a password re-entry (change password, delete account): throttled like sign-in.

    Raises TooManyAttempts before the check while throttled; a WrongPassword inside counts
    as a failed attempt and is raised again.
    """
    check(session, email=email, address=address, rules=rules)
    try:
        yield
    except WrongPassword:
        session.rollback()
        record_failure(session, email=email, address=address, rules=rules)
        raise
