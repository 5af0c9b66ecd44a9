"""A month of the diary as a calendar (the history page): what a tired patient reads at a glance.

Each day says whether it was logged, one chosen item's level (shaded by how bad it is, so the
shading means the same for items where higher is better and where lower is better), a missed
dose and any side effect.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from app.items import Item
from app.models import DiaryEntry
from app.services.dose_steps import list_steps, step_in_force
from app.services.entries import list_entries

# Five shades, from "as good as it gets" to "as bad as it gets" on the chosen item.
LEVELS = 5


@dataclass(frozen=True)
class CalendarDay:
    day: date
    logged: bool
    value: int | None  # the chosen item, 0–100; None when not answered or not logged
    level: int | None  # 0 (best) … LEVELS - 1 (worst); by size for an item with no better side
    dose_missed: bool
    side_effects: tuple[str, ...]  # the side effects rated mild or more, in words
    dose_mg: float | None  # the dose step in force
    retrospective: bool
    answered: int  # how many of the items were answered
    future: bool  # after the patient's today: nothing to fill in yet


@dataclass(frozen=True)
class MonthCalendar:
    first: date
    weeks: list[list[CalendarDay | None]]  # Monday first; None pads days of other months
    days: list[CalendarDay]  # the month's days up to today, newest first
    logged: int


def level(item: Item, value: int | None) -> int | None:
    """How bad `value` is for this item, from 0 to LEVELS - 1 (by size when neither is better)."""
    if value is None:
        return None
    badness = 100 - value if item.better == "higher" else value
    return min(badness * LEVELS // 101, LEVELS - 1)


def _day(
    current: date,
    entry: DiaryEntry | None,
    item: Item | None,
    dose_mg: float | None,
    rated_keys: tuple[str, ...],
    side_effects: tuple[Item, ...],
    today: date,
) -> CalendarDay:
    ratings = entry.ratings if entry is not None else {}
    severities = entry.side_effects if entry is not None else {}
    value = ratings.get(item.key) if item is not None else None
    return CalendarDay(
        day=current,
        logged=entry is not None,
        value=value,
        level=level(item, value) if item is not None else None,
        dose_missed=entry is not None and entry.dose_taken is False,
        side_effects=tuple(
            effect.label for effect in side_effects if (severities.get(effect.key) or 0) > 0
        ),
        dose_mg=dose_mg,
        retrospective=bool(entry and entry.retrospective),
        answered=sum(ratings.get(key) is not None for key in rated_keys),
        future=current > today,
    )


def month_calendar(
    session: Session,
    *,
    user_id: int,
    first: date,
    today: date,
    item: Item | None,
    rated_keys: tuple[str, ...],
    side_effects: tuple[Item, ...],
) -> MonthCalendar:
    """The month starting on `first`, as weeks of days, with `item` as each day's level."""
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    by_day = {e.day: e for e in list_entries(session, user_id=user_id, start=first, end=last)}
    steps = list_steps(session, user_id=user_id)
    month: list[CalendarDay] = []
    for offset in range((last - first).days + 1):
        current = first + timedelta(days=offset)
        step = step_in_force(steps, current)
        dose = step.dose_mg if step is not None else None
        month.append(
            _day(current, by_day.get(current), item, dose, rated_keys, side_effects, today)
        )
    weeks: list[list[CalendarDay | None]] = []
    week: list[CalendarDay | None] = [None] * first.weekday()
    for day in month:
        week.append(day)
        if len(week) == 7:
            weeks.append(week)
            week = []
    if week:
        weeks.append(week + [None] * (7 - len(week)))
    past = [day for day in month if not day.future]
    return MonthCalendar(
        first=first,
        weeks=weeks,
        days=list(reversed(past)),
        logged=sum(day.logged for day in past),
    )
