"""Diary entries: PUT/GET/DELETE one day, list a range, save a batch all-or-nothing."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.api.errors import field_error
from app.db import SessionDep
from app.deps import ApiOwnedEntry, ApiUser
from app.schemas import BatchResult, EntryAnswers, EntryBatch, EntryPublic
from app.services import entries
from app.services.dose_steps import list_steps

router = APIRouter(prefix="/entries", tags=["entries"])
DiaryDay = Annotated[date, Path(alias="date", description="The diary day, YYYY-MM-DD")]


@router.get("", response_model=list[EntryPublic])
def list_entries(
    user: ApiUser,
    session: SessionDep,
    start: Annotated[date | None, Query()] = None,
    end: Annotated[date | None, Query()] = None,
) -> list[EntryPublic]:
    """Entries from `start` to `end` (inclusive, both optional), ordered by date."""
    assert user.id is not None
    rows = entries.list_entries(session, user_id=user.id, start=start, end=end)
    return entries.entries_public(session, user_id=user.id, entries=rows)


@router.post("/batch", response_model=BatchResult)
def save_batch(batch: EntryBatch, user: ApiUser, session: SessionDep) -> BatchResult:
    """Save every entry in the list, or none of them."""
    assert user.id is not None
    try:
        outcomes = entries.save_batch(session, user=user, entries=batch.entries, source="api")
    except entries.DiaryDayRefused as refusal:
        loc: list[str | int] = ["body", "entries", refusal.index or 0, "date"]
        raise field_error(loc, str(refusal)) from None
    steps = list_steps(session, user_id=user.id)
    counts = {"created": 0, "replaced": 0, "unchanged": 0}
    for outcome in outcomes:
        key = outcome.status if outcome.status != "kept_newer" else "unchanged"
        counts[key] += 1
    return BatchResult(
        **counts,
        entries=[entries.entry_public(outcome.entry, steps=steps) for outcome in outcomes],
    )


@router.put(
    "/{date}",
    response_model=EntryPublic,
    responses={201: {"description": "Created"}, 200: {"description": "Replaced"}},
)
def put_entry(
    day: DiaryDay, answers: EntryAnswers, user: ApiUser, session: SessionDep, response: Response
) -> EntryPublic:
    """Create or replace the entry of one diary day (201 created, 200 replaced)."""
    assert user.id is not None
    try:
        outcome = entries.save_entry(session, user=user, day=day, answers=answers, source="api")
    except entries.DiaryDayRefused as refusal:
        raise field_error(["path", "date"], str(refusal)) from None
    response.status_code = 201 if outcome.status == "created" else 200
    return entries.entry_public(outcome.entry, steps=list_steps(session, user_id=user.id))


@router.get("/{date}", response_model=EntryPublic)
def get_entry(entry: ApiOwnedEntry, session: SessionDep) -> EntryPublic:
    """One diary day."""
    return entries.entry_public(entry, steps=list_steps(session, user_id=entry.user_id))


@router.delete("/{date}", status_code=204)
def delete_entry(entry: ApiOwnedEntry, session: SessionDep) -> Response:
    """Remove a day; its last version stays in the revision history."""
    entries.delete_entry(session, entry=entry)
    return Response(status_code=204)
