"""/register, /login and /logout in a browser; / and the redirect to sign in."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.deps import SESSION_COOKIE
from app.models import BrowserSession, User
from tests.conftest import Browser
from tests.factories import PASSWORD
from tests.pages import error_beside, one, parse


def session_cookie(response: httpx2.Response) -> str:
    """The Set-Cookie header that carries the browser session."""
    headers = response.headers.get_list("set-cookie")
    [cookie] = [header for header in headers if header.startswith(f"{SESSION_COOKIE}=")]
    return str(cookie)


def cookie_flags(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


@pytest.mark.parametrize("path", ["/register", "/login"])
def test_account_pages_have_labelled_email_and_password_fields(
    client: TestClient, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 200
    form = one(parse(response), f"form[action='{path}']")
    assert form.get("method") == "post"
    for name, kind in (("email", "email"), ("password", "password")):
        field = one(form, f"input[name={name}]")
        assert field.get("type") == kind
        label = one(form, f"label[for='{field['id']}']")
        assert label.get_text(strip=True)
    assert one(form, "input[name=csrf_token]").get("value")


def test_registering_on_the_web_signs_the_patient_in(client: TestClient, session: Session) -> None:
    browser = Browser(client)
    browser.get("/register")

    response = browser.post(
        "/register",
        {"email": "New@Example.org", "password": PASSWORD, "timezone": "Europe/Berlin"},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/welcome"  # what LDN is for, then /today
    flags = cookie_flags(session_cookie(response))
    assert {"httponly", "samesite=lax", "path=/"} <= flags
    assert "secure" not in flags  # plain http here; see the https test below
    today = browser.get("/today")
    assert today.status_code == 200
    assert parse(today).select_one("form#entry-form") is not None
    user = session.exec(select(User)).one()
    assert (user.email, user.timezone) == ("new@example.org", "Europe/Berlin")


def test_the_session_cookie_is_secure_over_https(app: FastAPI, user: User) -> None:
    with TestClient(app, base_url="https://testserver") as secure_client:
        browser = Browser(secure_client)
        browser.get("/login")

        response = browser.post("/login", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 303
    assert {"secure", "httponly", "samesite=lax"} <= cookie_flags(session_cookie(response))


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        ({"email": "new@example.org", "password": "short"}, "password", "at least 10"),
        ({"email": "new@example.org", "password": "password1234"}, "password", "common"),
        ({"email": "not an email", "password": PASSWORD}, "email", "email address"),
        ({"email": "patient@example.org", "password": PASSWORD}, "email", "already an account"),
    ],
)
def test_registration_problems_show_beside_the_field(
    client: TestClient,
    session: Session,
    user: User,
    form: dict[str, str],
    field: str,
    says: str,
) -> None:
    browser = Browser(client)
    browser.get("/register")

    response = browser.post("/register", form)

    assert response.status_code == 422
    soup = parse(response)
    assert says in error_beside(soup, field)
    assert one(soup, f"input[name={field}]").get("aria-invalid") == "true"
    assert one(soup, "input[name=email]").get("value") == form["email"]
    assert one(soup, "input[name=password]").get("value") is None  # never echoed
    assert SESSION_COOKIE not in client.cookies
    assert len(session.exec(select(User)).all()) == 1


def test_wrong_password_shows_the_error_beside_the_password_and_keeps_the_email(
    client: TestClient, session: Session, user: User
) -> None:
    browser = Browser(client)
    browser.get("/login")

    response = browser.post("/login", {"email": user.email, "password": "not my password"})

    assert response.status_code == 401
    soup = parse(response)
    assert "do not match" in error_beside(soup, "password")
    assert one(soup, "input[name=password]").get("aria-invalid") == "true"
    assert one(soup, "input[name=email]").get("value") == user.email
    assert "not my password" not in response.text
    assert SESSION_COOKIE not in client.cookies
    assert session.exec(select(BrowserSession)).all() == []


def test_logout_ends_the_session(browser: Browser, session: Session) -> None:
    old_cookie = browser.client.cookies[SESSION_COOKIE]
    browser.get("/today")

    response = browser.post("/logout")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert session.exec(select(BrowserSession)).all() == []
    browser.client.cookies.set(SESSION_COOKIE, old_cookie)
    again = browser.client.get("/today", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login")


def test_home_leads_to_today_or_to_sign_in(client: TestClient, user: User) -> None:
    signed_out = client.get("/", follow_redirects=False)
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/login")

    Browser(client).sign_in(user.email)

    signed_in = client.get("/", follow_redirects=False)
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/today")


@pytest.mark.parametrize("path", ["/today", "/history", "/doses", "/entries/2026-03-10"])
def test_pages_send_a_signed_out_visitor_to_sign_in_and_back(
    client: TestClient, user: User, path: str
) -> None:
    response = client.get(path, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"
    login_page = parse(client.get(response.headers["location"]))
    assert one(login_page, "input[name=next]").get("value") == path

    browser = Browser(client)
    browser.get(response.headers["location"])
    signed_in = browser.post("/login", {"email": user.email, "password": PASSWORD, "next": path})
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, path)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/today",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "",
    ],
)
def test_login_never_sends_the_patient_to_another_site(
    client: TestClient, user: User, target: str
) -> None:
    browser = Browser(client)
    browser.get("/login")

    response = browser.post("/login", {"email": user.email, "password": PASSWORD, "next": target})

    assert (response.status_code, response.headers["location"]) == (303, "/today")
    # Already signed in, /login?next=… redirects at once: the same rule applies.
    again = client.get("/login", params={"next": target}, follow_redirects=False)
    assert again.headers["location"] == "/today"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/%2F/evil.example"])
def test_a_disguised_target_stays_on_this_site(client: TestClient, user: User, target: str) -> None:
    browser = Browser(client)
    browser.get("/login")

    response = browser.post("/login", {"email": user.email, "password": PASSWORD, "next": target})

    assert response.status_code == 303
    location = response.headers["location"]
    # Browsers drop tabs and newlines from URLs, so "/\t/x" must not arrive as "//x".
    cleaned = location.replace("\t", "").replace("\n", "").replace("\r", "")
    assert urlsplit(urljoin("http://testserver/login", cleaned)).netloc == "testserver"


def test_a_signed_in_patient_skips_the_account_pages(browser: Browser) -> None:
    for path in ("/login", "/register"):
        response = browser.client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/today")
