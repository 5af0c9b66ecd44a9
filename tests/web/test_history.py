"""/history: a month as a calendar a tired patient reads at a glance, and as a plain table."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from app.items import ITEMS_BY_KEY
from app.models import User
from app.services.entries import patient_today
from app.services.history import level
from tests.conftest import Browser
from tests.factories import make_entry, make_step
from tests.pages import one, parse, text_of


def _cells(soup):  # type: ignore[no-untyped-def]
    return {cell["href"]: cell for cell in soup.select("table.calendar a.day-cell")}


def test_a_month_is_a_calendar_with_every_day_a_link(
    browser: Browser, session: Session, user: User
) -> None:
    make_entry(session, user=user, day=date(2026, 3, 3), pain=40, fatigue=None)
    make_entry(
        session, user=user, day=date(2026, 3, 17), sleep_quality=80, retrospective=True, nausea=2
    )
    make_entry(session, user=user, day=date(2026, 3, 18), pain=90, dose_taken=False)
    make_entry(session, user=user, day=date(2026, 4, 1), pain=10)  # another month
    make_step(session, user=user, start=date(2026, 3, 10), dose_mg=1.5)

    response = browser.get("/history?month=2026-03")

    assert response.status_code == 200
    soup = parse(response)
    calendar = one(soup, "table.calendar")
    # Weeks start on Monday: 1 March 2026 is a Sunday, so six blank days come first.
    first_week = calendar.select("tbody tr")[0].select("td")
    assert [td.get("class") for td in first_week[:6]] == [["pad"]] * 6
    cells = _cells(soup)
    assert list(cells) == [f"/entries/2026-03-{number:02d}" for number in range(1, 32)]
    missing = [href for href, cell in cells.items() if "missing" in cell["class"]]
    assert len(missing) == 28
    assert "not logged" in cells["/entries/2026-03-01"]["aria-label"]

    third = cells["/entries/2026-03-03"]
    assert text_of(one(third, ".value")) == "40"
    assert "Pain 40" in third["aria-label"]
    assert f"level-{level(ITEMS_BY_KEY['pain'], 40)}" in third["class"]
    # Pain unanswered on a logged day: a dot, never 0, and no shade.
    seventeenth = cells["/entries/2026-03-17"]
    assert text_of(one(seventeenth, ".value")) == "·"
    assert not [name for name in seventeenth["class"] if name.startswith("level-")]
    assert "side effects: Nausea" in seventeenth["aria-label"]
    assert one(seventeenth, ".mark").get_text() == "●"
    eighteenth = cells["/entries/2026-03-18"]
    assert "LDN not taken" in eighteenth["aria-label"] and "level-4" in eighteenth["class"]
    assert "3 of 31 days logged" in text_of(soup)

    # The same month as a plain table, newest first, for screen readers and a closer look.
    rows = soup.select("details.month-table tbody tr")
    assert len(rows) == 31
    assert one(rows[0], "a").get("href") == "/entries/2026-03-31"
    assert "filled in later" in text_of(rows[31 - 17]) and "1.5 mg" in text_of(rows[31 - 17])
    assert "not answered" in text_of(rows[31 - 17])  # pain, never 0


def test_the_chosen_item_shades_by_how_bad_it_is_whichever_way_is_better(
    browser: Browser, session: Session, user: User
) -> None:
    make_entry(session, user=user, day=date(2026, 3, 3), sleep_quality=95, pain=95)

    sleep = parse(browser.get("/history?month=2026-03&item=sleep_quality"))
    pain = parse(browser.get("/history?month=2026-03&item=pain"))

    # Sleep 95 is good (light); pain 95 is bad (dark).
    assert "level-0" in _cells(sleep)["/entries/2026-03-03"]["class"]
    assert "level-4" in _cells(pain)["/entries/2026-03-03"]["class"]
    assert "higher is better" in text_of(one(sleep, "table.calendar caption"))
    assert one(sleep, "select#item option[selected]").get("value") == "sleep_quality"
    assert "dark: 0 = did not sleep well at all" in text_of(one(sleep, "#calendar-key"))
    # An unknown item falls back to the first, rather than failing.
    assert browser.get("/history?month=2026-03&item=nonsense").status_code == 200


def test_the_current_month_stops_at_today(browser: Browser, user: User) -> None:
    today = patient_today(user)

    soup = parse(browser.get("/history"))

    assert len(_cells(soup)) == today.day
    assert len(soup.select("details.month-table tbody tr")) == today.day
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


def test_the_item_picker_asks_htmx_for_the_month_alone(
    browser: Browser, session: Session, user: User
) -> None:
    make_entry(session, user=user, day=date(2026, 3, 3), pain=40, sleep_quality=75)
    page = parse(browser.get("/history?month=2026-03"))
    picker = one(page, "form.item-pick")
    assert picker["hx-get"] == "/history" and picker["hx-target"] == "#month-view"
    assert one(picker, "button[type=submit]").has_attr("data-hidden-with-htmx")
    assert page.select_one('script[src^="/static/js/history.js"]') is not None

    htmx = browser.get("/history?month=2026-03&item=sleep_quality", headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and "HX-Request" in htmx.headers["vary"]
    fragment = parse(htmx)
    assert fragment.select_one("h1") is None and fragment.select_one("form.item-pick") is None
    assert "Sleep 75" in one(fragment, '#month-view a[href="/entries/2026-03-03"]')["aria-label"]
    nav = one(fragment, "nav#month-nav")
    assert nav["hx-swap-oob"] == "true" and "item=sleep_quality" in nav.select("a")[0]["href"]
    assert "now shows sleep" in text_of(one(fragment, "#item-pick-status"))

    # The page htmx fetches again for the back button is the whole page.
    restored = browser.get(
        "/history?month=2026-03&item=sleep_quality",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert parse(restored).select_one("h1") is not None
