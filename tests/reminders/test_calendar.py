"""The private calendar feed (SPEC §13): parses, alarms at the patient's wall-clock time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import Session

from app.models import User


def feed_path(api: TestClient) -> str:
    response = api.post("/api/v1/calendar-feed")
    assert response.status_code == 201, response.text
    url: str = response.json()["url"]
    assert url.startswith("http://testserver/calendar/") and url.endswith(".ics")
    return url.removeprefix("http://testserver")


def test_the_feed_has_a_daily_diary_alarm_that_follows_daylight_saving(
    api: TestClient, client: TestClient, session: Session, user: User
) -> None:
    user.timezone = "Europe/Berlin"
    user.created_at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    session.add(user)
    session.commit()
    api.put("/api/v1/reminders", json={"diary": {"enabled": False, "time": "20:00"}})
    path = feed_path(api)
    plain = TestClient(client.app)  # a calendar app has no token

    response = plain.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["cache-control"] == "no-store"
    calendar = Calendar.from_ical(response.content)
    (diary,) = [event for event in calendar.walk("VEVENT") if "diary" in str(event["uid"])]
    assert str(diary["summary"]) == "Time for your diary"
    start = diary.decoded("dtstart")
    assert start.tzinfo is not None
    assert diary["dtstart"].params["TZID"] == "Europe/Berlin"
    (alarm,) = diary.walk("VALARM")
    assert alarm.decoded("trigger") == timedelta(0)
    # The time zone is carried in the file: read it back from its VTIMEZONE alone.
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["tzid"]) == "Europe/Berlin"
    berlin = zone.to_tz()
    naive = start.replace(tzinfo=None)
    rule = rrulestr(diary["rrule"].to_ical().decode(), dtstart=naive)
    # The clocks go forward on 29 March 2026: the alarm stays at 20:00 on the wall clock.
    before = rule.after(datetime(2026, 3, 28))
    after = rule.after(datetime(2026, 3, 30))
    assert (before, after) == (datetime(2026, 3, 28, 20, 0), datetime(2026, 3, 30, 20, 0))
    assert before.replace(tzinfo=berlin).astimezone(UTC).hour == 19
    assert after.replace(tzinfo=berlin).astimezone(UTC).hour == 18
    # And the zoneinfo database agrees with the file.
    assert before.replace(tzinfo=ZoneInfo("Europe/Berlin")).utcoffset() == timedelta(hours=1)
    assert after.replace(tzinfo=ZoneInfo("Europe/Berlin")).utcoffset() == timedelta(hours=2)
    text = response.text.lower()
    assert "ldn" not in text.replace("ldn-diary", "").replace("ldn diary", "")
    assert "naltrexone" not in text


def test_the_feed_lists_the_planned_steps(api: TestClient, client: TestClient) -> None:
    api.post(
        "/api/v1/dose-plan", json={"start_date": "2026-04-06", "template": "one_and_a_half_steps"}
    )
    path = feed_path(api)

    calendar = Calendar.from_ical(TestClient(client.app).get(path).content)

    steps = [event for event in calendar.walk("VEVENT") if "step" in str(event["uid"])]
    assert [(event.decoded("dtstart"), str(event["summary"])) for event in steps] == [
        (date(2026, 4, 6), "Plan: next step, 1.5 mg"),
        (date(2026, 4, 20), "Plan: next step, 3 mg"),
        (date(2026, 5, 4), "Plan: next step, 4.5 mg"),
    ]


def test_a_new_address_stops_the_old_one_and_delete_stops_both(
    api: TestClient, client: TestClient
) -> None:
    plain = TestClient(client.app)
    first = feed_path(api)
    second = feed_path(api)
    assert plain.get(first).status_code == 404
    assert plain.get(second).status_code == 200
    assert api.delete("/api/v1/calendar-feed").status_code == 204
    assert plain.get(second).status_code == 404
    assert api.delete("/api/v1/calendar-feed").status_code == 404
    assert plain.get("/calendar/not-a-token.ics").status_code == 404
