"""Settings pages: export downloads, import with a preview, the account forms, CSRF on each."""

from __future__ import annotations

import base64
import json
import secrets
import zlib
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models import DiaryEntry, User
from app.services import backup
from tests.conftest import Browser
from tests.pages import form_data, one, parse, text_of
from tests.trust.test_backup import saving_a_day_while_the_file_is_checked

BACKUP = {
    "format": "ldn-diary-backup",
    "version": 1,
    "dose_steps": [{"start_date": "2026-02-01", "dose_mg": 0}],
    "entries": [
        {"date": "2026-02-02", "pain": 40},
        {"date": "2026-02-03", "pain": 45},
    ],
    "revisions": [],
}


def upload(browser: Browser, content: bytes, name: str = "backup.json") -> Any:
    browser.get("/settings/import")
    return browser.client.post(
        "/settings/import",
        data={"csrf_token": browser.csrf},
        files={"file": (name, content, "application/json")},
        follow_redirects=False,
    )


def days_of(session: Session, user: User) -> int:
    session.expire_all()
    statement = select(func.count()).select_from(DiaryEntry).where(DiaryEntry.user_id == user.id)
    return session.exec(statement).one()


def test_settings_is_in_the_navigation_and_links_to_each_part(browser: Browser) -> None:
    today = parse(browser.get("/today"))
    nav = [link.get("href") for link in today.select("nav[aria-label=Main] a")]
    assert "/settings" in nav

    page = parse(browser.get("/settings"))

    assert one(page, "nav a[aria-current=page]").get("href") == "/settings"
    links = {link.get("href") for link in page.select("main a")}
    assert {"/settings/export", "/settings/import", "/settings/account"} <= links


def test_settings_pages_need_a_signed_in_patient(client: TestClient) -> None:
    for path in ("/settings", "/settings/export", "/settings/import", "/settings/account"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login")
    for path in ("/settings/export/backup.json", "/settings/export/diary.csv"):
        assert client.get(path, follow_redirects=False).status_code == 303


def test_the_export_page_downloads_each_file(browser: Browser, api: TestClient) -> None:
    api.put("/api/v1/entries/2026-02-02", json={"pain": 40})
    page = parse(browser.get("/settings/export"))
    hrefs = [str(link.get("href")) for link in page.select("main a[download]")]

    assert hrefs == [
        "/settings/export/backup.json",
        "/settings/export/diary.csv",
        "/settings/export/fhir.json",
    ]
    downloads = {href: browser.get(href) for href in hrefs}
    for response in downloads.values():
        assert response.status_code == 200
        assert response.headers["content-disposition"].startswith("attachment;")
    assert downloads["/settings/export/backup.json"].json()["entries"][0]["pain"] == 40
    assert "2026-02-02" in downloads["/settings/export/diary.csv"].text
    fhir = downloads["/settings/export/fhir.json"].json()
    assert fhir["resourceType"] == "Bundle"


def test_upload_preview_confirm_done(
    browser: Browser, api: TestClient, session: Session, user: User
) -> None:
    api.put("/api/v1/entries/2026-02-03", json={"pain": 80})

    preview = upload(browser, json.dumps(BACKUP).encode())

    assert preview.status_code == 200
    soup = parse(preview)
    counts = {
        str(item["data-count"]): text_of(one(item, "strong"))
        for item in soup.select("[data-preview] li")
    }
    assert counts == {
        "days_added": "1",
        "days_replaced": "1",
        "dose_steps_added": "1",
        "revisions_added": "0",
    }
    assert "3 Feb 2026" in text_of(one(soup, "details"))
    assert days_of(session, user) == 1  # a preview writes nothing
    confirm = one(soup, "form[action='/settings/import/confirm']")

    done = browser.post("/settings/import/confirm", form_data(confirm))

    assert done.status_code == 303
    assert done.headers["location"].startswith("/settings/import?imported=1")
    shown = text_of(one(parse(browser.get(done.headers["location"])), "[role=status]"))
    assert "Imported: 1 day added, 1 day replaced, 1 dose step and 0 earlier versions" in shown
    assert days_of(session, user) == 2
    assert api.get("/api/v1/entries/2026-02-03").json()["pain"] == 45


def test_a_bad_file_lists_every_problem_and_offers_no_import(
    browser: Browser, session: Session, user: User
) -> None:
    bad = json.loads(json.dumps(BACKUP))
    bad["entries"][1]["pain"] = 101
    bad["entries"].append({"date": "2026-02-04", "side_effects": {"nausea": 9}})

    response = upload(browser, json.dumps(bad).encode())

    assert response.status_code == 422
    soup = parse(response)
    problems = [text_of(item).replace(" :", ":") for item in soup.select(".error-list li")]
    assert problems == [
        "entries[1].pain: must be 100 or less",
        "entries[2].side_effects.nausea: must be 3 or less",
    ]
    assert "Nothing was imported" in text_of(one(soup, ".import-errors"))
    assert soup.select_one("form[action='/settings/import/confirm']") is None
    assert days_of(session, user) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Choose the backup file"),
        (b"date,pain\n2026-01-01,3\n", "not JSON"),
        (b'{"format": "other"}', "not an LDN Diary backup"),
    ],
)
def test_what_is_not_a_backup_is_said_plainly(
    browser: Browser, content: bytes, message: str
) -> None:
    response = upload(browser, content)

    assert response.status_code == 422
    assert message in text_of(one(parse(response), ".error-list"))


