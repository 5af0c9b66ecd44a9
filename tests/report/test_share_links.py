"""Share links: a doctor opens the summary without an account, until it expires or is stopped."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, SQLModel, select

from app.config import Settings
from app.models import ShareLink, ShareLinkOpening, User, utcnow
from app.services.entries import patient_today
from app.services.share_links import GuessLimiter
from bench.synthetic import seed_diary
from tests.conftest import Browser
from tests.factories import PASSWORD, make_user
from tests.pages import error_beside, one, parse, text_of
from tests.report.pdfs import text_of as pdf_text


@pytest.fixture
def diary(session: Session, user: User) -> None:
    seed_diary(session, user=user, days=45, steps=3, end=patient_today(user))


def path_of(url: str) -> str:
    return urlsplit(url).path


def new_link(api: TestClient, **body: object) -> dict[str, object]:
    response = api.post("/api/v1/share-links", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def intruder(client: TestClient, session: Session) -> dict[str, str]:
    """Authorization headers of a second patient."""
    other = make_user(session, email="intruder@example.org")
    response = client.post("/api/v1/auth/token", json={"email": other.email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_link_lifecycle_through_the_api(api: TestClient, diary: None) -> None:
    created = new_link(api, initials="J. S.")
    assert set(created) >= {"id", "url", "expires_at"}
    url = str(created["url"])
    assert url.startswith("http://testserver/shared/")
    expires = created["expires_at"]
    assert isinstance(expires, str)

    # The doctor has no account: a fresh client without the patient's token or cookies.
    doctor = TestClient(api.app, base_url="http://testserver")
    doctor.headers["User-Agent"] = "Doctor's browser/1.0"
    page = doctor.get(path_of(url))
    assert page.status_code == 200
    assert "LDN diary summary · J. S." in text_of(one(parse(page), ".summary-title"))
    pdf = doctor.get(path_of(url) + "/report.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert "LDN diary summary · J. S." in pdf_text(pdf.content)

    listed = api.get("/api/v1/share-links").json()
    assert [link["id"] for link in listed] == [created["id"]]
    assert listed[0]["status"] == "active"
    assert [opening["what"] for opening in listed[0]["openings"]] == ["pdf", "html"]
    assert listed[0]["openings"][0]["user_agent"] == "Doctor's browser/1.0"

    assert api.delete(f"/api/v1/share-links/{created['id']}").status_code == 204
    assert doctor.get(path_of(url)).status_code == 404
    assert doctor.get(path_of(url) + "/report.pdf").status_code == 404
    after = api.get("/api/v1/share-links").json()
    assert after[0]["status"] == "revoked"
    assert len(after[0]["openings"]) == 2  # the log stays


def test_expiry_defaults_to_14_days_and_accepts_1_to_90(api: TestClient) -> None:
    before = utcnow()
    created = new_link(api)
    expires = created["expires_at"]
    assert isinstance(expires, str)
    from datetime import datetime

    delta = datetime.fromisoformat(expires) - before
    assert timedelta(days=14) - timedelta(minutes=1) < delta < timedelta(days=14, minutes=1)
    assert new_link(api, expires_in_days=90)
    for bad in (0, 91, "soon"):
        response = api.post("/api/v1/share-links", json={"expires_in_days": bad})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "expires_in_days"]


def test_api_refuses_a_bad_range_naming_the_field(api: TestClient) -> None:
    response = api.post("/api/v1/share-links", json={"start": "2026-05-02", "end": "2026-05-01"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "end"]


def test_an_expired_link_answers_410(
    api: TestClient, client: TestClient, session: Session, diary: None
) -> None:
    created = new_link(api, expires_in_days=1)
    link = session.get(ShareLink, created["id"])
    assert link is not None
    link.expires_at = utcnow() - timedelta(seconds=1)
    session.add(link)
    session.commit()

    doctor = TestClient(client.app, base_url="http://testserver")
    response = doctor.get(path_of(str(created["url"])))

    assert response.status_code == 410
    assert "expired" in text_of(one(parse(response), "h1"))
    assert doctor.get(path_of(str(created["url"])) + "/report.pdf").status_code == 410
    assert api.get("/api/v1/share-links").json()[0]["status"] == "expired"
    assert session.exec(select(ShareLinkOpening)).all() == []


def test_another_patient_cannot_see_or_stop_the_link(
    api: TestClient, intruder: dict[str, str]
) -> None:
    created = new_link(api)

    assert api.get("/api/v1/share-links", headers=intruder).json() == []
    theirs = api.delete(f"/api/v1/share-links/{created['id']}", headers=intruder)
    missing = api.delete("/api/v1/share-links/999999", headers=intruder)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert api.get("/api/v1/share-links").json()[0]["status"] == "active"


def test_another_patient_cannot_stop_the_link_on_the_web(
    api: TestClient, client: TestClient, session: Session
) -> None:
    created = new_link(api)
    other = make_user(session, email="other@example.org")
    del client.headers["Authorization"]
    intruder = Browser(client)
    intruder.sign_in(other.email)

    response = intruder.post(f"/report/share-links/{created['id']}/revoke")

    assert response.status_code == 404
    assert not parse(intruder.get("/report")).select(".share-link")
    session.expire_all()
    link = session.get(ShareLink, created["id"])
    assert link is not None and link.revoked_at is None


def test_the_token_is_stored_only_as_its_hash(
    api: TestClient, session: Session, settings: Settings
) -> None:
    token = path_of(str(new_link(api, initials="Q. R.")["url"])).rsplit("/", 1)[-1]
    assert len(token) >= 43

    link = session.exec(select(ShareLink)).one()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # No column of any table holds the token itself.
    connection = session.connection()
    for table in SQLModel.metadata.sorted_tables:
        for row in connection.execute(table.select()):
            assert all(token not in str(value) for value in row), table.name
    if settings.is_sqlite:
        connection.execute(text("PRAGMA wal_checkpoint(FULL)"))
        database = Path(settings.database_url.removeprefix("sqlite:///"))
        for path in (database, Path(f"{database}-wal")):
            if path.exists():
                assert token.encode() not in path.read_bytes()


def test_shared_page_shows_the_summary_and_nothing_else(api: TestClient, diary: None) -> None:
    url = path_of(str(new_link(api)["url"]))
    doctor = TestClient(api.app, base_url="http://testserver")

    response = doctor.get(url)

    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    assert response.headers["referrer-policy"] == "no-referrer"
    page = parse(response)
    assert page.select("article.summary")
    assert not page.select("nav, form, script, [style]")
    assert not page.select('link[rel="manifest"]')
    links = [a["href"] for a in page.select("a[href]")]
    assert links == [f"{url}/report.pdf"]
    pdf = doctor.get(f"{url}/report.pdf")
    assert pdf.headers["cache-control"] == "no-store"
    assert pdf.headers["x-robots-tag"] == "noindex, nofollow"


def test_unknown_tokens_are_404_and_guessing_is_slowed(
    app: FastAPI, api: TestClient, diary: None
) -> None:
    real = path_of(str(new_link(api)["url"]))
    guesser = TestClient(app, base_url="http://testserver")
    limit = GuessLimiter().max_misses

    for attempt in range(limit):
        guess = f"/shared/{'A' * 42}{attempt % 10}"
        assert guesser.get(guess).status_code == 404
    blocked = guesser.get("/shared/not-even-a-token")

    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert blocked.headers["cache-control"] == "no-store"
    # While blocked, even a real link is refused to this client, so guessing learns nothing.
    assert guesser.get(real).status_code == 429


def test_guess_limiter_forgets_misses_after_the_window() -> None:
    limiter = GuessLimiter(max_misses=3, window_seconds=60)
    for second in (0, 1, 2):
        assert limiter.retry_after("1.2.3.4", now=second) is None
        limiter.miss("1.2.3.4", now=second)

    assert limiter.retry_after("1.2.3.4", now=10) == 50
    assert limiter.retry_after("5.6.7.8", now=10) is None
    assert limiter.retry_after("1.2.3.4", now=60.5) is None  # the first miss has left the window


def test_guess_limiter_stays_small() -> None:
    limiter = GuessLimiter(max_misses=2, window_seconds=60, max_clients=100)
    for client in range(1000):
        limiter.miss(f"10.0.{client // 256}.{client % 256}", now=client / 100)

    assert len(limiter._misses) <= 100


def test_patient_creates_sees_once_and_stops_a_link_on_the_web(
    browser: Browser, client: TestClient, diary: None
) -> None:
    page = parse(browser.get("/report", params={"initials": "W. E."}))
    form = one(page, 'form[action="/report/share-links"]')
    assert one(form, "input[name=csrf_token]")
    assert one(form, "#expires_in_days")["value"] == "14"

    created = browser.post(
        "/report/share-links",
        {
            "expires_in_days": "7",
            "start": one(page, "#start")["value"],
            "end": one(page, "#end")["value"],
            "initials": "W. E.",
            "questions": "",
        },
    )
    assert created.status_code == 303
    shown = parse(browser.get(created.headers["location"]))
    url = one(shown, "#new-link-url")["value"]
    assert url.startswith("http://testserver/shared/")
    # Shown once: the next visit no longer has it.
    assert not parse(browser.get("/report")).select("#new-link-url")

    doctor = TestClient(client.app, base_url="http://testserver")
    phone = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile"
    assert doctor.get(path_of(url), headers={"user-agent": phone}).status_code == 200
    assert doctor.get(path_of(url) + "/report.pdf").status_code == 200

    listing = parse(browser.get("/report"))
    item = one(listing, ".share-link")
    assert "Opened 2 times" in text_of(item)
    assert "the PDF" in text_of(item) and "the summary page" in text_of(item)
    # Which browser, in words a patient knows, not the raw user-agent string.
    assert "(Chrome on Android)" in text_of(item) and "Mozilla" not in text_of(item)

    revoke = one(item, "form")["action"]
    assert browser.post(revoke).status_code == 303
    assert doctor.get(path_of(url)).status_code == 404
    assert "stopped" in text_of(one(parse(browser.get("/report")), ".share-link"))


def test_share_forms_need_the_csrf_token(api: TestClient, browser: Browser) -> None:
    created = new_link(api)

    made = browser.client.post(
        "/report/share-links", data={"expires_in_days": "14"}, follow_redirects=False
    )
    stopped = browser.client.post(
        f"/report/share-links/{created['id']}/revoke", follow_redirects=False
    )

    assert made.status_code == stopped.status_code == 403
    assert len(api.get("/api/v1/share-links").json()) == 1
    assert api.get("/api/v1/share-links").json()[0]["status"] == "active"


@pytest.mark.parametrize("days", ["0", "91", "two weeks", ""])
def test_web_refuses_a_bad_expiry_beside_the_field(
    browser: Browser, session: Session, days: str
) -> None:
    response = browser.post("/report/share-links", {"expires_in_days": days})

    assert response.status_code == 422
    page = parse(response)
    assert "1 to 90" in error_beside(page, "expires_in_days")
    assert one(page, "#expires_in_days")["value"] == days
    assert session.exec(select(ShareLink)).all() == []
