"""Which routes a request is tried against."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

API_MODULES = ("app.api.", "app.trials.api")


@pytest.fixture
def tried(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The modules of the routes each request is tried against, in order."""
    modules: list[str] = []
    original = APIRoute.matches

    def spy(route: APIRoute, scope: Any) -> Any:
        modules.append(route.endpoint.__module__)
        return original(route, scope)

    monkeypatch.setattr(APIRoute, "matches", spy)
    return modules


def test_a_page_is_not_tried_against_the_api_routes(client: TestClient, tried: list[str]) -> None:
    assert client.get("/login").status_code == 200
    assert tried, "the pages' own routes are tried"
    assert not [module for module in tried if module.startswith(API_MODULES)]


def test_api_paths_still_reach_the_api(client: TestClient, tried: list[str]) -> None:
    assert client.get("/api/v1/items").status_code == 401  # found, and asks for a token
    assert any(module.startswith(API_MODULES) for module in tried)
    assert client.get("/api/v1/no-such-thing").status_code == 404


def test_api_paths_reach_the_api_behind_a_path_prefix(app: FastAPI) -> None:
    # Served under /diary by a proxy: uvicorn --root-path /diary puts the prefix in the path
    # and in root_path, and routes match what follows it.
    with TestClient(app, root_path="/diary") as behind_proxy:
        assert behind_proxy.get("/diary/api/v1/items").status_code == 401
