"""The account: change the password, sign out everywhere, delete everything it owned."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, String, Text, cast, select
from sqlmodel import Session, SQLModel, func
from sqlmodel import select as select_model

from app.models import ApiToken, BrowserSession, User
from app.reminders import sender, webpush
from tests.clock import freeze_diary_clock
from tests.conftest import Browser
from tests.factories import PASSWORD, make_user
from tests.pages import error_beside, form_data, one, parse
from tests.trust.conftest import bearer

NEW_PASSWORD = "purple elephants dance quietly"


def signed_in(browser: Browser) -> bool:
    return browser.client.get("/today", follow_redirects=False).status_code == 200


def sessions_of(session: Session, user: User) -> int:
    session.expire_all()
    statement = select_model(func.count()).where(BrowserSession.user_id == user.id)
    return session.exec(statement).one()


def live_tokens_of(session: Session, user: User) -> int:
    session.expire_all()
    statement = select_model(func.count()).where(
        ApiToken.user_id == user.id,
        ApiToken.revoked_at == None,  # noqa: E711 (SQL IS NULL)
    )
    return session.exec(statement).one()


@pytest.fixture
def elsewhere(user: User, new_client: Callable[[], TestClient]) -> Browser:
    """The same patient signed in on a second browser."""
    other = Browser(new_client())
    other.sign_in(user.email)
    return other


def account_form(browser: Browser, action: str) -> dict[str, str]:
    page = parse(browser.get("/settings/account"))
    return form_data(one(page, f"form[action='{action}']"))


def test_changing_the_password_ends_every_other_session_and_token(
    browser: Browser, elsewhere: Browser, api: TestClient, session: Session, user: User
) -> None:
    form = account_form(browser, "/settings/account/password")
    form |= {"current_password": PASSWORD, "new_password": NEW_PASSWORD}

    response = browser.post("/settings/account/password", form)

    assert response.status_code == 303
    assert response.headers["location"] == "/settings/account?changed=1"
    assert "ldn_session=" in response.headers["set-cookie"]  # a fresh session for this browser
    assert signed_in(browser)
    assert "password is changed" in browser.get("/settings/account?changed=1").text
    assert not signed_in(elsewhere)
    assert api.get("/api/v1/entries").status_code == 401
    assert sessions_of(session, user) == 1
    assert live_tokens_of(session, user) == 0
    old = browser.client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}
    )
    assert old.status_code == 401
    new = browser.client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": NEW_PASSWORD}
    )
    assert new.status_code == 200


def test_a_wrong_current_password_or_a_weak_new_one_changes_nothing(
    browser: Browser, elsewhere: Browser, session: Session, user: User
) -> None:
    wrong = browser.post(
        "/settings/account/password",
        {"current_password": "not it at all", "new_password": NEW_PASSWORD},
    )
    weak = browser.post(
        "/settings/account/password", {"current_password": PASSWORD, "new_password": "short"}
    )

    assert wrong.status_code == 422
    assert "not your current password" in error_beside(parse(wrong), "current_password")
    assert weak.status_code == 422
    assert "at least 10 characters" in error_beside(parse(weak), "new_password")
    assert signed_in(elsewhere)
    assert sessions_of(session, user) == 2


def test_the_time_zone_can_be_changed_and_moves_today(
    browser: Browser, session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 20:00 on 10 March in London is already 11 March in Kiritimati (UTC+14).
    freeze_diary_clock(monkeypatch, datetime(2026, 3, 10, 20, 0, tzinfo=UTC))
    browser.post("/settings/account/timezone", {"timezone": "Europe/London"})
    assert one(parse(browser.get("/today")), "#entry-form").get("data-day") == "2026-03-10"

    # Typed by hand, in any capitals: stored as IANA spells it.
    response = browser.post("/settings/account/timezone", {"timezone": " pacific/KIRITIMATI "})

    assert response.status_code == 303
    session.refresh(user)
    assert user.timezone == "Pacific/Kiritimati"
    page = parse(browser.get(response.headers["location"]))
    assert "Pacific/Kiritimati" in one(page, "[role=status]").get_text()
    assert one(parse(browser.get("/today")), "#entry-form").get("data-day") == "2026-03-11"


def test_an_unknown_time_zone_is_refused_beside_the_field(
    browser: Browser, session: Session, user: User
) -> None:
    before = user.timezone

    response = browser.post("/settings/account/timezone", {"timezone": "Mars/Olympus"})

    assert response.status_code == 422
    page = parse(response)
    assert "Europe/London" in error_beside(page, "timezone")
    assert one(page, "input[name=timezone]").get("value") == "Mars/Olympus"
    session.refresh(user)
    assert user.timezone == before


def test_the_api_changes_the_password_and_hands_back_a_fresh_token(
    api: TestClient, browser: Browser, session: Session, user: User
) -> None:
    old_header = api.headers["Authorization"]

    wrong = api.post(
        "/api/v1/account/password",
        json={"current_password": "nope nope nope", "new_password": NEW_PASSWORD},
    )
    response = api.post(
        "/api/v1/account/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert wrong.status_code == 403
    assert response.status_code == 200
    assert api.get("/api/v1/entries").status_code == 401  # the old token is revoked too
    api.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    assert api.headers["Authorization"] != old_header
    assert api.get("/api/v1/entries").status_code == 200
    assert not signed_in(browser)
    assert live_tokens_of(session, user) == 1


def test_a_weak_new_password_is_a_422_on_the_api(api: TestClient) -> None:
    response = api.post(
        "/api/v1/account/password", json={"current_password": PASSWORD, "new_password": "abc"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "new_password"]


def test_log_out_everywhere_ends_every_session_and_token(
    browser: Browser, elsewhere: Browser, api: TestClient, session: Session, user: User
) -> None:
    form = account_form(browser, "/settings/account/logout-everywhere")

    response = browser.post("/settings/account/logout-everywhere", form)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?signed_out=1"
    assert response.headers["clear-site-data"] == '"cache"'
    assert not signed_in(browser)
    assert not signed_in(elsewhere)
    assert api.get("/api/v1/entries").status_code == 401
    assert (sessions_of(session, user), live_tokens_of(session, user)) == (0, 0)


def test_log_out_everywhere_on_the_api(
    api: TestClient, browser: Browser, session: Session, user: User
) -> None:
    response = api.post("/api/v1/account/logout-everywhere")

    assert response.status_code == 204
    assert api.get("/api/v1/entries").status_code == 401
    assert not signed_in(browser)
    assert (sessions_of(session, user), live_tokens_of(session, user)) == (0, 0)


# --- Deleting the account ---------------------------------------------------------------------


def fill_every_table(client: TestClient, api: TestClient, email: str) -> TestClient:
    """Give the account rows in every table, the way the app itself makes them.

    Answers the account's API client (its token is one of the rows)."""
    browser = Browser(client)
    browser.sign_in(email)  # a browser session
    bearer(api, email)  # an API token
    api.post("/api/v1/dose-steps", json={"start_date": "2026-03-01", "dose_mg": 1.5})
    api.put("/api/v1/entries/2026-03-02", json={"pain": 40, "notes": f"note of {email}"})
    api.put("/api/v1/entries/2026-03-02", json={"pain": 45})  # a revision
    own = {"label": "Tinnitus", "low_anchor": "silent", "high_anchor": "unbearable"}
    assert api.post("/api/v1/items", json=own).status_code == 201  # an own item and choices
    link = api.post("/api/v1/share-links", json={"expires_in_days": 7})
    assert link.status_code == 201, link.text
    opened = client.get(link.json()["url"].removeprefix("http://testserver"))  # an opening
    assert opened.status_code == 200
    failed = client.post("/api/v1/auth/token", json={"email": email, "password": "wrong guess"})
    assert failed.status_code == 401  # a failed sign-in, kept for throttling
    fill_plan_and_reminders(api)
    trial_start = (date.today() + timedelta(days=7)).isoformat()  # a blinded self-trial
    trial = api.post(
        "/api/v1/self-trials", json={"start_date": trial_start, "meaningful_change": 10}
    )
    assert trial.status_code == 201, trial.text
    with pytest.MonkeyPatch.context() as later:  # a week on, a wrong code tried at it
        freeze_diary_clock(later, datetime.now(UTC) + timedelta(days=8))
        tried = api.post(
            f"/api/v1/self-trials/{trial.json()['id']}/unblind", json={"code": "0000-0000-0000"}
        )
        assert tried.status_code == 422, tried.text
    return api


