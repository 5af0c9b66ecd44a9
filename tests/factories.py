"""Rows for tests, made quickly (one Argon2 hash for the whole run)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from sqlmodel import Session

from app.models import DiaryEntry, DoseStep, User
from app.services.entries import stored_fields

PASSWORD = "correct horse battery staple"
# Argon2id with the smallest cost the library allows: tests sign in hundreds of times, and
# the production cost (about 0.1 s a hash, by design) would make the suite crawl.
# conftest.py swaps it in for the app's own hasher; test_accounts checks the real one.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return FAST_HASHER.hash(PASSWORD)


def make_user(session: Session, *, email: str, timezone: str = "UTC") -> User:
    user = User(email=email, password_hash=_password_hash(), timezone=timezone)
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def make_step(
    session: Session, *, user: User, start: date, dose_mg: float, **extra: Any
) -> DoseStep:
    assert user.id is not None
    step = DoseStep(user_id=user.id, start_date=start, dose_mg=dose_mg, **extra)
    session.add(step)
    session.commit()
    session.refresh(step)
    return step


def make_entry(session: Session, *, user: User, day: date, **answers: Any) -> DiaryEntry:
    assert user.id is not None
    entry = DiaryEntry(user_id=user.id, day=day, **stored_fields(answers))
    session.add(entry)
    session.commit()
    session.refresh(entry)
    return entry
