"""GET /api/v1/comparison: every dose step against baseline (SPEC §4)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from app.analysis import DEFAULT_SETTLE_DAYS
from app.db import DatabaseDep
from app.deps import ApiUser
from app.services.insight import UnknownReference, comparison_for

router = APIRouter(tags=["insight"])
SettleDays = Annotated[
    int,
    Query(ge=0, le=14, description="Days at the start of each step left out as settling-in"),
]


Reference = Annotated[
    int | None,
    Query(
        description=(
            "Compare every step with this dose step instead of the baseline "
            "(3 mg against 4.5 mg, bedtime against morning)"
        )
    ),
]
PrimaryItem = Annotated[
    str | None,
    Query(
        max_length=64,
        description="The item the summary leads with (default pain); best chosen before looking",
    ),
]


@router.get("/comparison")
def comparison(
    user: ApiUser,
    database: DatabaseDep,
    settle_days: SettleDays = DEFAULT_SETTLE_DAYS,
    reference: Reference = None,
    primary_item: PrimaryItem = None,
) -> dict[str, Any]:
    """Per step and item: n, mean, sd, median, last-3 mean, difference and 95% interval.

    SPEC §4.1 adds per item `cautions` ("trend"), `days_to_detect` and `more_days`, per step
    the Holm-corrected `headline` and the number of `comparisons`, and `primary_item`.
    """
    try:
        with database.read() as session:
            result = comparison_for(
                session,
                user=user,
                settle_days=settle_days,
                reference=reference,
                primary_item=primary_item,
            )
    except UnknownReference:
        raise HTTPException(status_code=404, detail="No such dose step to compare with") from None
    return result.to_dict()
