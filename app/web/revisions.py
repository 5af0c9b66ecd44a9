"""A day's history on its page, and POST /entries/{date}/revisions/{id}/restore."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.db import DatabaseDep
from app.deps import RowId, WebUser
from app.items import PGIC_LABELS, SEVERITY_LABELS
from app.items.patient import Catalogue, catalogue_for
from app.models import EntryRevision, User
from app.services import entries, revisions
from app.services.dose_steps import format_day, format_mg

router = APIRouter()


@dataclass(frozen=True)
class HistoryRow:
    """One earlier version of a day, as the day page lists it."""

    id: int
    saved: str  # when that version was saved, on the patient's clock
    replaced: str
    source: str  # "saved on the web", "from the app", …
    reason: str
    answers: list[tuple[str, str]]


def _clock(moment: Any, zone: ZoneInfo) -> str:
    local = revisions.as_utc(moment).astimezone(zone)
    return f"{format_day(local.date())}, {local:%H:%M}"


def _answer_lines(data: dict[str, Any], catalogue: Catalogue) -> list[tuple[str, str]]:
    ratings, side_effects = entries.snapshot_values(data)
    lines = [
        (item.label, str(ratings[item.key])) for item in catalogue.rated() if item.key in ratings
    ]
    for effect in catalogue.side_effects():
        level = side_effects.get(effect.key)
        if isinstance(level, int) and 0 <= level < len(SEVERITY_LABELS):
            lines.append((effect.label, SEVERITY_LABELS[level]))
    if data.get("other_text"):
        lines.append(("Something else", str(data["other_text"])))
    if data.get("dose_taken") is not None:
        lines.append(("LDN taken", "yes" if data["dose_taken"] else "no"))
    if data.get("dose_time"):
        lines.append(("At", str(data["dose_time"])))
    if isinstance(data.get("dose_mg"), int | float):
        lines.append(("Dose taken", format_mg(float(data["dose_mg"]))))
    if data.get("tolerability") is not None:
        lines.append(("Tolerability", str(data["tolerability"])))
    if data.get("pgic") in PGIC_LABELS:
        lines.append(("Change since starting", PGIC_LABELS[data["pgic"]]))
    if data.get("notes"):
        lines.append(("Notes", str(data["notes"])))
    return lines


def _row(revision: EntryRevision, zone: ZoneInfo, catalogue: Catalogue) -> HistoryRow:
    assert revision.id is not None
    return HistoryRow(
        id=revision.id,
        saved=_clock(revision.saved_at, zone),
        replaced=_clock(revision.replaced_at, zone),
        source=revisions.SOURCE_WORDS.get(revision.source, revision.source),
        reason=revisions.REASON_WORDS.get(revision.reason, revision.reason),
        answers=_answer_lines(revision.data, catalogue),
    )


# Versions shown on a day's page at a time; a day edited thousands of times pages through them.
HISTORY_PAGE_SIZE = 10
MAX_HISTORY_PAGE = 10_000


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    page: int
    has_older: bool


def day_history(session: Session, user: User, day: date, *, page: int = 1) -> HistoryPage:
    """A page of the day's earlier versions, newest first, in the patient's words and time
    zone."""
    assert user.id is not None
    page = min(max(page, 1), MAX_HISTORY_PAGE)
    zone = ZoneInfo(user.timezone)
    kept = entries.list_revisions(
        session,
        user_id=user.id,
        day=day,
        limit=HISTORY_PAGE_SIZE + 1,
        offset=(page - 1) * HISTORY_PAGE_SIZE,
    )
    catalogue = catalogue_for(session, user=user)
    rows = [_row(revision, zone, catalogue) for revision in kept[:HISTORY_PAGE_SIZE]]
    return HistoryPage(rows=rows, page=page, has_older=len(kept) > HISTORY_PAGE_SIZE)


@router.post("/entries/{day}/revisions/{revision_id}/restore")
def restore(day: str, revision_id: RowId, database: DatabaseDep, user: WebUser) -> Response:
    """Make an earlier version current again; the version it replaces joins the history."""
    assert user.id is not None
    try:
        diary_day = date.fromisoformat(day)
    except ValueError:
        raise HTTPException(status_code=404, detail="There is no such day.") from None
    with database.write() as session:
        revision = revisions.get_revision(
            session, user_id=user.id, day=diary_day, revision_id=revision_id
        )
        if revision is None:
            raise HTTPException(status_code=404, detail="No such version of this day.")
        try:
            revisions.restore_revision(session, user=user, revision=revision)
        except (revisions.RevisionUnusable, entries.DiaryDayRefused) as problem:
            raise HTTPException(status_code=409, detail=str(problem)) from None
    return RedirectResponse(f"/entries/{diary_day.isoformat()}?restored=1", status_code=303)
