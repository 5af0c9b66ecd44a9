"""`make demo`: a demo account with a few months of plausible diary (app/demo.py)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from app import demo
from app.models import DiaryEntry, DoseStep, User
from app.services import accounts

TODAY = date(2026, 11, 30)


def test_the_demo_account_has_months_of_diary_steps_and_side_effects(session: Session) -> None:
    user = demo.create_demo(session, today=TODAY)

    assert accounts.authenticate(session, email=demo.EMAIL, password=demo.PASSWORD) is not None
    steps = session.exec(select(DoseStep).where(DoseStep.user_id == user.id)).all()
    assert sorted(step.dose_mg for step in steps) == [0.0, 1.5, 3.0, 4.5]
    days = session.exec(select(DiaryEntry).where(DiaryEntry.user_id == user.id)).all()
    assert 100 <= len(days) < demo.DAYS
    assert max(day.day for day in days) == TODAY
    first_dose = min(step.start_date for step in steps if step.dose_mg > 0)
    baseline = [day for day in days if day.day < first_dose]
    on_ldn = [day for day in days if day.day >= first_dose]
    # Not asked before the first dose; mostly taken after it, a few missed.
    assert {day.dose_taken for day in baseline} == {None}
    assert {day.dose_taken for day in on_ldn} == {True, False}
    assert any(day.side_effects.get("nightmares", 0) > 0 for day in on_ldn)
    assert any(day.tolerability is not None for day in on_ldn)
    assert not any(day.tolerability is not None for day in baseline)
    assert 0 < sum(day.retrospective for day in days) < 10
    # Pain eases on LDN, as it does in the demo's story.
    mean = lambda rows: sum(row.ratings["pain"] for row in rows) / len(rows)  # noqa: E731
    assert mean(on_ldn[-30:]) < mean(baseline) - 10


def test_making_the_demo_again_replaces_it(session: Session) -> None:
    demo.create_demo(session, today=TODAY)
    again = demo.create_demo(session, today=TODAY)

    users = session.exec(select(User).where(User.email == demo.EMAIL)).all()
    assert [user.id for user in users] == [again.id]
    owners = set(session.exec(select(DiaryEntry.user_id)).all())
    assert owners == {again.id}
