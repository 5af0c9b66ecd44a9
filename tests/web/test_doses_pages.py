"""/doses: the schedule as a timeline, and the forms to add, change and delete steps."""

from __future__ import annotations

from datetime import date, timedelta

import httpx2
import pytest
from sqlmodel import Session, col, select

from app.models import DoseStep, User
from app.services.entries import patient_today
from tests.conftest import Browser
from tests.factories import make_step
from tests.pages import error_beside, one, parse, text_of


def steps(session: Session) -> list[tuple[date, float, str | None]]:
    session.expire_all()
    rows = session.exec(select(DoseStep).order_by(col(DoseStep.start_date)))
    return [(step.start_date, step.dose_mg, step.dosing_time) for step in rows]


def add(browser: Browser, **fields: str) -> httpx2.Response:
    browser.get("/doses")
    return browser.post("/doses", {"dosing_time": "", "note": "", **fields})


def test_an_empty_schedule_explains_the_baseline(browser: Browser) -> None:
    soup = parse(browser.get("/doses"))

    assert "baseline" in text_of(one(soup, "p.lead")).lower()
    form = one(soup, "form[action='/doses']")
    for name in ("start_date", "dose_mg", "dosing_time", "note"):
        control = one(form, f"[name={name}]")
        assert one(form, f"label[for='{control['id']}']")


def test_adding_steps_builds_the_timeline(browser: Browser, session: Session) -> None:
    first = add(browser, start_date="2026-01-05", dose_mg="0")
    second = add(browser, start_date="2026-01-19", dose_mg="1,5", dosing_time="bedtime")

    assert first.status_code == second.status_code == 303
    assert steps(session) == [(date(2026, 1, 5), 0, None), (date(2026, 1, 19), 1.5, "bedtime")]
    soup = parse(browser.get("/doses?message=added"))
    assert text_of(one(soup, "p.lead")) == "Baseline from 5 Jan · 1.5 mg at bedtime from 19 Jan"
    rows = [text_of(row) for row in soup.select("ol.timeline > li")]
    assert "Baseline (no LDN yet)" in rows[0]
    assert "From 5 Jan 2026 to 18 Jan 2026" in rows[0]
    assert "1.5 mg at bedtime" in rows[1]
    assert "From 19 Jan 2026, still in force" in rows[1]
    assert text_of(one(soup, "[role=status]")) == "Dose step added."


def test_the_status_line_says_only_the_app_s_own_words(browser: Browser) -> None:
    soup = parse(browser.get("/doses?message=deleted. Your doctor says stop LDN today"))

    assert soup.select("[role=status]") == []
    assert "doctor" not in soup.get_text()


def test_a_step_that_starts_later_reads_as_planned(
    browser: Browser, session: Session, user: User
) -> None:
    today = patient_today(user)
    make_step(session, user=user, start=today - timedelta(days=20), dose_mg=0)
    make_step(session, user=user, start=today + timedelta(days=7), dose_mg=1.5)

    rows = [text_of(row) for row in parse(browser.get("/doses")).select("ol.timeline > li")]

    assert "still in force" not in rows[1]
    assert "(planned)" in rows[1]


