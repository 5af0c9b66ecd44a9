"""Several app processes writing one day at once, on PostgreSQL (SPEC §10, multi-instance).

SQLite lets one writer in at a time, so these races cannot happen there; on PostgreSQL every
request has its own connection, and two of them can read the same row before either writes.
Each thread here stands for one app process: its own session, its own connection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Connection, Engine
from sqlmodel import Session, select

from app.models import DiaryEntry, DoseStep, EntryRevision, LoginFailure, User
from app.schemas import DatedEntryAnswers, DoseStepCreate, EntryAnswers
from app.services import dose_steps, entries, login_throttle

pytestmark = pytest.mark.postgres_only  # SQLite has one writer at a time
DAY = date(2026, 3, 10)
WRITERS = 8


def all_at_once(engine: Engine, user: User, work: Callable[[Session, User, int], Any]) -> list[Any]:
    """Run `work` in WRITERS threads that start together, each with its own session."""
    start = threading.Barrier(WRITERS, timeout=30)
    results: list[Any] = [None] * WRITERS

    def run(index: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            owner = session.get(User, user.id)
            assert owner is not None
            start.wait(timeout=30)
            try:
                results[index] = work(session, owner, index)
            except Exception as error:  # reported by the test, not lost in the thread
                session.rollback()
                results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def failures(results: list[Any]) -> list[Exception]:
    return [result for result in results if isinstance(result, Exception)]


@pytest.fixture
def slow_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen the gap between reading the day and writing it, so the writers overlap there."""
    read = entries._locked_entry

    def read_then_wait(connection: Connection, **where: Any) -> DiaryEntry | None:
        found = read(connection, **where)
        time.sleep(0.15)
        return found

    monkeypatch.setattr(entries, "_locked_entry", read_then_wait)


def test_concurrent_saves_of_one_day_keep_one_row_and_every_version(
    app: FastAPI, session: Session, user: User, slow_reads: None
) -> None:
    def save(db: Session, owner: User, index: int) -> str:
        answers = EntryAnswers.model_validate({"pain": index})
        return entries.save_entry(db, user=owner, day=DAY, answers=answers, source="api").status

    first = all_at_once(app.state.engine, user, save)  # nobody has saved the day yet
    second = all_at_once(app.state.engine, user, lambda db, owner, i: save(db, owner, 50 + i))

    assert not failures(first + second), first + second
    assert sorted(first) == ["created"] + ["replaced"] * (WRITERS - 1), first
    assert second == ["replaced"] * WRITERS, second
    session.expire_all()
    [current] = session.exec(select(DiaryEntry)).all()
    kept = [revision.data["pain"] for revision in session.exec(select(EntryRevision))]
    # Every version but the current one is in the history, each exactly once.
    assert len(kept) == 2 * WRITERS - 1
    assert sorted([*kept, current.ratings.get("pain")]) == [
        *range(WRITERS),
        *range(50, 50 + WRITERS),
    ]


def test_concurrent_batches_with_a_new_day_in_common_all_succeed(
    app: FastAPI, session: Session, user: User, slow_reads: None
) -> None:
    def save(db: Session, owner: User, index: int) -> list[str]:
        batch = [
            DatedEntryAnswers.model_validate({"date": f"2026-02-{index + 1:02d}", "pain": index}),
            DatedEntryAnswers.model_validate({"date": DAY.isoformat(), "pain": index}),
        ]
        outcomes = entries.save_batch(db, user=owner, entries=batch, source="api")
        return [outcome.status for outcome in outcomes]

    results = all_at_once(app.state.engine, user, save)

    assert not failures(results), results
    assert sorted(result[1] for result in results) == ["created"] + ["replaced"] * (WRITERS - 1)
    session.expire_all()
    assert len(session.exec(select(DiaryEntry)).all()) == WRITERS + 1
    assert len(session.exec(select(EntryRevision)).all()) == WRITERS - 1


