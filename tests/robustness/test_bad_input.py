"""Inputs JSON cannot even represent, and page addresses that cannot be right."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from app.models import User
from app.services.entries import patient_today
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


def _refused_fields(response: object) -> set[object]:
    assert getattr(response, "status_code", None) == 422, getattr(response, "text", "")
    return {error["loc"][-1] for error in response.json()["detail"]}  # type: ignore[attr-defined]


def test_nul_and_broken_characters_in_text_are_refused_by_name(api: TestClient):
    """PostgreSQL cannot store NUL; a lone surrogate ("\\ud800") cannot even be sent back."""
    for bad in ("a\\u0000b", "a\\ud800b"):
        entry = api.put(
            "/api/v1/entries/2026-01-05",
            content=f'{{"pain": 3, "notes": "{bad}"}}',
            headers={"content-type": "application/json"},
        )
        assert _refused_fields(entry) == {"notes"}
        step = api.post(
            "/api/v1/dose-steps",
            content=f'{{"start_date": "2026-01-01", "dose_mg": 0, "note": "{bad}"}}',
            headers={"content-type": "application/json"},
        )
        assert _refused_fields(step) == {"note"}
        link = api.post(
            "/api/v1/share-links",
            content=f'{{"initials": "{bad}"}}',
            headers={"content-type": "application/json"},
        )
        assert _refused_fields(link) == {"initials"}
    assert api.get("/api/v1/entries").json() == []
    assert api.get("/api/v1/dose-steps").json() == []
    assert api.get("/api/v1/share-links").json() == []


def test_a_broken_character_echoed_in_an_error_is_sent_back_escaped(api: TestClient):
    response = api.put(
        "/api/v1/entries/2026-01-05",
        content='{"pain": "\\ud800"}',
        headers={"content-type": "application/json"},
    )
    assert _refused_fields(response) == {"pain"}
    assert b'"\\ud800"' in response.content  # the client's own escape, not a server error


def test_a_share_link_lasts_a_number_of_days_not_a_string_or_true(api: TestClient):
    for days in ("3", True, 2.5):
        response = api.post("/api/v1/share-links", json={"expires_in_days": days})
        assert _refused_fields(response) == {"expires_in_days"}


def test_a_backup_that_is_not_plain_json_text_is_refused_not_a_server_error(api: TestClient):
    hostile = [
        '{"format": "ldn-diary-backup", "version": ' + "1" * 5000 + "}",  # past int() limits
        '{"format": "ldn-diary-backup", "version": 1, "\\ud800": 1}',
        '{"format": "ldn-diary-backup", "version": true}',  # true is not 1
    ]
    for document in hostile:
        response = api.post(
            "/api/v1/import", content=document, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, response.text
    assert api.get("/api/v1/export").json()["entries"] == []


def test_a_kept_version_gives_one_of_the_documented_reasons(api: TestClient):
    document = api.get("/api/v1/export").json()
    document["revisions"] = [
        {
            "date": "2026-02-02",
            "data": {"pain": 10},
            "source": "web",
            "saved_at": "2026-02-02T10:00:00Z",
            "replaced_at": "2026-02-02T11:00:00Z",
            "reason": "<b>zz</b>",
        }
    ]
    response = api.post("/api/v1/import", json=document)
    assert response.status_code == 422
    assert [item["field"] for item in response.json()["detail"]] == ["revisions[0].reason"]


HUGE = "9" * 5000  # past the 4,300 digits Python's int() reads


def test_numbers_no_one_means_get_a_message_not_a_server_error(
    browser: Browser, api: TestClient, user: User
):
    """Five thousand nines, "²" (a digit to str.isdigit, not to int()) or 400 nines (infinity
    as a float) in a form or a query: each was a 500."""
    today = patient_today(user)
    api.post(
        "/api/v1/dose-plan",
        json={
            "start_date": (today - timedelta(days=7)).isoformat(),
            "start_mg": 1,
            "step_mg": 1,
            "every_days": 7,
            "target_mg": 3,
        },
    )
    due = next(
        step
        for step in api.get("/api/v1/dose-steps").json()
        if step["start_date"] == today.isoformat()
    )
    plan = {
        "template": "custom",
        "start_date": (today + timedelta(days=30)).isoformat(),
        "start_mg": "0.5",
        "step_mg": "0.5",
        "every_days": "7",
        "target_mg": "1",
    }
    trial = {
        "start_date": (today + timedelta(days=20)).isoformat(),
        "pairs": "3",
        "period_days": "21",
        "settle_days": "3",
        "primary_item": "pain",
        "meaningful_change": "10",
        "already_on_ldn": "yes",
    }
    forms = [
        (f"/entries/{today.isoformat()}", {"pain": HUGE}, "pain"),
        (f"/entries/{today.isoformat()}", {"pain": "²"}, "pain"),
        ("/doses/plan", {**plan, "every_days": HUGE}, "every_days"),
        (f"/doses/{due['id']}/decision", {"choice": "hold", "days": HUGE}, None),
        ("/trial", {**trial, "pairs": "9" * 400}, "pairs"),
        ("/trial", {**trial, "ldn_dose_mg": "9" * 400}, "ldn_dose_mg"),
        ("/report/share-links", {"expires_in_days": "²"}, "expires_in_days"),
    ]
    for url, form, field in forms:
        response = browser.post(url, form)
        assert response.status_code == 422, (url, form, response.status_code)
        if field is not None:  # the message beside the field
            assert re.search(rf'id="(plan-)?{field}-error"', response.text), (url, form)
    expired = browser.post(
        "/settings/import/confirm", {"payload": "{}", "issued": "²", "signature": "x"}
    )
    assert expired.status_code == 400 and "This preview has expired" in expired.text
    for url in (
        "/compare?settle_days=²",
        "/compare?reference=²",
        f"/compare?settle_days={HUGE}",
        "/settings/import?imported=1&days_added=²",
        f"/entries/{today.isoformat()}?history_page=²",
    ):
        assert browser.get(url).status_code == 200, url
    # Nothing was written: no day, no share link, no trial, the plan's steps as they were.
    assert api.get("/api/v1/entries").json() == []
    assert api.get("/api/v1/share-links").json() == []
    assert api.get("/api/v1/self-trials").json() == []
    assert (
        next(step for step in api.get("/api/v1/dose-steps").json() if step["id"] == due["id"])
        == due
    )
