"""Sign-in is throttled per account and per address (429 with Retry-After), on web and API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import LoginFailure, User, utcnow
from app.services import accounts, login_throttle
from tests.conftest import Browser
from tests.factories import PASSWORD, make_user


def _token(client: TestClient, email: str, password: str) -> int:
    return client.post(
        "/api/v1/auth/token", json={"email": email, "password": password}
    ).status_code


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(
    client: TestClient, user: User
):
    for _ in range(5):
        assert _token(client, user.email, "wrong password!") == 401
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60


def test_the_web_sign_in_page_says_to_wait(client: TestClient, user: User):
    browser = Browser(client)
    browser.get("/login")
    for _ in range(5):
        assert (
            browser.post("/login", {"email": user.email, "password": "nope nope nope"}).status_code
            == 401
        )
    response = browser.post("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert "Too many attempts" in response.text
    assert f'value="{user.email}"' in response.text


def test_a_success_clears_the_account_and_other_accounts_are_not_locked(
    client: TestClient, session: Session, user: User
):
    other = make_user(session, email="other@example.org")
    for _ in range(4):
        _token(client, user.email, "wrong password!")
    assert _token(client, user.email, PASSWORD) == 200
    for _ in range(4):
        _token(client, user.email, "wrong password!")
    assert _token(client, user.email, PASSWORD) == 200  # the count started again
    assert _token(client, other.email, PASSWORD) == 200


def test_one_address_guessing_many_accounts_is_stopped(client: TestClient, session: Session):
    for index in range(20):
        assert _token(client, f"nobody{index}@example.org", "guess guess guess") == 401
    assert _token(client, "nobody-else@example.org", "guess guess guess") == 429


def test_failures_older_than_the_window_no_longer_count(
    client: TestClient, session: Session, user: User
):
    for _ in range(5):
        _token(client, user.email, "wrong password!")
    for failure in session.exec(select(LoginFailure)):
        failure.failed_at = utcnow() - timedelta(minutes=16)
        session.add(failure)
    session.commit()
    assert _token(client, user.email, PASSWORD) == 200


def test_guesses_sent_in_parallel_are_counted_before_their_passwords_are_checked(
    session: Session, user: User
):
    """Five password checks still running (each slow, Argon2) already use up the limit."""
    rules = login_throttle.ThrottleRules(per_account=5, per_address=20)
    for _ in range(5):
        login_throttle.begin(session, email=user.email, address="192.0.2.1", rules=rules)
    with pytest.raises(login_throttle.TooManyAttempts):
        login_throttle.begin(session, email=user.email.upper(), address="192.0.2.2", rules=rules)
    # The refused attempt is not counted, so it does not make the wait longer.
    assert len(session.exec(select(LoginFailure)).all()) == 5
    login_throttle.clear(session, email=user.email)
    assert session.exec(select(LoginFailure)).all() == []


def test_a_right_password_given_again_is_not_counted_as_a_guess(
    client: TestClient, session: Session, user: User
):
    browser = Browser(client)
    browser.sign_in(user.email)
    for _ in range(6):  # more than the limit, all right
        response = browser.post(
            "/settings/account/password",
            {
                "current_password": PASSWORD,
                "new_password": "password",  # too common: refused, but not a guess
            },
        )
        assert response.status_code == 422
    assert session.exec(select(LoginFailure)).all() == []


@pytest.mark.sqlite_only  # the app's write lock exists on SQLite only
def test_the_password_check_holds_no_write_lock(
    client: TestClient, user: User, monkeypatch: pytest.MonkeyPatch
):
    """Argon2 takes about 100 ms: other patients' saves must not wait behind a sign-in."""
    lock = client.app.state.database.write_lock  # type: ignore[attr-defined]
    held_while_checking: list[bool] = []

    class WatchedHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            held_while_checking.append(lock.locked())
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "_hasher", WatchedHasher())
    assert _token(client, user.email, PASSWORD) == 200
    assert _token(client, user.email, "wrong password!") == 401
    browser = Browser(client)
    browser.sign_in(user.email)

    assert held_while_checking == [False, False, False]


def test_a_hash_made_with_weaker_settings_is_renewed_at_sign_in(
    client: TestClient, session: Session, user: User
):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    user.password_hash = weak.hash(PASSWORD)
    session.add(user)
    session.commit()

    assert _token(client, user.email, PASSWORD) == 200

    session.refresh(user)
    assert not accounts._hasher.check_needs_rehash(user.password_hash)
    assert _token(client, user.email, PASSWORD) == 200
