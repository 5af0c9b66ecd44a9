"""Helpers for the trust tests: more patients, each with their own API client or browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.conftest import Browser
from tests.factories import PASSWORD, make_user


@pytest.fixture
def new_client(app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    """Fresh clients (separate cookie jars), closed at the end of the test."""
    opened: list[TestClient] = []

    def make() -> TestClient:
        client = TestClient(app, base_url="http://testserver")
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def bearer(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    """Sign `client` in to the API as `email`."""
    response = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


@pytest.fixture
def other_api(session: Session, new_client: Callable[[], TestClient]) -> TestClient:
    """A second patient's API client."""
    other = make_user(session, email="other@example.org")
    return bearer(new_client(), other.email)


@pytest.fixture
def other_browser(session: Session, new_client: Callable[[], TestClient]) -> Browser:
    """A second patient, signed in on their own browser."""
    other = make_user(session, email="intruder@example.org")
    browser = Browser(new_client())
    browser.sign_in(other.email)
    return browser
