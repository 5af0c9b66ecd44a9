"""The dose schedule: one step per start date, read as a timeline."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from app.items.patient import add_own_item, catalogue_and_dose, catalogue_for, update_item
from app.models import DoseStep, User
from app.schemas import DoseStepCreate, DoseStepUpdate
from app.services import dose_steps
from tests.factories import make_step, make_user


@pytest.fixture
def schedule(session: Session, user: User) -> list[DoseStep]:
    """Baseline, then 1.5 → 3 mg, a pause, then 4.5 mg (made out of order on purpose)."""
    made = [
        make_step(session, user=user, start=date(2026, 2, 2), dose_mg=3.0, dosing_time="morning"),
        make_step(session, user=user, start=date(2026, 1, 5), dose_mg=0),
        make_step(session, user=user, start=date(2026, 1, 19), dose_mg=1.5, dosing_time="bedtime"),
        make_step(session, user=user, start=date(2026, 3, 1), dose_mg=4.5),
        make_step(session, user=user, start=date(2026, 2, 16), dose_mg=0, note="washout"),
    ]
    assert user.id is not None
    steps = dose_steps.list_steps(session, user_id=user.id)
    assert len(steps) == len(made)
    return steps


def test_steps_are_listed_by_start_date(schedule: list[DoseStep]) -> None:
    assert [step.start_date for step in schedule] == sorted(step.start_date for step in schedule)


def test_timeline_labels_and_end_dates(schedule: list[DoseStep]) -> None:
    rows = dose_steps.timeline(schedule)

    assert [row.label for row in rows] == [
        "Baseline (no LDN yet)",
        "1.5 mg at bedtime",
        "3 mg in the morning",
        "Pause (no LDN)",
        "4.5 mg",
    ]
    assert [row.is_baseline for row in rows] == [True, False, False, False, False]
    assert [row.end_date for row in rows] == [
        date(2026, 1, 18),
        date(2026, 2, 1),
        date(2026, 2, 15),
        date(2026, 2, 28),
        None,  # the last step is still in force
    ]


def test_every_zero_step_before_the_first_dose_is_baseline(session: Session, user: User) -> None:
    make_step(session, user=user, start=date(2026, 1, 1), dose_mg=0)
    make_step(session, user=user, start=date(2026, 1, 8), dose_mg=0)
    make_step(session, user=user, start=date(2026, 1, 15), dose_mg=0.5)
    assert user.id is not None

    rows = dose_steps.timeline(dose_steps.list_steps(session, user_id=user.id))

    assert [row.is_baseline for row in rows] == [True, True, False]


def test_the_sentence_names_a_pooled_baseline_once(session: Session, user: User) -> None:
    make_step(session, user=user, start=date(2026, 1, 1), dose_mg=0)
    make_step(session, user=user, start=date(2026, 1, 8), dose_mg=0)
    make_step(session, user=user, start=date(2026, 1, 15), dose_mg=0.5)
    make_step(session, user=user, start=date(2026, 2, 1), dose_mg=0)
    assert user.id is not None

    sentence = dose_steps.timeline_sentence(dose_steps.list_steps(session, user_id=user.id))

    assert sentence == "Baseline from 1 Jan · 0.5 mg from 15 Jan · Pause (no LDN) from 1 Feb"


def test_timeline_sentence_reads_like_the_schedule(session: Session, user: User) -> None:
    make_step(session, user=user, start=date(2026, 1, 5), dose_mg=0)
    make_step(session, user=user, start=date(2026, 1, 19), dose_mg=1.5, dosing_time="bedtime")
    assert user.id is not None

    sentence = dose_steps.timeline_sentence(dose_steps.list_steps(session, user_id=user.id))

    assert sentence == "Baseline from 5 Jan · 1.5 mg at bedtime from 19 Jan"


def test_step_in_force_is_the_latest_started_step(schedule: list[DoseStep]) -> None:
    def dose_on(day: date) -> float | None:
        step = dose_steps.step_in_force(schedule, day)
        return None if step is None else step.dose_mg

    assert dose_on(date(2026, 1, 4)) is None  # before the diary's first step
    assert dose_on(date(2026, 1, 5)) == 0
    assert dose_on(date(2026, 1, 18)) == 0
    assert dose_on(date(2026, 1, 19)) == 1.5
    assert dose_on(date(2026, 2, 20)) == 0
    assert dose_on(date(2027, 1, 1)) == 4.5


def test_two_steps_cannot_start_on_the_same_date(session: Session, user: User) -> None:
    assert user.id is not None
    first = DoseStepCreate(start_date=date(2026, 1, 5), dose_mg=0)
    dose_steps.add_step(session, user_id=user.id, data=first)

    with pytest.raises(dose_steps.StepDateTaken) as clash:
        dose_steps.add_step(session, user_id=user.id, data=first.model_copy(update={"dose_mg": 1}))

    assert "5 Jan 2026" in str(clash.value)
    assert len(dose_steps.list_steps(session, user_id=user.id)) == 1


def test_another_patient_may_start_a_step_on_the_same_date(session: Session, user: User) -> None:
    other = make_user(session, email="other@example.org")
    assert user.id is not None and other.id is not None
    data = DoseStepCreate(start_date=date(2026, 1, 5), dose_mg=0)

    dose_steps.add_step(session, user_id=user.id, data=data)
    dose_steps.add_step(session, user_id=other.id, data=data)


def test_moving_a_step_onto_another_steps_date_is_refused(
    session: Session, schedule: list[DoseStep]
) -> None:
    moved = schedule[1]

    with pytest.raises(dose_steps.StepDateTaken):
        dose_steps.update_step(
            session, step=moved, data=DoseStepUpdate(start_date=schedule[2].start_date)
        )

    session.expire_all()
    assert moved.start_date == date(2026, 1, 19)


def test_a_step_can_keep_its_own_date_while_changing_its_dose(
    session: Session, schedule: list[DoseStep]
) -> None:
    step = schedule[1]

    changed = dose_steps.update_step(
        session, step=step, data=DoseStepUpdate(start_date=step.start_date, dose_mg=2.0)
    )

    assert (changed.start_date, changed.dose_mg, changed.dosing_time) == (
        date(2026, 1, 19),
        2.0,
        "bedtime",
    )


def test_another_patients_step_is_as_good_as_missing(
    session: Session, schedule: list[DoseStep]
) -> None:
    other = make_user(session, email="other@example.org")
    assert other.id is not None and schedule[0].id is not None

    assert dose_steps.get_step(session, user_id=other.id, step_id=schedule[0].id) is None
    assert dose_steps.list_steps(session, user_id=other.id) == []


def test_delete_removes_the_step(session: Session, user: User, schedule: list[DoseStep]) -> None:
    assert user.id is not None

    dose_steps.delete_step(session, step=schedule[0])

    assert len(dose_steps.list_steps(session, user_id=user.id)) == 4


def test_the_catalogue_and_the_dose_read_together_match_each_read_alone(
    session: Session, user: User, schedule: list[DoseStep]
) -> None:
    """A diary save reads both in one statement: the same catalogue, the same dose, whether
    the patient has own items and choices or not, and no dose before the first step."""
    item = add_own_item(
        session, user=user, label="Brain fog", low_anchor="Clear", high_anchor="Thick fog"
    )
    update_item(session, user=user, key="nausea", tracked=False)
    other = make_user(session, email="other@example.org")
    make_step(session, user=other, start=date(2020, 1, 1), dose_mg=9.0)
    assert user.id is not None

    for patient in (user, other):
        assert patient.id is not None
        steps = dose_steps.list_steps(session, user_id=patient.id)
        for day in (date(2026, 1, 4), date(2026, 1, 5), date(2026, 1, 19), date(2027, 1, 1)):
            catalogue, dose = catalogue_and_dose(session.connection(), user=patient, day=day)
            assert catalogue == catalogue_for(session, user=patient)
            assert dose == dose_steps.scheduled_dose(steps, day)
    assert catalogue_and_dose(session.connection(), user=user, day=date(2026, 1, 19))[1] == 1.5
    assert catalogue_and_dose(session.connection(), user=user, day=date(2026, 1, 4))[1] is None
    assert catalogue_and_dose(session.connection(), user=other, day=date(2026, 1, 4))[1] == 9.0
    assert item.key in catalogue_for(session, user=user).keys("rated")
