"""GET /api/v1/comparison: every dose step against baseline (SPEC §4)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.analysis import DEFAULT_SETTLE_DAYS
from app.db import DatabaseDep
from app.deps import ApiUser
from app.services.insight import comparison_for

router = APIRouter(tags=["insight"])
SettleDays = Annotated[
    int,
    Query(ge=0, le=14, description="Days at the start of each step left out as settling-in"),
]


@router.get("/comparison")
def comparison(
    user: ApiUser, database: DatabaseDep, settle_days: SettleDays = DEFAULT_SETTLE_DAYS
) -> dict[str, Any]:
    """Per step and item: n, mean, sd, median, last-3 mean, difference and 95% interval."""
    with database.read() as session:
        return comparison_for(session, user=user, settle_days=settle_days).to_dict()
