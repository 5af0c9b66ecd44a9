"""Inputs JSON cannot even represent, and page addresses that cannot be right."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Browser


def test_nan_and_infinity_are_refused_by_name_not_a_server_error(api: TestClient):
    response = api.put(
        "/api/v1/entries/2026-01-05",
        content='{"dose_mg": NaN, "pain": Infinity, "fatigue": 3}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    fields = {error["loc"][-1] for error in response.json()["detail"]}
    assert fields == {"dose_mg", "pain"}
    assert api.get("/api/v1/entries").json() == []


def test_a_page_address_with_an_impossible_value_is_an_html_not_found(browser: Browser):
    response = browser.get("/doses/abc/edit")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "nothing here" in response.text


def test_signing_in_returns_to_the_page_asked_for_with_its_query(client: TestClient):
    response = client.get("/history?month=2026-03", follow_redirects=False)
    assert response.headers["location"] == "/login?next=/history%3Fmonth%3D2026-03"


def test_ids_no_database_key_can_hold_are_simply_not_found(api: TestClient, browser: Browser):
    for huge in (2**31, 2**63, 10**30):
        assert api.delete(f"/api/v1/share-links/{huge}").status_code == 404
        assert api.patch(f"/api/v1/dose-steps/{huge}", json={"dose_mg": 1}).status_code == 404
        restore = browser.post(f"/entries/2026-01-05/revisions/{huge}/restore")
        assert restore.status_code == 404