def test_a_second_step_on_the_same_date_is_refused_beside_the_start_date(
    browser: Browser, session: Session, user: User
) -> None:
    make_step(session, user=user, start=date(2026, 1, 19), dose_mg=1.5)

    response = add(browser, start_date="2026-01-19", dose_mg="3", note="up a step")

    assert response.status_code == 422
    soup = parse(response)
    assert "already starts on 19 Jan 2026" in error_beside(soup, "start_date")
    assert one(soup, "input[name=start_date]").get("aria-invalid") == "true"
    assert one(soup, "input[name=dose_mg]").get("value") == "3"
    assert one(soup, "input[name=note]").get("value") == "up a step"
    assert steps(session) == [(date(2026, 1, 19), 1.5, None)]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"start_date": "2026-01-19", "dose_mg": "51"}, "dose_mg"),
        ({"start_date": "2026-01-19", "dose_mg": "-1"}, "dose_mg"),
        ({"start_date": "2026-01-19", "dose_mg": "1.1255"}, "dose_mg"),
        ({"start_date": "2026-01-19", "dose_mg": "a lot"}, "dose_mg"),
        ({"start_date": "2026-01-19", "dose_mg": ""}, "dose_mg"),
        ({"start_date": "", "dose_mg": "1.5"}, "start_date"),
        ({"start_date": "2026-02-30", "dose_mg": "1.5"}, "start_date"),
        ({"start_date": "1999-12-01", "dose_mg": "1.5"}, "start_date"),
        ({"start_date": "2026-01-19", "dose_mg": "1.5", "dosing_time": "noon"}, "dosing_time"),
    ],
)
def test_a_bad_step_shows_the_problem_beside_the_field(
    browser: Browser, session: Session, fields: dict[str, str], field: str
) -> None:
    response = add(browser, **fields)

    assert response.status_code == 422
    assert error_beside(parse(response), field)
    assert steps(session) == []


def test_editing_a_step(browser: Browser, session: Session, user: User) -> None:
    step = make_step(session, user=user, start=date(2026, 1, 19), dose_mg=1.5, note="first")
    page = parse(browser.get(f"/doses/{step.id}/edit"))
    assert one(page, "input[name=start_date]").get("value") == "2026-01-19"
    assert one(page, "input[name=dose_mg]").get("value") == "1.5"
    assert one(page, "input[name=note]").get("value") == "first"

    response = browser.post(
        f"/doses/{step.id}/edit",
        {"start_date": "2026-01-20", "dose_mg": "2", "dosing_time": "morning", "note": ""},
    )

    assert (response.status_code, response.headers["location"]) == (303, "/doses?message=changed")
    assert steps(session) == [(date(2026, 1, 20), 2, "morning")]


def test_moving_a_step_onto_another_is_refused_beside_the_start_date(
    browser: Browser, session: Session, user: User
) -> None:
    make_step(session, user=user, start=date(2026, 1, 5), dose_mg=0)
    step = make_step(session, user=user, start=date(2026, 1, 19), dose_mg=1.5)
    browser.get(f"/doses/{step.id}/edit")

    response = browser.post(
        f"/doses/{step.id}/edit",
        {"start_date": "2026-01-05", "dose_mg": "1.5", "dosing_time": "", "note": ""},
    )

    assert response.status_code == 422
    soup = parse(response)
    assert "already starts on 5 Jan 2026" in error_beside(soup, "start_date")
    assert one(soup, "input[name=start_date]").get("value") == "2026-01-05"
    assert steps(session) == [(date(2026, 1, 5), 0, None), (date(2026, 1, 19), 1.5, None)]


def test_deleting_a_step(browser: Browser, session: Session, user: User) -> None:
    step_id = make_step(session, user=user, start=date(2026, 1, 19), dose_mg=1.5).id
    page = parse(browser.get(f"/doses/{step_id}/edit"))
    folded = one(page, f"form[action='/doses/{step_id}/delete']").find_parent("details")
    assert folded is not None and not folded.has_attr("open"), "two taps, not one"

    response = browser.post(f"/doses/{step_id}/delete")

    assert (response.status_code, response.headers["location"]) == (303, "/doses?message=deleted")
    assert steps(session) == []
    assert browser.get(f"/doses/{step_id}/edit").status_code == 404


@pytest.mark.parametrize("step_id", ["0", str(2**63), "99999999999999999999999"])
def test_an_impossible_step_id_is_not_found(browser: Browser, step_id: str) -> None:
    assert browser.get(f"/doses/{step_id}/edit").status_code == 404
    assert browser.post(f"/doses/{step_id}/delete").status_code == 404
