"""CSRF on every state-changing browser request; security headers and no third-party origin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.deps import SESSION_COOKIE
from app.models import BrowserSession, DiaryEntry, DoseStep, User
from tests.conftest import Browser, csrf_from
from tests.factories import PASSWORD, make_entry, make_step
from tests.pages import parse

DAY = date(2026, 3, 10)


@pytest.fixture
def stranger_token(app: FastAPI) -> Iterator[str]:
    """A genuine CSRF token, but one issued to a different browser."""
    with TestClient(app, base_url="http://testserver") as other:
        yield csrf_from(other.get("/login").text)


def forged_requests(
    client: TestClient, url: str, data: dict[str, str], stranger_token: str
) -> list[int]:
    """Status codes of the same POST sent with no token, a made-up one and a stolen one."""
    attempts = [
        {"data": data},
        {"data": {**data, "csrf_token": "forged"}},
        {"data": {**data, "csrf_token": ""}},
        {"data": data, "headers": {"X-CSRF-Token": "forged"}},
        {"data": {**data, "csrf_token": stranger_token}},
        {"data": data, "headers": {"X-CSRF-Token": stranger_token, "HX-Request": "true"}},
        {"json": data},
    ]
    return [
        client.post(url, follow_redirects=False, **attempt).status_code  # type: ignore[arg-type]
        for attempt in attempts
    ]


def test_register_needs_the_token(
    client: TestClient, session: Session, stranger_token: str
) -> None:
    client.get("/register")
    form = {"email": "new@example.org", "password": PASSWORD, "timezone": "UTC"}

    assert set(forged_requests(client, "/register", form, stranger_token)) == {403}
    assert session.exec(select(User)).all() == []
    assert SESSION_COOKIE not in client.cookies


def test_login_needs_the_token(
    client: TestClient, session: Session, user: User, stranger_token: str
) -> None:
    client.get("/login")
    form = {"email": user.email, "password": PASSWORD}

    assert set(forged_requests(client, "/login", form, stranger_token)) == {403}
    assert session.exec(select(BrowserSession)).all() == []


def test_logout_needs_the_token(browser: Browser, session: Session, stranger_token: str) -> None:
    assert set(forged_requests(browser.client, "/logout", {}, stranger_token)) == {403}

    assert len(session.exec(select(BrowserSession)).all()) == 1
    assert browser.get("/today").status_code == 200


@pytest.fixture
def saved(session: Session, user: User) -> DoseStep:
    make_entry(session, user=user, day=DAY, pain=40)
    return make_step(session, user=user, start=date(2026, 3, 1), dose_mg=1.5)


def nothing_changed(session: Session) -> None:
    session.expire_all()
    assert [
        (entry.day, entry.ratings.get("pain")) for entry in session.exec(select(DiaryEntry))
    ] == [(DAY, 40)]
    assert [(step.start_date, step.dose_mg) for step in session.exec(select(DoseStep))] == [
        (date(2026, 3, 1), 1.5)
    ]


ROUTES: list[tuple[str, Callable[[DoseStep], str], dict[str, str]]] = [
    ("save a day", lambda _: f"/entries/{DAY}", {"pain": "90"}),
    ("save another day", lambda _: "/entries/2026-03-11", {"pain": "90"}),
    ("delete a day", lambda _: f"/entries/{DAY}/delete", {}),
    ("add a step", lambda _: "/doses", {"start_date": "2026-03-05", "dose_mg": "3"}),
    (
        "change a step",
        lambda step: f"/doses/{step.id}/edit",
        {"start_date": "2026-03-02", "dose_mg": "3"},
    ),
    ("delete a step", lambda step: f"/doses/{step.id}/delete", {}),
]


@pytest.mark.parametrize(("what", "url", "form"), ROUTES, ids=[route[0] for route in ROUTES])
def test_diary_changes_need_the_token(
    browser: Browser,
    session: Session,
    saved: DoseStep,
    stranger_token: str,
    what: str,
    url: Callable[[DoseStep], str],
    form: dict[str, str],
) -> None:
    assert set(forged_requests(browser.client, url(saved), form, stranger_token)) == {403}

    nothing_changed(session)


def test_the_token_in_the_htmx_header_is_accepted(browser: Browser, session: Session) -> None:
    response = browser.client.post(
        "/doses",
        data={"start_date": "2026-03-05", "dose_mg": "3"},
        headers={"X-CSRF-Token": browser.csrf},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert len(session.exec(select(DoseStep)).all()) == 1


def test_the_forbidden_page_explains_what_to_do(browser: Browser) -> None:
    response = browser.client.post("/doses", data={"start_date": "2026-03-05", "dose_mg": "3"})

    assert response.status_code == 403
    assert "reload the page" in parse(response).get_text()


def test_signing_in_gives_a_fresh_token(client: TestClient, user: User) -> None:
    before = csrf_from(client.get("/login").text)

    Browser(client).sign_in(user.email)

    after = csrf_from(client.get("/today").text)
    assert after != before
    response = client.post("/doses", data={"csrf_token": before, "start_date": "2026-03-05"})
    assert response.status_code == 403


def test_the_csrf_cookie_survives_a_visit_from_a_link_elsewhere(client: TestClient) -> None:
    # SameSite=Strict would leave the cookie behind on a visit that starts on another site,
    # and a fresh one would break every open tab's token: Lax and long-lived instead.
    response = client.get("/login")

    [cookie] = [
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith("ldn_csrf=")
    ]
    assert "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie
    assert "Max-Age=" in cookie


def test_the_outbox_route_refuses_a_post_without_the_page_token(
    browser: Browser, session: Session
) -> None:
    day = {
        "date": "2026-03-10",
        "pain": 5,
        "client_id": "phone",
        "client_edited_at": "2026-03-10T08:00:00Z",
    }

    refused = browser.client.post("/sync", json={"entries": [day]})
    forged = browser.client.post(
        "/sync", json={"entries": [day]}, headers={"X-CSRF-Token": "forged"}
    )

    assert (refused.status_code, forged.status_code) == (403, 403)
    assert session.exec(select(DiaryEntry)).all() == []


def test_hsts_is_sent_over_https_only(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as secure:
        assert "max-age=" in secure.get("/login").headers["strict-transport-security"]
    with TestClient(app, base_url="http://testserver") as plain:
        assert "strict-transport-security" not in plain.get("/login").headers


# --- headers and origins ------------------------------------------------------------------


@pytest.fixture
def pages(browser: Browser, saved: DoseStep) -> list[tuple[str, httpx2.Response]]:
    """(path, response) of every kind of page, signed in and out."""
    signed_in = [
        "/today",
        f"/entries/{DAY}",
        f"/entries/{DAY}?saved=1",
        "/history",
        "/history?month=2026-03",
        "/doses",
        f"/doses/{saved.id}/edit",
        "/entries/2999-01-01",
    ]
    found: list[tuple[str, httpx2.Response]] = [(path, browser.get(path)) for path in signed_in]
    found.append(("bad form", browser.post(f"/entries/{DAY}", {"pain": "150"})))
    with TestClient(browser.client.app, base_url="http://testserver") as signed_out:
        for path in ("/login", "/register", "/docs", "/no-such-page"):
            found.append((path, signed_out.get(path)))
    return found


def test_pages_send_the_security_headers(pages: list[tuple[str, httpx2.Response]]) -> None:
    for path, response in pages:
        headers = response.headers
        policy = {
            part.strip().split(" ", 1)[0]: part.strip()
            for part in headers["content-security-policy"].split(";")
        }
        assert policy["script-src"] == "script-src 'self'", path
        assert policy["frame-ancestors"] == "frame-ancestors 'none'", path
        assert policy["object-src"] == "object-src 'none'", path
        assert "unsafe-inline" not in headers["content-security-policy"], path
        assert "unsafe-eval" not in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path


def test_the_api_sends_them_too(api: TestClient) -> None:
    response = api.get("/api/v1/entries")

    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_pages_load_nothing_from_another_origin(pages: list[tuple[str, httpx2.Response]]) -> None:
    for path, response in pages:
        soup = parse(response)
        for tag, attribute in (
            ("script", "src"),
            ("link", "href"),
            ("img", "src"),
            ("iframe", "src"),
            ("source", "src"),
            ("form", "action"),
        ):
            for element in soup.find_all(tag):
                value = str(element.get(attribute) or "")
                assert not value.startswith(("http:", "https:", "//")), (path, str(element))


def test_pages_have_no_inline_script_or_style(pages: list[tuple[str, httpx2.Response]]) -> None:
    for path, response in pages:
        soup = parse(response)
        for script in soup.find_all("script"):
            assert script.get("src"), (path, "inline <script>")
            assert not script.get_text(strip=True), (path, "script with a body")
        assert soup.find_all("style") == [], path
        for element in soup.find_all(True):
            assert "style" not in element.attrs, (path, str(element)[:80])
            handlers = [name for name in element.attrs if name.lower().startswith("on")]
            assert handlers == [], (path, handlers)
