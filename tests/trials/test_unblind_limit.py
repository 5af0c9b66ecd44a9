"""Wrong unblinding codes are limited per patient and per trial; the owner's code still works
after the wait, and scrypt never runs inside a database write (app/trials/unblinding.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import SelfTrial, UnblindAttempt, User, utcnow
from app.trials import blinding, service, unblinding
from tests.conftest import Browser
from tests.factories import make_user
from tests.trials.helpers import at, read_sheet

START = date(2026, 3, 2)
WRONG = "0000-0000-0000"  # shaped like a code, opens nothing


def _running_trial(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """A trial in its first period, and the code from its pharmacy sheet."""
    at(monkeypatch, START - timedelta(days=2))
    created = api.post(
        "/api/v1/self-trials", json={"start_date": START.isoformat(), "meaningful_change": 15}
    )
    assert created.status_code == 201, created.text
    trial_id = created.json()["id"]
    code, _holds = read_sheet(api.get(f"/api/v1/self-trials/{trial_id}/pharmacy-sheet.pdf").content)
    at(monkeypatch, START + timedelta(days=10))
    return trial_id, code


def _let_the_window_pass(session: Session) -> None:
    for attempt in session.exec(select(UnblindAttempt)):
        attempt.attempted_at = utcnow() - timedelta(minutes=16)
        session.add(attempt)
    session.commit()


def test_a_guesser_is_stopped_and_the_owner_unblinds_after_the_wait(
    api: TestClient, monkeypatch: pytest.MonkeyPatch, session: Session
) -> None:
    trial_id, code = _running_trial(api, monkeypatch)
    url = f"/api/v1/self-trials/{trial_id}/unblind"
    for _ in range(5):
        wrong = api.post(url, json={"code": WRONG})
        assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "code"]
    limited = api.post(url, json={"code": WRONG})
    assert limited.status_code == 429
    assert 14 * 60 < int(limited.headers["retry-after"]) <= 15 * 60
    assert "Try again in 15 minutes" in limited.json()["detail"]
    # While limited even the right code is refused: a guesser cannot get through by luck.
    right_too_soon = api.post(url, json={"code": code})
    assert right_too_soon.status_code == 429
    trial = api.get(f"/api/v1/self-trials/{trial_id}").json()
    assert trial["status"] == "running" and trial["result"] is None
    # A code that is not shaped like one costs nothing and is not counted.
    assert api.post(url, json={"code": "nonsense"}).status_code == 422
    session.expire_all()
    assert len(session.exec(select(UnblindAttempt)).all()) == 5

    _let_the_window_pass(session)
    opened = api.post(url, json={"code": code})
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "unblinded" and opened.json()["result"] is not None
    session.expire_all()
    assert session.exec(select(UnblindAttempt)).all() == []


def test_the_page_says_beside_the_field_when_to_try_again(
    browser: Browser, api: TestClient, monkeypatch: pytest.MonkeyPatch, session: Session
) -> None:
    trial_id, code = _running_trial(api, monkeypatch)
    url = f"/trial/{trial_id}/unblind"
    for _ in range(5):
        assert browser.post(url, {"code": WRONG}).status_code == 422
    limited = browser.post(url, {"code": code})
    assert limited.status_code == 429 and limited.headers["retry-after"]
    page = BeautifulSoup(limited.text, "html.parser")
    error = page.select_one("#code-error").get_text()
    assert "Try again in 15 minutes" in error and "right code will still work" in error
    assert page.select_one("#code")["aria-invalid"] == "true"
    assert api.get(f"/api/v1/self-trials/{trial_id}").json()["status"] == "running"

    _let_the_window_pass(session)
    opened = browser.post(url, {"code": code})
    assert opened.status_code == 303 and opened.headers["location"] == "/trial?message=unblinded"


def _sealed_trial(session: Session, *, user_id: int) -> SelfTrial:
    """A started trial of `user_id`, sealed under a code nobody keeps."""
    sealed = blinding.seal((True, False), blinding.new_code())
    trial = SelfTrial(
        user_id=user_id,
        start_date=START,
        pairs=2,
        period_days=21,
        settle_days=3,
        primary_item="pain",
        meaningful_change=10,
        seal_salt=sealed.salt,
        sealed_allocation=sealed.sealed,
        code_check=sealed.check,
        guesses={},
    )
    session.add(trial)
    session.commit()
    assert trial.id is not None
    return trial


def _attempts(session: Session, *, user_id: int, trial_id: int, count: int = 5) -> None:
    for _ in range(count):
        session.add(UnblindAttempt(user_id=user_id, trial_id=trial_id))
    session.commit()


def test_another_patients_wrong_codes_do_not_hold_this_patient_up(
    api: TestClient, monkeypatch: pytest.MonkeyPatch, session: Session
) -> None:
    trial_id, code = _running_trial(api, monkeypatch)
    other = make_user(session, email="other@example.org")
    assert other.id is not None
    theirs = _sealed_trial(session, user_id=other.id)
    assert theirs.id is not None
    _attempts(session, user_id=other.id, trial_id=theirs.id)  # they are at the limit
    opened = api.post(f"/api/v1/self-trials/{trial_id}/unblind", json={"code": code})
    assert opened.status_code == 200, opened.text


def test_attempts_at_one_trial_count_for_it_whoever_made_them(session: Session, user: User) -> None:
    """The limit is per patient and per trial: attempts recorded against a trial count."""
    assert user.id is not None
    other = make_user(session, email="other@example.org")
    assert other.id is not None
    trial = _sealed_trial(session, user_id=user.id)
    assert trial.id is not None
    _attempts(session, user_id=other.id, trial_id=trial.id)
    with pytest.raises(service.TooManyCodes):
        unblinding.count_attempt(session, trial=trial)


def test_codes_sent_at_once_are_counted_one_after_another(
    app: FastAPI, session: Session, user: User
) -> None:
    """Eight codes at the same moment: five are let through to scrypt, three are refused."""
    assert user.id is not None
    trial = _sealed_trial(session, user_id=user.id)
    database = app.state.database
    start = threading.Barrier(8, timeout=30)
    outcomes: list[str] = []

    def try_a_code() -> None:
        start.wait()
        try:
            with database.write(wait_seconds=30) as writing:
                unblinding.count_attempt(writing, trial=trial)
            outcomes.append("counted")
        except service.TooManyCodes:
            outcomes.append("refused")

    threads = [threading.Thread(target=try_a_code) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    assert sorted(outcomes) == ["counted"] * 5 + ["refused"] * 3


def test_scrypt_runs_outside_every_database_write(
    app: FastAPI, api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    trial_id, code = _running_trial(api, monkeypatch)
    database = app.state.database
    writing = {"depth": 0}
    original_write = database.write

    @contextmanager
    def watched_write(**kwargs: Any) -> Iterator[Session]:
        writing["depth"] += 1
        try:
            with original_write(**kwargs) as session:
                yield session
        finally:
            writing["depth"] -= 1

    seen: list[int] = []
    original_unseal = blinding.unseal

    def watched_unseal(*args: Any, **kwargs: Any) -> tuple[bool, ...]:
        seen.append(writing["depth"])
        return original_unseal(*args, **kwargs)

    monkeypatch.setattr(database, "write", watched_write)
    monkeypatch.setattr(blinding, "unseal", watched_unseal)
    url = f"/api/v1/self-trials/{trial_id}/unblind"
    assert api.post(url, json={"code": WRONG}).status_code == 422
    assert api.post(url, json={"code": code}).status_code == 200
    assert seen == [0, 0]