def fill_plan_and_reminders(api: TestClient) -> None:
    """A plan with a step-day answer, reminders, a push subscription, a calendar address and
    a reminder the sender claimed (SPEC §13)."""
    now = datetime.now(UTC)
    plan = api.post(
        "/api/v1/dose-plan",
        json={
            "start_date": now.date().isoformat(),
            "start_mg": 2,
            "step_mg": 0.5,
            "every_days": 7,
            "target_mg": 2.5,
            "hold_rule": "my own rule",
        },
    )
    assert plan.status_code == 201, plan.text
    step_id = plan.json()["steps"][0]["id"]
    decided = api.post(f"/api/v1/dose-steps/{step_id}/decision", json={"choice": "start"})
    assert decided.status_code == 201, decided.text
    at = f"{now:%H:%M}"
    reminders = {"dose": {"enabled": True, "time": at}}
    assert api.put("/api/v1/reminders", json=reminders).status_code == 200
    endpoint = f"https://fcm.googleapis.com/fcm/send/{secrets.token_urlsafe(8)}"
    keys = {"p256dh": PUSH_POINT, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}
    subscribed = api.post("/api/v1/push-subscriptions", json={"endpoint": endpoint, "keys": keys})
    assert subscribed.status_code == 201, subscribed.text
    assert api.post("/api/v1/calendar-feed").status_code == 201
    state = api.app.state  # type: ignore[attr-defined]
    sent = sender.send_due(
        state.database, state.settings, now=now, push=lambda *_: webpush.Outcome(201)
    )
    assert sent.claimed >= 1


