"""The private calendar feed (SPEC §13, iCalendar RFC 5545): reminders on any phone.

A daily diary event with an alarm at the patient's diary time, in their own time zone (with
its VTIMEZONE, so the alarm stays at that wall-clock time across daylight-saving changes),
and the plan's coming dose steps as all-day events. Like a notification, it never names the
drug or a symptom: a calendar is often seen by others.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Event
from sqlmodel import Session

from app.models import User
from app.reminders import store
from app.services.dose_steps import format_mg, list_steps

DIARY_EVENT_MINUTES = 10
# The step-day alarm: this long after the start of the step's day (09:00).
STEP_ALARM_AFTER = timedelta(hours=9)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def build_feed(session: Session, *, user: User, base_url: str, today: date) -> bytes:
    """The patient's calendar as iCalendar text."""
    assert user.id is not None
    zone = _zone(user.timezone)
    settings = store.get_settings(session, user_id=user.id)
    now = datetime.now(UTC)
    calendar = Calendar()
    calendar.add("prodid", "-//LDN Diary//Reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Your diary")
    calendar.add("x-wr-timezone", zone.key)

    hours, minutes = (int(part) for part in settings.diary_time.split(":"))
    created = user.created_at.astimezone(zone).date() if user.created_at else today
    first_day = min(created, today)
    diary = Event()
    diary.add("uid", f"diary-{user.id}@ldn-diary")
    diary.add("dtstamp", now)
    diary.add("summary", "Time for your diary")
    diary.add("description", f"Open your diary: {base_url}/today")
    diary.add(
        "dtstart",
        datetime(first_day.year, first_day.month, first_day.day, hours, minutes, tzinfo=zone),
    )
    diary.add("duration", timedelta(minutes=DIARY_EVENT_MINUTES))
    diary.add("rrule", {"freq": "daily"})
    diary.add("url", f"{base_url}/today")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", "Time for your diary")
    alarm.add("trigger", timedelta(0))
    diary.add_component(alarm)
    calendar.add_component(diary)

    for step in list_steps(session, user_id=user.id):
        if not step.planned:
            continue
        event = Event()
        event.add("uid", f"step-{step.id}@ldn-diary")
        event.add("dtstamp", now)
        event.add("summary", f"Plan: next step, {format_mg(step.dose_mg)}")
        event.add(
            "description",
            f"Your plan moves to {format_mg(step.dose_mg)} today. "
            f"Open your diary to choose what you do: {base_url}/today",
        )
        event.add("dtstart", step.start_date)
        event.add("dtend", step.start_date + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        step_alarm = Alarm()
        step_alarm.add("action", "DISPLAY")
        step_alarm.add("description", "Your plan has a new step today")
        step_alarm.add("trigger", STEP_ALARM_AFTER)
        event.add_component(step_alarm)
        calendar.add_component(event)

    calendar.add_missing_timezones()
    return calendar.to_ical()