def test_a_file_over_the_limit_is_refused_with_a_clear_message(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "MAX_IMPORT_BYTES", 1000)

    response = upload(browser, json.dumps({**BACKUP, "padding": "x" * 2000}).encode())

    assert response.status_code == 413
    assert "larger than" in text_of(one(parse(response), ".error-list"))


def test_a_tampered_or_stale_preview_imports_nothing(
    browser: Browser, session: Session, user: User
) -> None:
    soup = parse(upload(browser, json.dumps(BACKUP).encode()))
    form = form_data(one(soup, "form[action='/settings/import/confirm']"))
    other = json.loads(json.dumps(BACKUP))
    other["entries"][0]["pain"] = 99
    unsigned = base64.urlsafe_b64encode(zlib.compress(json.dumps(other).encode())).decode()

    tampered = browser.post("/settings/import/confirm", {**form, "payload": unsigned})
    stale = browser.post("/settings/import/confirm", {**form, "issued": "1000"})

    assert tampered.status_code == 400
    assert "expired" in text_of(one(parse(tampered), ".error-list"))
    assert stale.status_code == 400
    assert days_of(session, user) == 0


def test_a_large_backup_travels_through_the_preview_in_pieces(
    browser: Browser, session: Session, user: User
) -> None:
    document = json.loads(json.dumps(BACKUP))
    # Notes that hardly compress: more than the 1 MB a form field may hold, so the preview
    # must carry the document in several fields.
    document["entries"] = [
        {"date": f"{year}-{month:02d}-{day:02d}", "pain": 1, "notes": secrets.token_hex(1000)}
        for year in (2023, 2024, 2025)
        for month in range(1, 13)
        for day in range(1, 29)
    ]
    soup = parse(upload(browser, json.dumps(document).encode()))
    form = one(soup, "form[action='/settings/import/confirm']")
    pieces = form.select("input[name=payload]")
    assert len(pieces) > 1
    assert sum(len(str(part["value"])) for part in pieces) > 1024 * 1024

    done = browser.client.post(
        "/settings/import/confirm",
        data={**form_data(form), "payload": [str(part["value"]) for part in pieces]},
        follow_redirects=False,
    )

    assert done.status_code == 303, done.text
    assert days_of(session, user) == 3 * 12 * 28


NEW_FORMS = [
    "/settings/import",
    "/settings/import/confirm",
    "/settings/account/password",
    "/settings/account/logout-everywhere",
    "/settings/account/delete",
]


@pytest.mark.parametrize("action", NEW_FORMS)
def test_every_new_form_needs_the_csrf_token(
    browser: Browser, session: Session, user: User, action: str
) -> None:
    response = browser.client.post(
        action,
        data={"password": "correct horse battery staple", "current_password": "x"},
        follow_redirects=False,
    )

    assert response.status_code == 403
    session.expire_all()
    assert session.get(User, user.id) is not None
    assert browser.client.get("/today", follow_redirects=False).status_code == 200


def test_every_new_form_carries_the_token(browser: Browser) -> None:
    for page in ("/settings/import", "/settings/account"):
        for form in parse(browser.get(page)).select("main form[method=post]"):
            assert one(form, "input[name=csrf_token]").get("value") == browser.csrf, page


def test_a_day_saved_between_preview_and_import_makes_the_import_write_nothing(
    monkeypatch: pytest.MonkeyPatch, app: FastAPI, browser: Browser, session: Session, user: User
) -> None:
    preview = upload(browser, json.dumps(BACKUP).encode())
    confirm = form_data(one(parse(preview), "form[action='/settings/import/confirm']"))
    saving_a_day_while_the_file_is_checked(monkeypatch, app, user, date(2026, 2, 2))

    response = browser.post("/settings/import/confirm", confirm)

    assert response.status_code == 409
    problems = [text_of(item) for item in parse(response).select(".error-list li")]
    assert problems == ["The diary changed while importing. Nothing was imported: try again."]
    assert days_of(session, user) == 1  # the phone's day, and nothing of the file
