"""Guessers are throttled, the patient is not: a device that signed in before, and the
signed-in patient confirming their password, keep working while someone who knows the email
sends wrong passwords from elsewhere (issue: anyone who knows an email kept the owner out)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.models import User
from tests.conftest import Browser
from tests.factories import PASSWORD

NEW_PASSWORD = "a brand new passphrase for me"


@pytest.fixture
def guesser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, client=("203.0.113.66", 4444)) as client:
        yield client


def guess_until_throttled(guesser: TestClient, email: str) -> None:
    for _ in range(5):
        response = guesser.post(
            "/api/v1/auth/token", json={"email": email, "password": "not the password"}
        )
        assert response.status_code == 401
    response = guesser.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 429  # the guesser is stopped, even with the right one


def test_a_browser_that_signed_in_before_still_signs_in(
    client: TestClient, guesser: TestClient, user: User
) -> None:
    browser = Browser(client)
    browser.sign_in(user.email)
    browser.post("/logout")
    guess_until_throttled(guesser, user.email)

    browser.get("/login")
    response = browser.post("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 303


def test_a_script_that_kept_its_device_cookie_still_gets_tokens(
    app: FastAPI, guesser: TestClient, user: User
) -> None:
    with TestClient(app, client=("198.51.100.5", 5555)) as script:
        first = script.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
        assert first.status_code == 200
        guess_until_throttled(guesser, user.email)
        again = script.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
        assert again.status_code == 200


def test_a_new_device_waits_like_the_guesser(app: FastAPI, guesser: TestClient, user: User) -> None:
    guess_until_throttled(guesser, user.email)
    with TestClient(app, client=("198.51.100.9", 5555)) as stranger:
        response = stranger.post(
            "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}
        )
    assert response.status_code == 429


def test_a_device_key_for_one_account_says_nothing_about_another(
    client: TestClient, guesser: TestClient, user: User, session
) -> None:
    from tests.factories import make_user

    other = make_user(session, email="other@example.org")
    browser = Browser(client)
    browser.sign_in(user.email)
    guess_until_throttled(guesser, other.email)
    response = client.post("/api/v1/auth/token", json={"email": other.email, "password": PASSWORD})
    assert response.status_code == 429


def test_the_signed_in_patient_can_change_the_password_and_delete_the_account(
    api: TestClient, guesser: TestClient, user: User
) -> None:
    guess_until_throttled(guesser, user.email)
    changed = api.post(
        "/api/v1/account/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200, changed.text
    api.headers["Authorization"] = f"Bearer {changed.json()['access_token']}"
    deleted = api.request("DELETE", "/api/v1/account", json={"password": NEW_PASSWORD})
    assert deleted.status_code == 204


def test_a_stolen_session_gets_only_a_few_guesses_at_the_password(
    api: TestClient, user: User
) -> None:
    for _ in range(5):
        response = api.request("DELETE", "/api/v1/account", json={"password": "guess guess"})
        assert response.status_code == 403
    response = api.request("DELETE", "/api/v1/account", json={"password": PASSWORD})
    assert response.status_code == 429
