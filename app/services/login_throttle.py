"""Slowing down password guessing without locking the patient out (OWASP ASVS 2.2.1).

Guesses come from devices the account has never seen: after `per_account` failed sign-ins for
one email from such devices, or `per_address` from one address, within the window, further
attempts from unknown devices are refused with 429 until the oldest failure leaves the
window. The patient's own devices are not held up by those guesses: a browser (or script) that
signed in before carries a device key bound to the account (app.web.device), and the signed-in
patient confirming their password (to change it, or delete the account) is known by their
session; each such device has its own budget of `per_account` failures. A successful sign-in
clears the failures of unknown devices and of that device. Each attempt is written down
before its password is checked (`begin`), so parallel guesses are counted too.
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
from app.models import LoginFailure, RegistrationAttempt, utcnow
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
        minutes = math.ceil(retry_after / 60)
        wait = f"{minutes} minutes" if minutes <= 90 else f"{math.ceil(minutes / 60)} hours"
        super().__init__(f"Too many attempts. Try again in {wait}.")
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


def begin(
    session: Session,
    *,
    email: str,
    address: str,
    rules: ThrottleRules,
    device: str | None = None,
) -> LoginFailure:
    """Start one password check: written down as a failure before the password is checked.

    Counting and writing down happen under a lock per account and per address (SQLite: the
    write transaction; PostgreSQL: advisory locks), so guesses sent in parallel are counted
    one after another and at most the limit of them ever reach the slow password check. Over
    a limit, TooManyAttempts. A wrong password leaves the attempt counted; a right one calls
    `clear`. `device` is the key of a device known to this account (see the module's doc), or
    None for an unknown one: each known device is counted on its own.
    """
    attempt = LoginFailure(
        email=normalise_email(email)[:254],
        address=address[:64],
        device=device[:64] if device else None,
    )
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
    same_account = col(LoginFailure.email) == attempt.email
    limits: list[tuple[ColumnElement[bool], int]]
    if attempt.device is None:
        unknown = col(LoginFailure.device).is_(None)
        limits = [
            (same_account & unknown, rules.per_account),
            ((col(LoginFailure.address) == attempt.address) & unknown, rules.per_address),
        ]
    else:
        limits = [(same_account & (col(LoginFailure.device) == attempt.device), rules.per_account)]
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


def clear(session: Session, *, email: str, device: str | None = None) -> None:
    """A right password: unknown devices and this device start afresh for the account."""
    mine: ColumnElement[bool] = col(LoginFailure.device).is_(None)
    if device is not None:
        mine = mine | (col(LoginFailure.device) == device[:64])
    session.exec(
        delete(LoginFailure).where(col(LoginFailure.email) == normalise_email(email)[:254], mine)
    )
    session.commit()


@contextmanager
def password_attempt(
    session: Session, *, email: str, address: str, rules: ThrottleRules, device: str
) -> Iterator[None]:
    """Around a password re-entry (change password, delete account): throttled like sign-in.

    Raises TooManyAttempts before the check while throttled; a WrongPassword inside counts
    as a failed attempt and is raised again; getting through clears the account's failures.
    """
    attempt = begin(session, email=email, address=address, rules=rules, device=device)
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
    clear(session, email=email, device=device)


REGISTRATION_WINDOW = timedelta(days=1)


def begin_registration(session: Session, *, address: str, per_address: int) -> None:
    """Count one registration from `address`; TooManyAttempts past `per_address` a day."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(3, hashtext(:key))"), {"key": address[:64]}
        )
    since = utcnow() - REGISTRATION_WINDOW
    session.exec(delete(RegistrationAttempt).where(col(RegistrationAttempt.attempted_at) < since))
    recent = col(RegistrationAttempt.address) == address[:64]
    count = session.exec(select(func.count()).where(recent)).one()
    if count >= per_address:
        oldest = session.exec(
            select(func.min(RegistrationAttempt.attempted_at)).where(recent)
        ).one()
        session.commit()
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=utcnow().tzinfo)
        wait = (oldest + REGISTRATION_WINDOW - utcnow()).total_seconds() if oldest else 60
        raise TooManyAttempts(max(1, math.ceil(wait)))
    session.add(RegistrationAttempt(address=address[:64]))
    session.commit()
