"""Settings → Reminders: times as a plain form, the subscription from the page's script, the
calendar address, and the service worker's push handlers (SPEC §13)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import Settings
from app.models import CalendarFeed, PushSubscription, ReminderSettings
from tests.conftest import Browser
from tests.pages import error_beside, parse
from tests.reminders.push_receiver import BrowserKeys, PushReceiver, push_receiver


@pytest.fixture
def receiver(settings: Settings) -> Iterator[PushReceiver]:
    with push_receiver() as service:
        settings.push_allowed_origins = service.origin
        yield service


def test_the_page_explains_ios_and_carries_the_push_key(browser: Browser) -> None:
    page = parse(browser.get("/settings/reminders"))
    text = page.get_text(" ", strip=True)
    assert "iOS 16.4 or later" in text and "Add to Home Screen" in text
    section = page.select_one("[data-push]")
    assert section is not None and len(str(section["data-vapid-key"])) == 87
    assert page.select_one('script[src^="/static/js/reminders.js"]') is not None


def test_times_are_saved_by_a_plain_form(browser: Browser, session: Session) -> None:
    response = browser.post(
        "/settings/reminders",
        {"diary_enabled": "on", "diary_time": "19:30", "dose_time": "22:00", "step_day": "on"},
    )
    assert response.status_code == 303
    row = session.exec(select(ReminderSettings)).one()
    assert (row.diary_enabled, row.diary_time, row.dose_enabled, row.dose_time, row.step_day) == (
        True,
        "19:30",
        False,
        "22:00",
        True,
    )


def test_a_bad_time_is_shown_beside_its_field(browser: Browser, session: Session) -> None:
    response = browser.post(
        "/settings/reminders", {"diary_enabled": "on", "diary_time": "7pm", "dose_time": "22:00"}
    )
    assert response.status_code == 422
    assert "20:00" in error_beside(parse(response), "diary_time")
    assert session.exec(select(ReminderSettings)).all() == []


def test_the_script_subscribes_tests_and_unsubscribes(
    browser: Browser, session: Session, receiver: PushReceiver
) -> None:
    browser.get("/settings/reminders")
    headers = {"X-CSRF-Token": browser.csrf, "Content-Type": "application/json"}
    body = BrowserKeys.new().subscription(f"{receiver.origin}/push/here")
    client = browser.client
    made = client.post(
        "/settings/reminders/subscription", content=json.dumps(body), headers=headers
    )
    assert made.status_code == 201, made.text
    assert len(session.exec(select(PushSubscription)).all()) == 1
    tested = client.post("/settings/reminders/test", content="{}", headers=headers)
    assert tested.json() == {"sent": 1, "dropped": 0, "failed": 0}
    assert len(receiver.received) == 1
    gone = client.post(
        "/settings/reminders/subscription/delete",
        content=json.dumps({"endpoint": body["endpoint"]}),
        headers=headers,
    )
    assert gone.json() == {"removed": True}
    assert session.exec(select(PushSubscription)).all() == []


def test_without_the_csrf_token_nothing_is_subscribed(browser: Browser, session: Session) -> None:
    body = BrowserKeys.new().subscription("https://fcm.googleapis.com/fcm/send/x")
    response = browser.client.post(
        "/settings/reminders/subscription",
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 403
    assert session.exec(select(PushSubscription)).all() == []


def test_a_forged_endpoint_from_the_page_is_refused(browser: Browser, session: Session) -> None:
    browser.get("/settings/reminders")
    body = BrowserKeys.new().subscription("http://10.0.0.1/admin")
    response = browser.client.post(
        "/settings/reminders/subscription",
        content=json.dumps(body),
        headers={"X-CSRF-Token": browser.csrf, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "endpoint"]
    assert session.exec(select(PushSubscription)).all() == []


def test_the_calendar_address_is_shown_once_and_can_be_stopped(
    browser: Browser, client: TestClient, session: Session
) -> None:
    response = browser.post("/settings/reminders/calendar")
    assert response.status_code == 200
    url = str(parse(response).select_one("#calendar-url")["value"])  # type: ignore[index]
    path = url.removeprefix("http://testserver")
    assert client.get(path).status_code == 200
    assert "calendar-url" not in browser.get("/settings/reminders").text
    assert browser.post("/settings/reminders/calendar/stop").status_code == 303
    assert session.exec(select(CalendarFeed)).all() == []
    assert client.get(path).status_code == 404


def test_the_service_worker_shows_pushes_and_a_tap_opens_today(client: TestClient) -> None:
    worker = client.get("/sw.js").text
    assert 'addEventListener("push"' in worker
    assert "showNotification" in worker
    assert 'addEventListener("notificationclick"' in worker
    assert 'new URL("/today", self.location.origin)' in worker
