"""GET /api/v1/entries/{date}/revisions: the earlier versions of one diary day."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from app.db import DatabaseDep
from app.deps import ApiUser
from app.schemas import RevisionPublic
from app.services import entries, revisions

router = APIRouter(prefix="/entries", tags=["entries"])


@router.get("/{date}/revisions", response_model=list[RevisionPublic])
def list_revisions(
    day: Annotated[date, Path(alias="date", description="The diary day, YYYY-MM-DD")],
    user: ApiUser,
    database: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many")] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Skip the newest")] = 0,
) -> list[RevisionPublic]:
    """Earlier versions of the day, newest first, a page at a time (`limit`, `offset`);
    404 when the patient never had that day."""
    assert user.id is not None
    with database.read() as session:
        if not revisions.has_history(session, user_id=user.id, day=day):
            raise HTTPException(status_code=404, detail="No entry for that day")
        kept = entries.list_revisions(session, user_id=user.id, day=day, limit=limit, offset=offset)
    return [
        RevisionPublic(
            id=revision.id or 0,
            date=revision.day,
            data=revision.data,
            source=revision.source,
            saved_at=revisions.as_utc(revision.saved_at),
            replaced_at=revisions.as_utc(revision.replaced_at),
            reason=revision.reason,
        )
        for revision in kept
    ]