# A valid P-256 public point (the generator), as a browser's p256dh key.
PUSH_POINT = (
    "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"
)


def owned_rows(session: Session, *, user_id: int, email: str) -> dict[str, set[tuple[Any, ...]]]:
    """Per table, the primary keys of the rows that belong to the account.

    A row belongs to it when it is the user, carries its user_id or email, or points (by a
    foreign key) at a row that belongs to it.
    """
    session.expire_all()
    owned: dict[str, set[tuple[Any, ...]]] = {}
    for table in SQLModel.metadata.sorted_tables:  # parents before children
        keys: set[tuple[Any, ...]] = set()
        for row in session.execute(select(table)).mappings():
            if table.name == User.__tablename__:
                mine = row["id"] == user_id
            elif "user_id" in table.c:
                mine = row["user_id"] == user_id
            elif "email" in table.c:
                mine = row["email"] == email
            else:
                mine = any(
                    (row[key.parent.name],) in owned.get(key.column.table.name, set())
                    for key in table.foreign_keys
                )
            if mine:
                keys.add(tuple(row[column.name] for column in table.primary_key.columns))
        owned[table.name] = keys
    return owned


def text_mentioning(session: Session, needle: str) -> list[str]:
    """Every table.column holding `needle` anywhere in its text."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for column in table.c:
            kind = getattr(column.type, "impl", column.type)
            if isinstance(kind, String | JSON):
                text = cast(column, Text)
                hits = session.execute(select(column).where(text.contains(needle))).first()
                if hits is not None:
                    found.append(f"{table.name}.{column.name}")
    return found


def test_deleting_the_account_removes_every_row_it_owned(
    app: Any, session: Session, new_client: Callable[[], TestClient]
) -> None:
    doomed = make_user(session, email="doomed@example.org")
    stays = make_user(session, email="stays@example.org")
    fill_every_table(new_client(), new_client(), stays.email)
    api = fill_every_table(new_client(), new_client(), doomed.email)
    assert doomed.id is not None and stays.id is not None
    doomed_id, doomed_email = doomed.id, doomed.email
    before = owned_rows(session, user_id=doomed_id, email=doomed_email)
    stays_id, stays_email = stays.id, stays.email
    theirs = owned_rows(session, user_id=stays_id, email=stays_email)
    # Registrations counted per network address (a day's worth) belong to no account.
    empty = sorted(
        name for name, keys in before.items() if not keys and name != "registration_attempt"
    )
    assert empty == [], f"give the account rows in {empty} in fill_every_table"
    assert text_mentioning(session, doomed_email)  # the check below can see the email

    wrong = api.request("DELETE", "/api/v1/account", json={"password": "not my password"})
    assert wrong.status_code == 403
    after_wrong = owned_rows(session, user_id=doomed_id, email=doomed_email)
    # The wrong password counts as a failed attempt (throttled like sign-in); nothing else moves.
    assert len(after_wrong.pop("login_failure")) == len(before["login_failure"]) + 1
    assert after_wrong == {name: keys for name, keys in before.items() if name != "login_failure"}

    response = api.request("DELETE", "/api/v1/account", json={"password": PASSWORD})

    assert response.status_code == 204
    after = owned_rows(session, user_id=doomed_id, email=doomed_email)
    assert all(not keys for keys in after.values()), after
    assert text_mentioning(session, doomed_email) == []
    assert owned_rows(session, user_id=stays_id, email=stays_email) == theirs
    assert api.get("/api/v1/entries").status_code == 401
    gone = api.post("/api/v1/auth/token", json={"email": doomed_email, "password": PASSWORD})
    assert gone.status_code == 401


def test_deleting_on_the_web_needs_the_password_and_signs_out(
    browser: Browser, api: TestClient, session: Session, user: User
) -> None:
    user_id = user.id
    api.put("/api/v1/entries/2026-03-02", json={"pain": 40})
    form = account_form(browser, "/settings/account/delete")

    wrong = browser.post("/settings/account/delete", {**form, "password": "not it at all"})

    assert wrong.status_code == 422
    assert "not your password" in error_beside(parse(wrong), "delete_password")
    session.expire_all()
    assert session.get(User, user_id) is not None

    response = browser.post("/settings/account/delete", {**form, "password": PASSWORD})

    assert response.status_code == 303
    assert response.headers["location"] == "/settings/account/deleted"
    assert response.headers["clear-site-data"] == '"cache", "storage"'
    assert 'ldn_session=""' in response.headers["set-cookie"]
    assert "account is deleted" in browser.get("/settings/account/deleted").text
    assert not signed_in(browser)
    session.expire_all()
    assert session.get(User, user_id) is None
    assert api.get("/api/v1/entries").status_code == 401


def test_the_api_delete_needs_a_body_with_the_password(api: TestClient) -> None:
    assert api.request("DELETE", "/api/v1/account").status_code == 422
    assert api.request("DELETE", "/api/v1/account", json={"password": ""}).status_code == 422
    assert api.get("/api/v1/entries").status_code == 200
