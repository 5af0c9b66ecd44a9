"""Registration: a few accounts a day per network address, the same answer time for a taken
email as for a free one, one account per email whatever its Unicode form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import Settings
from app.main import create_app
from app.models import User
from app.services import accounts
from tests.factories import PASSWORD


@pytest.fixture
def strict_client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"registrations_per_address": 3}))
    with TestClient(app) as client:
        yield client


def register(client: TestClient, email: str) -> int:
    return client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    ).status_code


def test_one_address_makes_only_a_few_accounts_a_day(
    strict_client: TestClient, app: FastAPI
) -> None:
    assert [register(strict_client, f"p{index}@example.org") for index in range(3)] == [201] * 3
    response = strict_client.post(
        "/api/v1/auth/register", json={"email": "p9@example.org", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    # Probing for taken emails counts too: an address cannot test thousands of them.
    assert register(strict_client, "p0@example.org") == 429


def test_the_web_page_says_to_try_later(strict_client: TestClient) -> None:
    statuses = []
    for index in range(4):
        strict_client.cookies.clear()  # a new visitor each time, from the same address
        page = strict_client.get("/register")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        response = strict_client.post(
            "/register",
            data={"csrf_token": token, "email": f"w{index}@example.org", "password": PASSWORD},
            follow_redirects=False,
        )
        statuses.append(response.status_code)
    assert statuses == [303, 303, 303, 429]
    assert "Too many new accounts" in response.text
    assert int(response.headers["Retry-After"]) > 0


def test_a_taken_email_answers_as_slowly_as_a_free_one(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The password is hashed before the email is looked up: the 409 costs the same hash."""
    hashed: list[str] = []
    real = accounts.registration_hash

    def counting(*, email: str, password: str) -> str:
        hashed.append(email)
        return real(email=email, password=password)

    monkeypatch.setattr(accounts, "registration_hash", counting)
    assert register(client, "first@example.org") == 201
    assert register(client, "first@example.org") == 409
    assert hashed == ["first@example.org", "first@example.org"]


def test_two_spellings_of_one_email_are_one_account(client: TestClient, session: Session) -> None:
    assert register(client, "zo\u00eb@example.org") == 201
    response = client.post(
        "/register", data={"email": "ZOE\u0308@example.org", "password": PASSWORD}
    )
    assert response.status_code in (403, 422)  # no CSRF token here: never a second account
    assert register(client, "zoe\u0308@EXAMPLE.org") == 409
    assert len(session.exec(select(User)).all()) == 1
