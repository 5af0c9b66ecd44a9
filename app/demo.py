"""`make demo`: a demo account with four months of plausible diary, to look around the app.

python -m app.demo     (re)creates demo@example.org in the configured database and prints
                       how to sign in. Run `alembic upgrade head` first (`make demo` does).

The diary: three weeks of baseline, then 1.5, 3 and 4.5 mg at bedtime, ending today; symptoms
that ease slowly with day-to-day noise, vivid dreams and some trouble sleeping in the first days
of each step, a few missed doses and days, the two-week check-in, and a few notes.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, select

from app.config import get_settings
from app.db import make_engine
from app.models import User
from app.schemas import DoseStepCreate, EntryAnswers
from app.services import accounts, dose_steps, entries

EMAIL = "demo@example.org"
# Printed for anyone to use: a demo account is never made in production (see main).
PASSWORD = "demo diary passphrase"  # noqa: S105
DAYS = 120
# (first day, dose in mg): a baseline, then three steps up.
SCHEDULE: tuple[tuple[int, float], ...] = ((0, 0.0), (21, 1.5), (49, 3.0), (77, 4.5))
# Each item's level (0–100) in the baseline and at each dose: it eases slowly, as on LDN.
LEVELS: dict[str, tuple[float, ...]] = {
    "pain": (62, 59, 51, 43),
    "fatigue": (67, 64, 57, 51),
    "sleep_quality": (38, 38, 47, 54),
    "overall": (64, 60, 53, 46),
    "mood": (44, 46, 52, 57),
    "stress": (57, 55, 52, 50),
    "life_satisfaction": (40, 42, 47, 52),
    "dream_vividness": (22, 58, 48, 44),
}
NOTES = (
    "Flare after a long day out.",
    "Very vivid dreams again.",
    "Busy week at work, little rest.",
    "Cold coming on.",
    "Good day: walked to the park.",
)


def _step_index(offset: int) -> int:
    return max(index for index, (first, _) in enumerate(SCHEDULE) if first <= offset)


def _answers(offset: int, noise: dict[str, float], rng: random.Random) -> dict[str, Any]:
    step = _step_index(offset)
    on_ldn = step > 0
    days_on_step = offset - SCHEDULE[step][0]
    answers: dict[str, Any] = {}
    for key, levels in LEVELS.items():
        noise[key] = 0.5 * noise[key] + rng.gauss(0, 7)
        answers[key] = max(0, min(100, round(levels[step] + noise[key])))
    if rng.random() < 0.1:
        answers["dream_vividness"] = None  # not every item every day
    settling = on_ldn and days_on_step < 10
    answers["side_effects"] = {
        "nightmares": rng.choice((0, 1, 1, 2)) if settling and rng.random() < 0.5 else 0,
        "insomnia": rng.choice((1, 2)) if settling and step == 1 and rng.random() < 0.4 else 0,
        "headache": 1 if rng.random() < 0.06 else 0,
        "nausea": 1 if step == 3 and days_on_step < 4 and rng.random() < 0.5 else 0,
        "dizziness": 0,
        "anxiety": 1 if rng.random() < 0.03 else 0,
        "other": 0,
    }
    if settling and answers["side_effects"]["insomnia"]:
        answers["sleep_quality"] = max(0, answers["sleep_quality"] - 12)
    if on_ldn:
        answers["dose_taken"] = rng.random() < 0.94
        if answers["dose_taken"] and rng.random() < 0.5:
            answers["dose_time"] = "22:30"
        if days_on_step % 14 == 0:
            answers["tolerability"] = round(rng.uniform(72, 92))
            answers["pgic"] = 4 if step == 1 else 3 if step == 2 else 2
    if rng.random() < 0.06:
        answers["notes"] = rng.choice(NOTES)
    return answers


def create_demo(session: Session, *, today: date, seed: int = 2013) -> User:
    """The demo account with its diary ending `today`; an earlier demo account is replaced."""
    existing = session.exec(select(User).where(User.email == EMAIL)).first()
    if existing is not None:
        accounts.delete_account(session, user=existing)
    password_hash = accounts.registration_hash(email=EMAIL, password=PASSWORD)
    user = accounts.register(session, email=EMAIL, password_hash=password_hash)
    assert user.id is not None
    rng = random.Random(seed)  # noqa: S311 (a plausible diary, not a secret)
    start = today - timedelta(days=DAYS - 1)
    for first, dose in SCHEDULE:
        data = DoseStepCreate(
            start_date=start + timedelta(days=first),
            dose_mg=dose,
            dosing_time="bedtime" if dose else None,
        )
        dose_steps.add_step(session, user_id=user.id, data=data)
    noise = dict.fromkeys(LEVELS, 0.0)
    for offset in range(DAYS):
        answers = _answers(offset, noise, rng)
        if offset < DAYS - 1 and rng.random() < 0.07:
            continue  # a day not logged
        day = start + timedelta(days=offset)
        saved = entries.save_entry(
            session,
            user=user,
            day=day,
            answers=EntryAnswers.model_validate(answers),
            source="web",
            commit=False,
        )
        assert saved.entry is not None
        # Logged in the evening of the day, as a patient does; now and then a day later.
        late = rng.random() < 0.04
        written = datetime.combine(day + timedelta(days=2 if late else 0), time(21, 15), UTC)
        saved.entry.created_at = saved.entry.updated_at = written
        saved.entry.retrospective = late
        session.add(saved.entry)  # the saved day comes back detached: these go in as an UPDATE
    session.commit()
    return user


def main() -> None:
    settings = get_settings()
    if settings.environment == "production":
        raise SystemExit("No demo account in production: its password is printed for anyone.")
    engine = make_engine(settings)
    with Session(engine) as session:
        user = create_demo(session, today=datetime.now(UTC).date())
        logged = len(entries.list_entries(session, user_id=user.id or 0))
    engine.dispose()
    print(f"Demo account ready: {logged} days of diary over {DAYS} days, four dose steps.")
    print(f"Sign in with  email: {EMAIL}   password: {PASSWORD}")
    print("(make run serves the app on http://127.0.0.1:8000)")


if __name__ == "__main__":
    main()
