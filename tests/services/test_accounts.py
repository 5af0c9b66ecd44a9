"""Accounts: the password rule, registration, sign-in, sessions and API tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import Type
from sqlmodel import Session, select

from app.models import ApiToken, BrowserSession, User, utcnow
from app.services import accounts
from tests.factories import PASSWORD


@pytest.mark.parametrize(
    ("password", "email", "says"),
    [
        ("short", "", "at least 10 characters"),
        ("nine char", "", "at least 10 characters"),
        ("password1234", "", "most common"),
        ("QWERTYUIOP", "", "most common"),
        ("aaaaaaaaaaaa", "", "most common"),
        ("ababababab", "", "most common"),
        ("margaret.smith1", "margaret.smith@example.org", "close to your email"),
        ("Margaret.Smith2026", "margaret.smith@example.org", "close to your email"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, email: str, says: str) -> None:
    problem = accounts.password_problem(password, email=email)

    assert problem is not None
    assert says in problem


@pytest.mark.parametrize(
    ("password", "email"),
    [
        (PASSWORD, ""),
        ("correct horse battery staple", "correct@example.org"),
        ("margaret likes long walks by the sea", "margaret@example.org"),
    ],
)
def test_good_passwords_pass(password: str, email: str) -> None:
    assert accounts.password_problem(password, email=email) is None


def test_register_stores_an_argon2id_hash_and_a_normalised_email(session: Session) -> None:
    password_hash = accounts.registration_hash(email="patient@example.org", password=PASSWORD)
    user = accounts.register(
        session,
        email="  Patient@Example.ORG ",
        password_hash=password_hash,
        timezone="Europe/London",
    )

    assert user.email == "patient@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert user.timezone == "Europe/London"


def test_register_falls_back_to_utc_for_an_unknown_time_zone(session: Session) -> None:
    user = accounts.register(
        session, email="a@example.org", password_hash="x", timezone="Mars/Base"
    )

    assert user.timezone == "UTC"


def test_register_refuses_a_taken_email_in_any_case(session: Session, user: User) -> None:
    with pytest.raises(accounts.EmailTaken):
        accounts.register(session, email=user.email.upper(), password_hash="x")

    assert len(session.exec(select(User)).all()) == 1


def test_register_refuses_a_weak_password(session: Session) -> None:
    with pytest.raises(accounts.WeakPassword, match="at least 10"):
        accounts.registration_hash(email="new@example.org", password="short")


def test_one_email_typed_in_two_unicode_forms_is_one_account(session: Session) -> None:
    composed = "zo\u00eb@example.org"  # ë as one character
    decomposed = "zoe\u0308@example.org"  # e and a combining diaeresis
    accounts.register(session, email=composed, password_hash="x")
    with pytest.raises(accounts.EmailTaken):
        accounts.register(session, email=decomposed.upper(), password_hash="x")
    assert [user.email for user in session.exec(select(User))] == [composed]


def test_authenticate(session: Session, user: User) -> None:
    assert accounts.authenticate(session, email=user.email, password=PASSWORD) == user
    assert accounts.authenticate(session, email="PATIENT@example.org", password=PASSWORD) == user
    assert accounts.authenticate(session, email=user.email, password=PASSWORD + "!") is None
    assert accounts.authenticate(session, email="nobody@example.org", password=PASSWORD) is None


def _token_user(session: Session, token: str, max_age_seconds: int) -> int | None:
    """The id of the patient the token opens, or None."""
    found = accounts.user_for_api_token(
        session.connection(), token=token, max_age_seconds=max_age_seconds
    )
    return None if found is None else found.id


def test_api_tokens_are_stored_hashed_and_can_be_revoked(session: Session, user: User) -> None:
    token = accounts.issue_api_token(session, user=user)

    stored = session.exec(select(ApiToken)).one()
    assert stored.token_hash != token
    assert stored.token_hash == accounts.hash_secret(token)
    assert _token_user(session, token, 3600) == user.id

    accounts.revoke_api_token(session, token=token)

    assert _token_user(session, token, 3600) is None
    assert _token_user(session, "made-up", 3600) is None


def test_revoking_one_token_leaves_the_others(session: Session, user: User) -> None:
    laptop = accounts.issue_api_token(session, user=user)
    script = accounts.issue_api_token(session, user=user)

    accounts.revoke_api_token(session, token=laptop)

    assert _token_user(session, script, 3600) == user.id


def test_browser_sessions_end_and_go_idle(session: Session, user: User) -> None:
    token = accounts.start_browser_session(session, user=user)
    assert (
        accounts.user_for_browser_session(
            session, token=token, idle_seconds=60, max_age_seconds=3600
        )
        == user
    )

    row = session.exec(select(BrowserSession)).one()
    row.last_seen_at = utcnow() - timedelta(seconds=120)
    session.add(row)
    session.commit()
    assert (
        accounts.user_for_browser_session(
            session, token=token, idle_seconds=60, max_age_seconds=3600
        )
        is None
    )

    fresh = accounts.start_browser_session(session, user=user)
    accounts.end_browser_session(session, token=fresh)
    assert (
        accounts.user_for_browser_session(
            session, token=fresh, idle_seconds=60, max_age_seconds=3600
        )
        is None
    )


def test_a_browser_session_ends_at_its_maximum_age_however_active(
    session: Session, user: User
) -> None:
    token = accounts.start_browser_session(session, user=user)
    row = session.exec(select(BrowserSession)).one()
    row.created_at = utcnow() - timedelta(hours=2)  # used a minute ago, begun two hours ago
    row.last_seen_at = utcnow() - timedelta(minutes=1)
    session.add(row)
    session.commit()

    assert (
        accounts.user_for_browser_session(
            session, token=token, idle_seconds=600, max_age_seconds=3 * 3600
        )
        == user
    )
    assert (
        accounts.user_for_browser_session(
            session, token=token, idle_seconds=600, max_age_seconds=3600
        )
        is None
    )


def test_an_api_token_stops_working_at_its_maximum_age(session: Session, user: User) -> None:
    token = accounts.issue_api_token(session, user=user)
    row = session.exec(select(ApiToken)).one()
    row.created_at = utcnow() - timedelta(hours=2)
    session.add(row)
    session.commit()

    assert _token_user(session, token, 3 * 3600) == user.id
    assert _token_user(session, token, 3600) is None


PRODUCTION_HASHER = accounts._hasher  # read at import, before the fast test hasher is swapped in


def test_the_app_hashes_with_argon2id_at_a_sound_cost() -> None:
    assert PRODUCTION_HASHER.type is Type.ID
    # OWASP's floor for Argon2id: 19 MiB of memory and two passes (or more memory, one pass).
    assert PRODUCTION_HASHER.memory_cost >= 19 * 1024
    assert PRODUCTION_HASHER.time_cost >= 2
