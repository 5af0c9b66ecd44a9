"""Web Push end to end: subscribe a local push service, make a reminder due, send, decrypt."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import http_ece
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from py_vapid import Vapid02
from sqlmodel import Session, select

from app.config import Settings
from app.models import PushSubscription, ReminderDelivery, User
from app.reminders import sender, webpush
from tests.factories import make_entry, make_step
from tests.reminders.push_receiver import BrowserKeys, PushReceiver, push_receiver

# 20:05 in Berlin (UTC+1 in winter) on 10 March 2026.
EVENING = datetime(2026, 3, 10, 19, 5, tzinfo=UTC)
DRUG_AND_SYMPTOM_WORDS = (
    "ldn",
    "naltrexone",
    "pain",
    "fatigue",
    "sleep",
    "mood",
    "headache",
    "nausea",
    "dream",
    "anxiety",
    "dizz",
    "insomnia",
    "stress",
    "symptom",
)


@pytest.fixture
def receiver(settings: Settings) -> Iterator[PushReceiver]:
    with push_receiver() as service:
        settings.push_allowed_origins = service.origin
        yield service


@pytest.fixture
def berliner(session: Session, user: User) -> User:
    user.timezone = "Europe/Berlin"
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def subscribe(api: TestClient, receiver: PushReceiver, name: str = "phone") -> BrowserKeys:
    keys = BrowserKeys.new()
    body = keys.subscription(f"{receiver.origin}/push/{name}")
    response = api.post("/api/v1/push-subscriptions", json=body)
    assert response.status_code == 201, response.text
    return keys


def remind_diary_at(api: TestClient, at: str = "20:00", **more: Any) -> None:
    body = {"diary": {"enabled": True, "time": at}, **more}
    response = api.put("/api/v1/reminders", json=body)
    assert response.status_code == 200, response.text


def claims_of(authorization: str) -> dict[str, Any]:
    token = authorization.split("t=", 1)[1].split(",", 1)[0]
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def test_a_due_diary_reminder_arrives_encrypted_with_a_vapid_header(
    app: FastAPI, api: TestClient, settings: Settings, receiver: PushReceiver, berliner: User
) -> None:
    keys = subscribe(api, receiver)
    remind_diary_at(api, "20:00")

    report = sender.send_due(app.state.database, settings, now=EVENING)

    assert (report.claimed, report.delivered) == (1, 1)
    assert len(receiver.received) == 1
    request = receiver.received[0]
    assert request.path == "/push/phone"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert int(request.headers["ttl"]) > 0
    # RFC 8292: "vapid t=<JWT>, k=<public key>", signed by our key, for this origin.
    authorization = request.headers["authorization"]
    assert authorization.startswith("vapid t=")
    assert Vapid02.verify(authorization)
    public_key = webpush.public_key(settings.resolved_vapid_private_key())
    assert authorization.endswith(f"k={public_key}")
    claims = claims_of(authorization)
    assert claims["aud"] == receiver.origin
    assert claims["sub"] == settings.vapid_subject
    assert claims["exp"] > time.time()
    # RFC 8291: only the browser's private key and auth secret open it.
    text = http_ece.decrypt(
        request.body,
        private_key=keys.private_key,
        auth_secret=keys.auth_secret,
        version="aes128gcm",
    )
    message = json.loads(text)
    assert message["body"] == "Time for your diary. It takes a minute."
    assert message["url"] == "/today"
    words = (message["title"] + " " + message["body"]).lower()
    assert not any(word in words for word in DRUG_AND_SYMPTOM_WORDS)


def test_each_reminder_goes_once_and_not_outside_its_hour(
    app: FastAPI, api: TestClient, settings: Settings, receiver: PushReceiver, berliner: User
) -> None:
    subscribe(api, receiver)
    remind_diary_at(api, "20:00")
    database = app.state.database

    assert sender.send_due(database, settings, now=EVENING.replace(hour=18, minute=59)).due == 0
    assert sender.send_due(database, settings, now=EVENING).claimed == 1
    assert sender.send_due(database, settings, now=EVENING.replace(minute=30)).claimed == 0
    assert sender.send_due(database, settings, now=EVENING.replace(hour=20, minute=1)).due == 0
    assert len(receiver.received) == 1
    # The next evening it comes again.
    assert sender.send_due(database, settings, now=EVENING.replace(day=11)).claimed == 1


def test_the_diary_reminder_skips_a_day_already_logged(
    app: FastAPI,
    api: TestClient,
    session: Session,
    settings: Settings,
    receiver: PushReceiver,
    berliner: User,
) -> None:
    subscribe(api, receiver)
    remind_diary_at(api, "20:00", dose={"enabled": True, "time": "20:00"})
    make_entry(session, user=berliner, day=datetime(2026, 3, 10).date(), pain=30)

    report = sender.send_due(app.state.database, settings, now=EVENING)

    assert report.kinds == ["dose"]
    assert len(receiver.received) == 1


def test_a_subscription_the_service_says_is_gone_is_dropped(
    app: FastAPI,
    api: TestClient,
    session: Session,
    settings: Settings,
    receiver: PushReceiver,
    berliner: User,
) -> None:
    subscribe(api, receiver, "old")
    remind_diary_at(api)
    receiver.status = 410

    report = sender.send_due(app.state.database, settings, now=EVENING)

    assert report.dropped == 1
    assert session.exec(select(PushSubscription)).all() == []


def test_no_database_connection_is_held_while_pushing(
    app: FastAPI, api: TestClient, settings: Settings, receiver: PushReceiver, berliner: User
) -> None:
    subscribe(api, receiver)
    subscribe(api, receiver, "laptop")
    remind_diary_at(api)
    database = app.state.database
    held: list[int] = []
    real_send = webpush.send

    def watching_send(*args: Any, **kwargs: Any) -> webpush.Outcome:
        held.append(database.writer.pool.checkedout() + database.reader.pool.checkedout())
        return real_send(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(webpush, "send", watching_send)
        report = sender.send_due(database, settings, now=EVENING)

    assert report.delivered == 2
    assert held == [0, 0]


def test_the_claim_is_kept_with_what_was_delivered(
    app: FastAPI,
    api: TestClient,
    session: Session,
    settings: Settings,
    receiver: PushReceiver,
    berliner: User,
) -> None:
    subscribe(api, receiver)
    remind_diary_at(api)
    sender.send_due(app.state.database, settings, now=EVENING)
    claims = session.exec(select(ReminderDelivery)).all()
    assert [(c.kind, c.local_date.isoformat(), c.delivered) for c in claims] == [
        ("diary", "2026-03-10", 1)
    ]


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://169.254.169.254/latest/meta-data",
        "https://127.0.0.1/push",
        "https://evil.example.com/push",
        "https://fcm.googleapis.com.evil.example/push",
        "http://fcm.googleapis.com/fcm/send/x",
        "https://fcm.googleapis.com:8443/fcm/send/x",
        "https://user@fcm.googleapis.com/fcm/send/x",
        "file:///etc/passwd",
        "not a url",
        # A push service's host to urlsplit, the address before the backslash to urllib3,
        # which posts: the cloud's metadata service, this machine, anyone's server.
        "https://169.254.169.254\\.fcm.googleapis.com/latest",
        "https://localhost\\.push.apple.com/",
        "https://evil.example\\.notify.windows.com/x",
        "https://fcm.googleapis.com%2f.evil.example/push",
        "https://fcm googleapis.com/push",
    ],
)
def test_an_endpoint_outside_the_push_services_is_refused(
    api: TestClient, session: Session, endpoint: str
) -> None:
    body = BrowserKeys.new().subscription(endpoint)
    response = api.post("/api/v1/push-subscriptions", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "endpoint"]
    assert session.exec(select(PushSubscription)).all() == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://web.push.apple.com/QGx",
        "https://wns2-by3p.notify.windows.com/w/?token=abc",
    ],
)
def test_known_push_services_are_accepted(api: TestClient, endpoint: str) -> None:
    body = BrowserKeys.new().subscription(endpoint)
    response = api.post("/api/v1/push-subscriptions", json=body)
    assert response.status_code == 201, response.text
    again = api.post("/api/v1/push-subscriptions", json=body)
    assert again.status_code == 200
    gone = api.request("DELETE", "/api/v1/push-subscriptions", json={"endpoint": endpoint})
    assert gone.status_code == 204
    assert (
        api.request("DELETE", "/api/v1/push-subscriptions", json={"endpoint": endpoint}).status_code
        == 404
    )


def test_keys_that_cannot_encrypt_are_refused(api: TestClient) -> None:
    body = BrowserKeys.new().subscription("https://fcm.googleapis.com/fcm/send/abc")
    body["keys"] = {"p256dh": "AAAA", "auth": "AAAA"}
    response = api.post("/api/v1/push-subscriptions", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "keys"]


def test_the_test_button_sends_now(
    api: TestClient, settings: Settings, receiver: PushReceiver
) -> None:
    keys = subscribe(api, receiver)
    response = api.post("/api/v1/push-subscriptions/test")
    assert response.status_code == 200
    assert response.json() == {"sent": 1, "dropped": 0, "failed": 0}
    text = http_ece.decrypt(
        receiver.received[0].body,
        private_key=keys.private_key,
        auth_secret=keys.auth_secret,
        version="aes128gcm",
    )
    assert json.loads(text)["title"] == "Reminders work"


def test_reminder_settings_round_trip(api: TestClient) -> None:
    default = api.get("/api/v1/reminders").json()
    assert default["diary"] == {"enabled": False, "time": "20:00"}
    assert default["vapid_public_key"]
    body = {
        "diary": {"enabled": True, "time": "19:30"},
        "dose": {"enabled": True, "time": "22:00"},
        "step_day": True,
    }
    assert api.put("/api/v1/reminders", json=body).status_code == 200
    shown = api.get("/api/v1/reminders").json()
    assert {key: shown[key] for key in body} == body
    bad = api.put("/api/v1/reminders", json={"diary": {"enabled": True, "time": "25:00"}})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][-2:] == ["diary", "time"]


def test_a_step_day_is_told_at_the_dose_time_without_naming_the_drug(
    app: FastAPI,
    api: TestClient,
    session: Session,
    settings: Settings,
    receiver: PushReceiver,
    berliner: User,
) -> None:
    keys = subscribe(api, receiver)
    api.put(
        "/api/v1/reminders",
        json={"dose": {"enabled": False, "time": "20:00"}, "step_day": True},
    )
    make_step(session, user=berliner, start=EVENING.date(), dose_mg=2.0, planned=True)

    report = sender.send_due(app.state.database, settings, now=EVENING)

    assert report.kinds == ["step_day"]
    message = json.loads(
        http_ece.decrypt(
            receiver.received[0].body,
            private_key=keys.private_key,
            auth_secret=keys.auth_secret,
            version="aes128gcm",
        )
    )
    words = (message["title"] + " " + message["body"]).lower()
    assert "plan" in words and not any(word in words for word in DRUG_AND_SYMPTOM_WORDS)
    assert "mg" not in words.split()
