"""Accounts: registration, passwords, browser sessions and API tokens.

Secrets given to a browser or a script (session cookies, bearer tokens) are random; the
database keeps only their SHA-256, so a copy of the database cannot be used to sign in.
"""

from __future__ import annotations

import hashlib
import secrets
from contextlib import suppress
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, col, delete, select

from app.models import ApiToken, BrowserSession, User, utcnow
from app.schemas import known_timezone

PASSWORD_MIN_LENGTH = 10
_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
# Verifying against this keeps the time of a login for an unknown email like a real one.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class EmailTaken(Exception):
    """Someone already registered with this email."""


class WeakPassword(ValueError):
    """The password breaks the password rule; the message says how."""


def hash_secret(token: str) -> str:
    """The stored form of a random session or API token."""
    return hashlib.sha256(token.encode()).hexdigest()


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).resolve().parent.parent / "common_passwords.txt"
    lines = path.read_text().splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why this password is refused, in plain words, or None if it is fine."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return (
            f"Use at least {PASSWORD_MIN_LENGTH} characters. "
            "A few ordinary words in a row are easy to remember and hard to guess."
        )
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) <= 2:
        return "That password is one of the most common ones. Please choose another."
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 4 and local_part in lowered and len(lowered) - len(local_part) < 6:
        return "Your password is too close to your email address. Please choose another."
    return None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def valid_timezone(name: str | None) -> str:
    """The browser's time zone if it is a real IANA name, otherwise UTC."""
    known = known_timezone(name) if name else None
    if known:
        ZoneInfo(known)
        return known
    return "UTC"


class UnknownTimezone(ValueError):
    """Not a time zone name this server knows (IANA names such as Europe/London)."""


def change_timezone(session: Session, *, user: User, timezone: str) -> None:
    """Count the patient's days on another clock from now on (travel, a move)."""
    name = known_timezone(timezone)
    if name is None:
        raise UnknownTimezone("Use a time zone name such as Europe/London or America/New_York.")
    user.timezone = name
    session.add(user)
    session.commit()


def register(session: Session, *, email: str, password: str, timezone: str = "UTC") -> User:
    """Create an account; raises EmailTaken or WeakPassword."""
    email = normalise_email(email)
    problem = password_problem(password, email=email)
    if problem:
        raise WeakPassword(problem)
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise EmailTaken(email)
    user = User(
        email=email, password_hash=_hasher.hash(password), timezone=valid_timezone(timezone)
    )
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The user these credentials belong to, or None. Takes the same time either way, and
    only reads (see `stronger_hash`), so it can run outside the write lock."""
    user = session.exec(select(User).where(User.email == normalise_email(email))).first()
    if user is None:
        with suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def stronger_hash(user: User, password: str) -> str | None:
    """A new hash of the right password when the stored one used weaker Argon2 settings
    (store it with `store_hash`), else None."""
    return _hasher.hash(password) if _hasher.check_needs_rehash(user.password_hash) else None


def store_hash(session: Session, *, user: User, password_hash: str) -> None:
    user.password_hash = password_hash
    session.add(user)
    session.commit()


def start_browser_session(session: Session, *, user: User) -> str:
    """A new session token for a browser that just signed in."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    session.add(BrowserSession(user_id=user.id, token_hash=hash_secret(token)))
    session.commit()
    return token


def user_for_browser_session(
    session: Session, *, token: str, idle_seconds: int, max_age_seconds: int
) -> User | None:
    """The user signed in with this cookie, if the session exists, has not gone idle and is
    not older than `max_age_seconds` (then the patient signs in again, however active)."""
    row = session.exec(
        select(BrowserSession).where(BrowserSession.token_hash == hash_secret(token))
    ).first()
    if row is None:
        return None
    now = utcnow()
    idle = now - row.last_seen_at > timedelta(seconds=idle_seconds)
    if idle or now - row.created_at > timedelta(seconds=max_age_seconds):
        session.delete(row)
        session.commit()
        return None
    user = session.get(User, row.user_id)
    # Touch at most once a minute: a write on every page view would slow reads for nothing.
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
        session.add(row)
        try:
            session.commit()
        except OperationalError:
            # A page view's read transaction could not become a write because another write
            # got in first (SQLite). The touch can wait for the next page.
            session.rollback()
    return user


def end_browser_session(session: Session, *, token: str) -> None:
    session.exec(delete(BrowserSession).where(col(BrowserSession.token_hash) == hash_secret(token)))
    session.commit()


def issue_api_token(session: Session, *, user: User) -> str:
    """A new bearer token for the API; only its hash is kept."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_secret(token)))
    session.commit()
    return token


def user_for_api_token(session: Session, *, token: str, max_age_seconds: int) -> User | None:
    """The token's user, unless it was revoked or is older than `max_age_seconds`."""
    # One query for token and user: every API request starts here.
    statement = (
        select(User)
        .join(ApiToken, col(ApiToken.user_id) == col(User.id))
        .where(
            ApiToken.token_hash == hash_secret(token),
            col(ApiToken.revoked_at).is_(None),
            col(ApiToken.created_at) > utcnow() - timedelta(seconds=max_age_seconds),
        )
    )
    return session.exec(statement).first()


def revoke_api_token(session: Session, *, token: str) -> None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_secret(token))).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.commit()


class WrongPassword(ValueError):
    """The password given to confirm an account change is not the account's."""


def password_matches(user: User, password: str) -> bool:
    """True when `password` is this account's password (to confirm a change, not to sign in)."""
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def end_every_session(session: Session, *, user: User) -> None:
    """Sign the account out everywhere: every browser session ends, every API token is revoked."""
    assert user.id is not None
    session.exec(delete(BrowserSession).where(col(BrowserSession.user_id) == user.id))
    tokens = select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
    now = utcnow()
    for token in session.exec(tokens):
        token.revoked_at = now
        session.add(token)
    session.commit()


def change_password(session: Session, *, user: User, current: str, new: str) -> None:
    """Set a new password and sign out everywhere; raises WrongPassword or WeakPassword.

    The caller starts a fresh session (or token) for whoever made the change.
    """
    if not password_matches(user, current):
        raise WrongPassword("That is not your current password.")
    problem = password_problem(new, email=user.email)
    if problem:
        raise WeakPassword(problem)
    user.password_hash = _hasher.hash(new)
    session.add(user)
    end_every_session(session, user=user)


def delete_account(session: Session, *, user: User, password: str) -> None:
    """Delete the account and every row it owns; raises WrongPassword."""
    if not password_matches(user, password):
        raise WrongPassword("That is not your password.")
    assert user.id is not None
    # Every owned table has `user_id` with ON DELETE CASCADE; deleting the rows here as well
    # keeps the promise even for a table whose foreign key forgot the cascade. Children first.
    # Rows kept by email address (failed sign-ins) name the patient too: they go as well.
    for table in reversed(SQLModel.metadata.sorted_tables):
        if "user_id" in table.c:
            session.exec(delete(table).where(table.c.user_id == user.id))
        elif "email" in table.c and table.name != User.__tablename__:
            session.exec(delete(table).where(table.c.email == user.email))
    session.delete(user)
    session.commit()
