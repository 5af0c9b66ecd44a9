"""OpenAPI at /docs and /openapi.json, with the SPEC §8 routes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.pages import parse

SPEC_PATHS = {
    "/api/v1/auth/register": {"post"},
    "/api/v1/auth/token": {"post"},
    "/api/v1/dose-steps": {"get", "post"},
    "/api/v1/dose-steps/{step_id}": {"patch", "delete"},
    "/api/v1/entries": {"get"},
    "/api/v1/entries/{date}": {"put", "get", "delete"},
    "/api/v1/entries/batch": {"post"},
}


def test_openapi_lists_the_spec_routes(client: TestClient) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, methods in SPEC_PATHS.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path


def test_openapi_has_no_web_pages(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert all(path.startswith("/api/") for path in paths)


def test_openapi_declares_the_bearer_scheme(client: TestClient) -> None:
    document = client.get("/openapi.json").json()

    schemes = document["components"]["securitySchemes"]
    assert any(scheme.get("scheme") == "bearer" for scheme in schemes.values())


def test_docs_page_loads_everything_from_this_site(client: TestClient) -> None:
    response = client.get("/docs")

    assert response.status_code == 200
    soup = parse(response)
    sources = [tag.get("src") for tag in soup.find_all("script")]
    sources += [tag.get("href") for tag in soup.find_all("link")]
    assert sources
    assert all(isinstance(src, str) and src.startswith("/static/") for src in sources)
    for src in sources:
        assert isinstance(src, str)
        assert client.get(src).status_code == 200, src
