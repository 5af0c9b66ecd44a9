"""POST /api/v1/auth/register, /token, /logout, and the bearer token on every other route."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import ApiToken, User
from tests.factories import PASSWORD


def test_register_creates_an_account_that_can_get_a_token(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/register", json={"email": "New@Example.org", "password": PASSWORD}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new@example.org"
    assert isinstance(body["id"], int)
    assert "password" not in response.text
    token = client.post(
        "/api/v1/auth/token", json={"email": "new@example.org", "password": PASSWORD}
    )
    assert token.status_code == 200


def test_register_keeps_the_time_zone_it_is_given(client: TestClient, session: Session) -> None:
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "kiri@example.org", "password": PASSWORD, "timezone": "Pacific/Kiritimati"},
    )

    assert response.status_code == 201
    user = session.exec(select(User).where(User.email == "kiri@example.org")).one()
    assert user.timezone == "Pacific/Kiritimati"


@pytest.mark.parametrize("timezone", [None, "", "  "])
def test_register_without_a_time_zone_is_utc(
    client: TestClient, session: Session, timezone: str | None
) -> None:
    account: dict[str, object] = {"email": "plain@example.org", "password": PASSWORD}
    if timezone is not None:
        account["timezone"] = timezone

    assert client.post("/api/v1/auth/register", json=account).status_code == 201
    user = session.exec(select(User).where(User.email == "plain@example.org")).one()
    assert user.timezone == "UTC"


@pytest.mark.parametrize("timezone", ["Mars/Olympus_Mons", "CEST", "../etc/passwd", 5, "x" * 65])
def test_register_with_an_unknown_time_zone_is_422_naming_it(
    client: TestClient, session: Session, timezone: object
) -> None:
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "lost@example.org", "password": PASSWORD, "timezone": timezone},
    )

    assert response.status_code == 422
    assert ["body", "timezone"] in [error["loc"] for error in response.json()["detail"]]
    assert session.exec(select(User)).all() == []


def test_register_with_a_taken_email_is_409(client: TestClient, user: User) -> None:
    response = client.post(
        "/api/v1/auth/register", json={"email": user.email.upper(), "password": PASSWORD}
    )

    assert response.status_code == 409
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("password", ["short", "password1234", "newpatient1"])
def test_register_with_a_weak_password_is_422_naming_password(
    client: TestClient, session: Session, password: str
) -> None:
    response = client.post(
        "/api/v1/auth/register", json={"email": "newpatient@example.org", "password": password}
    )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "password"]
    assert error["msg"]
    assert session.exec(select(User)).all() == []


def test_register_with_a_bad_email_is_422_naming_email(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/register", json={"email": "not-an-email", "password": PASSWORD}
    )

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "email"]]


def test_token(client: TestClient, user: User) -> None:
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert len(body["access_token"]) >= 32


@pytest.mark.parametrize(
    ("email", "password"),
    [("patient@example.org", "wrong password!"), ("nobody@example.org", PASSWORD)],
)
def test_token_with_wrong_credentials_is_401(
    client: TestClient, user: User, email: str, password: str
) -> None:
    response = client.post("/api/v1/auth/token", json={"email": email, "password": password})

    assert response.status_code == 401
    assert "access_token" not in response.json()


def _protected_calls(client: TestClient) -> list[tuple[str, str]]:
    """(method, url) for every /api/v1 route except registering and getting a token."""
    fill = {"date": "2026-03-10", "step_id": "1"}
    calls = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        if path in ("/api/v1/auth/register", "/api/v1/auth/token"):
            continue
        url = re.sub(r"\{(\w+)\}", lambda match: fill.get(match.group(1), "1"), path)
        calls += [(method.upper(), url) for method in operations]
    return calls


def test_every_api_route_is_checked(client: TestClient) -> None:
    calls = set(_protected_calls(client))
    assert {
        ("POST", "/api/v1/auth/logout"),
        ("GET", "/api/v1/entries"),
        ("POST", "/api/v1/entries/batch"),
        ("PUT", "/api/v1/entries/2026-03-10"),
        ("GET", "/api/v1/entries/2026-03-10"),
        ("DELETE", "/api/v1/entries/2026-03-10"),
        ("GET", "/api/v1/dose-steps"),
        ("POST", "/api/v1/dose-steps"),
        ("PATCH", "/api/v1/dose-steps/1"),
        ("DELETE", "/api/v1/dose-steps/1"),
    } <= calls


@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-real-token", "Basic cGF0aWVudDpwdw==", "Bearer "]
)
def test_every_api_route_needs_a_valid_bearer_token(
    client: TestClient, user: User, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for method, url in _protected_calls(client):
        response = client.request(method, url, headers=headers, json={"pain": 1})
        assert response.status_code == 401, (method, url, response.text)
        assert response.headers["www-authenticate"] == "Bearer"


def test_logout_revokes_the_token(api: TestClient, session: Session) -> None:
    assert api.get("/api/v1/entries").status_code == 200

    response = api.post("/api/v1/auth/logout")

    assert response.status_code == 204
    assert api.get("/api/v1/entries").status_code == 401
    assert session.exec(select(ApiToken)).one().revoked_at is not None


def test_logout_leaves_other_tokens_working(api: TestClient, user: User) -> None:
    other = api.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    other_token = other.json()["access_token"]

    api.post("/api/v1/auth/logout")

    response = api.get("/api/v1/entries", headers={"Authorization": f"Bearer {other_token}"})
    assert response.status_code == 200


def test_the_api_does_not_need_a_csrf_token(api: TestClient) -> None:
    # A bearer token cannot be sent by another site's form, so CSRF does not apply here.
    api.cookies.clear()
    response = api.put("/api/v1/entries/2026-03-10", json={"pain": 20})

    assert response.status_code == 201