def test_concurrent_device_replays_of_one_new_day_store_it_once(
    app: FastAPI, session: Session, user: User, slow_reads: None
) -> None:
    edit = EntryAnswers.model_validate(
        {"pain": 30, "client_id": "phone", "client_edited_at": "2026-03-10T20:00:00Z"}
    )

    def replay(db: Session, owner: User, _index: int) -> str:
        return entries.save_entry(db, user=owner, day=DAY, answers=edit, source="sync").status

    results = all_at_once(app.state.engine, user, replay)

    assert not failures(results), results
    assert sorted(results) == ["created"] + ["unchanged"] * (WRITERS - 1), results
    session.expire_all()
    assert len(session.exec(select(DiaryEntry)).all()) == 1
    assert session.exec(select(EntryRevision)).all() == []


def test_concurrent_steps_on_one_date_are_one_step_and_clashes(
    app: FastAPI, session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every writer finds the date free before any of them adds its step.
    checked = threading.Barrier(WRITERS, timeout=30)
    date_taken = dose_steps._date_taken
    waited = threading.local()

    def check_then_wait(db: Session, **where: Any) -> bool:
        taken = date_taken(db, **where)
        if not getattr(waited, "done", False):  # only the first check, not the one after a clash
            waited.done = True
            checked.wait(timeout=30)
        return taken

    monkeypatch.setattr(dose_steps, "_date_taken", check_then_wait)
    step = DoseStepCreate.model_validate({"start_date": "2026-01-19", "dose_mg": 1.5})

    def add(db: Session, owner: User, _index: int) -> object:
        assert owner.id is not None
        return dose_steps.add_step(db, user_id=owner.id, data=step)

    results = all_at_once(app.state.engine, user, add)
    monkeypatch.setattr(dose_steps, "_date_taken", date_taken)

    assert sum(isinstance(result, DoseStep) for result in results) == 1, results
    clashes = [result for result in results if isinstance(result, dose_steps.StepDateTaken)]
    assert len(clashes) == WRITERS - 1, results
    session.expire_all()
    assert len(session.exec(select(DoseStep)).all()) == 1


def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(
    app: FastAPI, session: Session, user: User
) -> None:
    """Eight guesses at once, each holding its (slow) password check: only five get one."""
    rules = login_throttle.ThrottleRules(per_account=5, per_address=100)

    def guess(db: Session, owner: User, index: int) -> str:
        login_throttle.begin(db, email=owner.email, address=f"198.51.100.{index}", rules=rules)
        time.sleep(0.2)  # Argon2 takes about this long; the wrong password stays counted
        return "checked"

    results = all_at_once(app.state.engine, user, guess)

    assert results.count("checked") == 5, results
    assert all(isinstance(error, login_throttle.TooManyAttempts) for error in failures(results))
    session.expire_all()
    assert len(session.exec(select(LoginFailure)).all()) == 5


def test_parallel_registrations_of_one_email_make_one_account_and_409s(
    app: FastAPI, session: Session, user: User
) -> None:
    from app.services import accounts

    def register(db: Session, _owner: User, index: int) -> int:
        spelled = "Twin@Example.org" if index % 2 else "twin@example.org"
        return accounts.register(db, email=spelled, password_hash="x").id or 0

    results = all_at_once(app.state.engine, user, register)
    taken = [result for result in results if isinstance(result, accounts.EmailTaken)]
    made = [result for result in results if isinstance(result, int)]
    assert len(made) == 1 and len(taken) == WRITERS - 1, results
    session.expire_all()
    assert len(session.exec(select(User).where(User.email == "twin@example.org")).all()) == 1


def test_parallel_saves_and_deletions_of_one_day_never_fail(
    app: FastAPI, session: Session, user: User, slow_reads: None
) -> None:
    def save_or_delete(db: Session, owner: User, index: int) -> Any:
        assert owner.id is not None
        if index % 2:
            return entries.delete_day(db, user_id=owner.id, day=DAY)
        answers = EntryAnswers.model_validate({"pain": index})
        return entries.save_entry(db, user=owner, day=DAY, answers=answers, source="api").status

    results = all_at_once(app.state.engine, user, save_or_delete)
    assert not failures(results), results
