"""Pages never show or change another patient's days or dose steps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import DiaryEntry, DoseStep, User
from tests.conftest import Browser
from tests.factories import make_entry, make_step, make_user
from tests.pages import one, parse, text_of

DAY = date(2026, 3, 10)


@pytest.fixture
def intruder(app: FastAPI, session: Session) -> Iterator[Browser]:
    """A second patient, signed in on their own browser."""
    other = make_user(session, email="intruder@example.org")
    with TestClient(app, base_url="http://testserver") as client:
        browser = Browser(client)
        browser.sign_in(other.email)
        yield browser


@pytest.fixture
def step(session: Session, user: User) -> DoseStep:
    make_entry(session, user=user, day=DAY, pain=40, notes="my private note")
    return make_step(session, user=user, start=date(2026, 3, 1), dose_mg=1.5, note="my plan")


def unchanged(session: Session) -> None:
    session.expire_all()
    entry = session.exec(select(DiaryEntry)).one()
    assert (entry.day, entry.ratings.get("pain"), entry.notes) == (DAY, 40, "my private note")
    saved = session.exec(select(DoseStep)).one()
    assert (saved.start_date, saved.dose_mg, saved.note) == (date(2026, 3, 1), 1.5, "my plan")


def test_another_patients_dose_step_is_not_found(
    intruder: Browser, session: Session, step: DoseStep
) -> None:
    edit = intruder.get(f"/doses/{step.id}/edit")
    change = intruder.post(
        f"/doses/{step.id}/edit",
        {"start_date": "2026-03-02", "dose_mg": "50", "dosing_time": "", "note": "hacked"},
    )
    delete = intruder.post(f"/doses/{step.id}/delete")

    assert (edit.status_code, change.status_code, delete.status_code) == (404, 404, 404)
    assert "my plan" not in edit.text
    unchanged(session)


def test_another_patients_days_are_never_shown_or_deleted(
    intruder: Browser, session: Session, step: DoseStep
) -> None:
    day_page = intruder.get(f"/entries/{DAY}")
    history = intruder.get("/history?month=2026-03")
    doses = intruder.get("/doses")
    delete = intruder.post(f"/entries/{DAY}/delete")

    assert day_page.status_code == 200
    assert "my private note" not in day_page.text
    assert one(parse(day_page), "input[name=pain_unanswered]").has_attr("checked")
    assert parse(history).select("table.calendar a.day-cell:not(.missing)") == []
    assert "0 of 31 days logged" in text_of(parse(history))
    assert parse(doses).select("ol.timeline > li") == []
    assert "my plan" not in doses.text
    assert delete.status_code == 404
    unchanged(session)


def test_the_owner_still_sees_everything(browser: Browser, step: DoseStep) -> None:
    history = parse(browser.get("/history?month=2026-03"))
    doses = parse(browser.get("/doses"))

    assert len(history.select("table.calendar a.day-cell:not(.missing)")) == 1
    assert len(doses.select("ol.timeline > li")) == 1
    assert one(doses, f"a[href='/doses/{step.id}/edit']")
