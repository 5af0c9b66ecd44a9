"""The tables under the /trends charts (weekly and monthly averages) and the diary loader that
feeds them: the numbers by hand, after they were made fast enough for five years (SPEC §11)."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bs4 import BeautifulSoup
from sqlmodel import Session

from app.models import User
from app.services.entries import patient_today
from app.services.insight import _json_objects, day_records
from tests.conftest import Browser
from tests.factories import make_entry, make_step


def table_rows(html: str, key: str) -> list[list[str]]:
    section = BeautifulSoup(html, "html.parser").select_one(f"section[aria-labelledby=h-{key}]")
    assert section is not None
    return [
        [" ".join(cell.get_text(" ").split()) for cell in row.select("th, td")]
        for row in section.select("tbody tr")
    ]


def test_weekly_and_monthly_averages_by_hand(browser: Browser, session: Session, user: User):
    today = patient_today(user)
    first = today - timedelta(days=399)
    make_step(session, user=user, start=first, dose_mg=0)
    pain: dict[date, int] = {}
    for offset in range(400):
        day = first + timedelta(days=offset)
        if offset % 5 == 3:
            continue  # a missed day now and then
        pain[day] = 20 + (offset * 7) % 61
        make_entry(session, user=user, day=day, pain=pain[day])

    # A year: weekly rows, newest first, each ending a multiple of 7 days before today.
    weekly = table_rows(browser.get("/trends?range=365").text, "pain")
    assert len(weekly) == 53
    for index, (label, rated, mean) in enumerate(weekly[:52]):
        end = today - timedelta(days=7 * index)
        values = [pain[d] for d in (end - timedelta(days=k) for k in range(7)) if d in pain]
        assert rated == f"{len(values)} of 7 days", label
        assert mean == f"{sum(values) / len(values):.0f}", label

    # All of the diary, over a year: monthly rows, the first month cut at the diary's start.
    monthly = table_rows(browser.get("/trends?range=all").text, "pain")
    month_start = today.replace(day=1)
    values = [v for d, v in pain.items() if d >= month_start]
    assert monthly[0][1] == f"{len(values)} of {(today - month_start).days + 1} days"
    assert monthly[0][2] == f"{sum(values) / len(values):.0f}"
    oldest = [v for d, v in pain.items() if d.year == first.year and d.month == first.month]
    assert monthly[-1][0].startswith(f"{first.day} {first:%b %Y}")
    assert monthly[-1][2] == f"{sum(oldest) / len(oldest):.0f}"
    assert sum(int(row[1].split()[0]) for row in monthly) == len(pain)


def test_many_json_columns_decode_at_once_or_row_by_row():
    rows = [json.dumps({"pain": 3}), "{}", json.dumps({"pain": None, "mood": 40})]
    assert _json_objects(rows) == [{"pain": 3}, {}, {"pain": None, "mood": 40}]
    # PostgreSQL hands back dicts; a NULL or a value that is not an object is an empty day.
    assert _json_objects([{"pain": 1}, None, "[1]"]) == [{"pain": 1}, {}, {}]
    assert _json_objects(["[1]", "2"]) == [{}, {}]
    assert _json_objects([]) == []


def test_day_records_read_back_what_was_saved(session: Session, user: User):
    today = patient_today(user)
    make_entry(session, user=user, day=today - timedelta(days=1), pain=30, nausea=2)
    make_entry(session, user=user, day=today, pain=None, mood=70, dose_taken=True)
    assert user.id is not None
    first, second = day_records(session, user_id=user.id)
    assert first.values.get("pain") == 30 and first.side_effects.get("nausea") == 2
    assert second.values.get("mood") == 70 and second.values.get("pain") is None
    assert second.dose_taken is True and first.dose_taken is None
