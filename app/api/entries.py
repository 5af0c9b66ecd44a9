"""Diary entries: PUT/GET/DELETE one day, list a range, save a batch all-or-nothing."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response
from sqlalchemy import Connection

from app.api.errors import field_error
from app.db import DatabaseDep
from app.deps import ApiOwnedEntry, ApiUser
from app.items.patient import Catalogue, catalogue_and_dose, catalogue_for
from app.schemas import (
    BatchItemResult,
    BatchResult,
    EntryAnswers,
    EntryBatch,
    EntryPublic,
    OptionalDay,
)
from app.services import dose_steps, entries

router = APIRouter(prefix="/entries", tags=["entries"])
DiaryDay = Annotated[date, Path(alias="date", description="The diary day, YYYY-MM-DD")]


@router.get("", response_model=list[EntryPublic])
def list_entries(
    user: ApiUser,
    database: DatabaseDep,
    start: Annotated[OptionalDay, Query(description="First day, YYYY-MM-DD")] = None,
    end: Annotated[OptionalDay, Query(description="Last day, inclusive")] = None,
) -> list[EntryPublic]:
    """Entries from `start` to `end`, ordered by date (inclusive; both optional, blank = absent).
    An end before the start is refused (422 naming `end`) rather than answered with nothing."""
    assert user.id is not None
    if start is not None and end is not None and end < start:
        raise field_error(["query", "end"], "The end date is before the start date.")
    with database.read() as session:
        rows = entries.list_entries(session, user_id=user.id, start=start, end=end)
        return entries.entries_public(session, user=user, entries=rows)


@router.post("/batch", response_model=BatchResult)
def save_batch(batch: EntryBatch, user: ApiUser, database: DatabaseDep) -> BatchResult:
    """Save every entry in the list, or none of them (422 naming the entry that was refused;
    each day may come only once; an item key the diary does not know is refused, 422 naming it).
    At most 100 days a batch (422 naming `entries`): send a longer history in several batches,
    or as a backup (POST /api/v1/import).

    `results` says what happened to each entry, in order: `created`, `replaced`, `unchanged`
    (the same answers, or a replay of the same device edit), `superseded` (an edit older than
    the day's current version, which stays; the edit is kept in the day's history) or
    `stays_deleted` (an edit made before the day was deleted; kept in the history only).
    """
    assert user.id is not None
    try:
        with database.write() as session:
            # Read before the save, in its transaction: after the commit they would start
            # another, holding the write lock longer.
            steps = dose_steps.list_steps(session, user_id=user.id)
            catalogue = catalogue_for(session, user=user)
            outcomes = entries.save_batch(
                session, user=user, entries=batch.entries, source="api", catalogue=catalogue
            )
    except entries.DiaryDayRefused as refusal:
        loc: list[str | int] = ["body", "entries", refusal.index or 0, "date"]
        raise field_error(loc, str(refusal)) from None
    except entries.UnknownItem as unknown:
        raise field_error(
            ["body", "entries", unknown.index or 0, *unknown.loc], str(unknown)
        ) from None
    counts = dict.fromkeys(("created", "replaced", "unchanged", "superseded", "stays_deleted"), 0)
    for outcome in outcomes:
        counts[outcome.status] += 1
    return BatchResult(
        **counts,
        results=[
            BatchItemResult(date=item.date, status=outcome.status)
            for item, outcome in zip(batch.entries, outcomes, strict=True)
        ],
        entries=[
            entries.entry_public(
                outcome.entry,
                scheduled_dose_mg=dose_steps.scheduled_dose(steps, outcome.entry.day),
                catalogue=catalogue,
            )
            for outcome in outcomes
            if outcome.entry is not None
        ],
    )


@router.put(
    "/{date}",
    response_model=EntryPublic,
    responses={
        201: {"description": "Created"},
        200: {"description": "Replaced, or unchanged (the same answers, or a replay)"},
        409: {"description": "An older edit: a later change of the day was kept"},
    },
)
async def put_entry(
    day: DiaryDay, answers: EntryAnswers, user: ApiUser, database: DatabaseDep, response: Response
) -> EntryPublic:
    """Create or replace the entry of one diary day.

    Items: `ratings` {item key: 0–100 | null} and `side_effects` {key: 0–3 | null} for any
    item of the diary (GET /api/v1/items); the eight built-in rated keys may also come at the
    top level. An unknown key is refused (422 naming it).

    201: the day was created. 200: it was replaced, or nothing changed (the same answers, or
    a replay of the same `client_id` + `client_edited_at` edit). 409: the edit is older than
    the day's current version, or than the day's deletion (by `client_edited_at`): the later
    change stays, and this edit is kept in the day's revision history; sending it again
    answers 409 again and stores nothing more.
    """
    assert user.id is not None

    def save(connection: Connection) -> tuple[entries.SaveOutcome, float | None, Catalogue]:
        # Read before the save, in its transaction: after the commit it would start another.
        catalogue, dose = catalogue_and_dose(connection, user=user, day=day)
        outcome = entries.write_entry(
            connection, user=user, day=day, answers=answers, source="api", catalogue=catalogue
        )
        return outcome, dose, catalogue

    try:
        # One bounded save (it reads at most REVISIONS_SCANNED kept versions): on the event
        # loop when the write lock is free (see app.db).
        outcome, dose, catalogue = await database.run_write(save)
    except entries.DiaryDayRefused as refusal:
        raise field_error(["path", "date"], str(refusal)) from None
    except entries.UnknownItem as unknown:
        raise field_error(["body", *unknown.loc], str(unknown)) from None
    if outcome.status == "superseded":
        raise HTTPException(
            status_code=409,
            detail="This day has a newer version, which was kept; this edit is in its history.",
        )
    if outcome.status == "stays_deleted" or outcome.entry is None:
        raise HTTPException(
            status_code=409,
            detail="This day was deleted after this edit was made; the edit is in its history.",
        )
    response.status_code = 201 if outcome.status == "created" else 200
    return entries.entry_public(outcome.entry, scheduled_dose_mg=dose, catalogue=catalogue)


@router.get("/{date}", response_model=EntryPublic)
def get_entry(entry: ApiOwnedEntry, user: ApiUser, database: DatabaseDep) -> EntryPublic:
    """One diary day."""
    with database.read() as session:
        catalogue, dose = catalogue_and_dose(session.connection(), user=user, day=entry.day)
    return entries.entry_public(entry, scheduled_dose_mg=dose, catalogue=catalogue)


@router.delete("/{date}", status_code=204)
def delete_entry(entry: ApiOwnedEntry, database: DatabaseDep) -> Response:
    """Remove a day; its last version stays in the revision history."""
    with database.write() as session:
        entries.delete_day(session, user_id=entry.user_id, day=entry.day)
    return Response(status_code=204)
