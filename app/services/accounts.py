"""Accounts: registration, passwords, browser sessions and API tokens.

Secrets given to a browser or a script (session cookies, bearer tokens) are random; the
database keeps only their SHA-256, so a copy of the database cannot be used to sign in.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, col, delete, select, update

from app.db import DirectStatement, as_loaded
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
    """One spelling per address: NFC (an accent typed as one character or as two is the same
    person), no surrounding spaces, lower case."""
    return unicodedata.normalize("NFC", email.strip()).lower()


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


def registration_hash(*, email: str, password: str) -> str:
    """The stored hash of a new account's password; raises WeakPassword. Slow (Argon2): call
    it before `register`, outside any write."""
    problem = password_problem(password, email=normalise_email(email))
    if problem:
        raise WeakPassword(problem)
    return _hasher.hash(password)


def register(session: Session, *, email: str, password_hash: str, timezone: str = "UTC") -> User:
    """Create an account with a hash from `registration_hash`; raises EmailTaken.

    Two registrations of one email at once: the database's unique index decides, and the
    loser gets EmailTaken as well (an insert that does nothing, so no error is raised and
    no database log names the email)."""
    email = normalise_email(email)
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise EmailTaken(email)
    values = {
        "email": email,
        "password_hash": password_hash,
        "timezone": valid_timezone(timezone),
        "created_at": utcnow(),
    }
    table = User.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert_statement: Any
    if dialect == "postgresql":
        insert_statement = postgresql_insert(table).values(**values).on_conflict_do_nothing()
    else:
        insert_statement = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    inserted = session.execute(insert_statement.returning(table.c.id)).first()
    if inserted is None:
        session.rollback()
        raise EmailTaken(email)
    session.commit()
    user = session.get(User, inserted[0])
    assert user is not None
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


@dataclass(frozen=True)
class BrowserSessionCheck:
    """What a browser's session cookie is worth: the user, or None when it has ended."""

    user: User | None
    row_id: int | None = None
    ended: bool = False  # idle or too old: the row goes (`after_browser_session_check`)
    needs_touch: bool = False  # last seen over a minute ago: note that it is in use


def browser_session(
    session: Session, *, token: str, idle_seconds: int, max_age_seconds: int
) -> BrowserSessionCheck:
    """Check a browser's session cookie, reading only. The session counts if it exists, has
    not gone idle and is not older than `max_age_seconds` (then the patient signs in again,
    however active)."""
    row = session.exec(
        select(BrowserSession).where(BrowserSession.token_hash == hash_secret(token))
    ).first()
    if row is None:
        return BrowserSessionCheck(user=None)
    now = utcnow()
    idle = now - row.last_seen_at > timedelta(seconds=idle_seconds)
    if idle or now - row.created_at > timedelta(seconds=max_age_seconds):
        return BrowserSessionCheck(user=None, row_id=row.id, ended=True)
    # Touch at most once a minute: a write on every page view would slow reads for nothing.
    return BrowserSessionCheck(
        user=session.get(User, row.user_id),
        row_id=row.id,
        needs_touch=now - row.last_seen_at > timedelta(minutes=1),
    )


def user_for_browser_session(
    session: Session, *, token: str, idle_seconds: int, max_age_seconds: int
) -> User | None:
    """`browser_session` and `after_browser_session_check` in one session (for scripts)."""
    check = browser_session(
        session, token=token, idle_seconds=idle_seconds, max_age_seconds=max_age_seconds
    )
    after_browser_session_check(session, check)
    return check.user


def after_browser_session_check(session: Session, check: BrowserSessionCheck) -> None:
    """Write down what `browser_session` found: an ended session goes, a used one is touched."""
    if check.row_id is None:
        return
    if check.ended:
        session.exec(delete(BrowserSession).where(col(BrowserSession.id) == check.row_id))
    elif check.needs_touch:
        session.exec(
            update(BrowserSession)
            .where(col(BrowserSession.id) == check.row_id)
            .values(last_seen_at=utcnow())
        )
    session.commit()


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


# Every API request starts here: one query for token and user, built once (building a
# statement costs more than running it).
_USER_FOR_TOKEN: Final = DirectStatement(
    sa_select(*User.__table__.c)  # type: ignore[attr-defined]
    .join(ApiToken, col(ApiToken.user_id) == col(User.id))
    .where(
        col(ApiToken.token_hash) == bindparam("token_hash"),
        col(ApiToken.revoked_at).is_(None),
        col(ApiToken.created_at) > bindparam("oldest"),
    )
)


def user_for_api_token(connection: Connection, *, token: str, max_age_seconds: int) -> User | None:
    """The token's user (detached), unless it was revoked or is older than `max_age_seconds`.
    Read with a Core statement on a connection: it runs before every API request."""
    params = {
        "token_hash": hash_secret(token),
        "oldest": utcnow() - timedelta(seconds=max_age_seconds),
    }
    row = _USER_FOR_TOKEN.first(connection, params)
    return as_loaded(User, row._asdict()) if row is not None else None


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


def new_password_hash(user: User, new: str) -> str:
    """The hash of a new password for this account; raises WeakPassword. Slow (Argon2): call
    it outside any write."""
    problem = password_problem(new, email=user.email)
    if problem:
        raise WeakPassword(problem)
    return _hasher.hash(new)


def set_password(session: Session, *, user: User, password_hash: str) -> None:
    """Store a new password (confirmed and hashed beforehand) and sign out everywhere.
    The caller starts a fresh session (or token) for whoever made the change."""
    user.password_hash = password_hash
    session.add(user)
    end_every_session(session, user=user)


def delete_account(session: Session, *, user: User) -> None:
    """Delete the account and every row it owns (its password confirmed beforehand)."""
    assert user.id is not None
    # Every owned table has `user_id` with ON DELETE CASCADE; deleting the rows here as well
    # keeps the promise even for a table whose foreign key forgot the cascade. Children first.
    # Rows kept by email address (failed sign-ins) name the patient too: they go as well.
    for table in reversed(SQLModel.metadata.sorted_tables):
        if "user_id" in table.c:
            session.exec(delete(table).where(table.c.user_id == user.id))
        elif "email" in table.c and table.name != User.__tablename__:
            session.exec(delete(table).where(table.c.email == user.email))
    session.exec(delete(User).where(col(User.id) == user.id))
    session.commit()
