"""/history: a month of diary days, the missing ones visible, each opening its day."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from app.models import User
from app.services.entries import patient_today
from tests.conftest import Browser
from tests.factories import make_entry, make_step
from tests.pages import one, parse, text_of


def test_a_month_lists_every_day_with_the_missing_ones_marked(
    browser: Browser, session: Session, user: User
) -> None:
    make_entry(session, user=user, day=date(2026, 3, 3), pain=40, fatigue=None)
    make_entry(session, user=user, day=date(2026, 3, 17), sleep_quality=80, retrospective=True)
    make_entry(session, user=user, day=date(2026, 4, 1), pain=10)  # another month
    make_step(session, user=user, start=date(2026, 3, 10), dose_mg=1.5)

    response = browser.get("/history?month=2026-03")

    assert response.status_code == 200
    soup = parse(response)
    days = soup.select("ul.days > li")
    assert len(days) == 31
    links = [one(day, "a").get("href") for day in days]
    assert links == [f"/entries/2026-03-{number:02d}" for number in range(31, 0, -1)]
    logged = {one(day, "a").get("href") for day in days if "logged" in day["class"]}
    assert logged == {"/entries/2026-03-03", "/entries/2026-03-17"}
    missing = [day for day in days if "missing" in day["class"]]
    assert len(missing) == 29
    assert all("Not logged" in text_of(day) for day in missing)
    third = text_of(days[31 - 3])
    assert "Pain 40" in third
    assert "Fatigue –" in third  # unanswered, not 0
    assert "filled in later" in text_of(days[31 - 17])
    assert "1.5 mg" in text_of(days[31 - 17])
    assert "2 of 31 days logged" in text_of(soup)


def test_the_current_month_stops_at_today(browser: Browser, user: User) -> None:
    today = patient_today(user)

    soup = parse(browser.get("/history"))

    days = soup.select("ul.days > li")
    assert len(days) == today.day
    assert one(days[0], "a").get("href") == f"/entries/{today}"
    assert one(soup, "h2").get_text(strip=True) == today.strftime("%B %Y")


def test_months_link_to_each_other(browser: Browser) -> None:
    soup = parse(browser.get("/history?month=2026-03"))

    hrefs = {link.get("href") for link in soup.select("nav.month-nav a")}
    assert {"/history?month=2026-02", "/history?month=2026-04"} <= hrefs


@pytest.mark.parametrize("month", ["banana", "2026-13", "0001-01", "1999-12", "9999-12"])
def test_a_month_outside_the_diary_shows_the_current_one(
    browser: Browser, user: User, month: str
) -> None:
    response = browser.get(f"/history?month={month}")

    assert response.status_code == 200
    heading = one(parse(response), "h2").get_text(strip=True)
    assert heading == patient_today(user).strftime("%B %Y")
