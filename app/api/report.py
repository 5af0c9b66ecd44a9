"""GET /api/v1/report.pdf: the doctor's summary as PDF (SPEC §6)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from sqlmodel import Session

from app.db import DatabaseDep
from app.deps import ApiUser
from app.models import User
from app.pdf import pdf_response, summary_pdf
from app.schemas import OptionalDay
from app.services import report
from app.services.entries import patient_today

router = APIRouter(tags=["doctor summary"])
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The summary as PDF"}
}


def checked_options(
    session: Session,
    user: User,
    *,
    start: date | None,
    end: date | None,
    initials: str | None,
    questions: str | None,
    location: str,
) -> report.ReportOptions:
    """The summary's options, blanks filled with the default range; 422 naming each bad field."""
    default_start, default_end = report.default_range(session, user=user)
    start = start or default_start
    end = end or default_end
    initials = (initials or "").strip() or None
    questions = (questions or "").strip() or None
    problems = report.range_problems(
        start=start, end=end, initials=initials, questions=questions, today=patient_today(user)
    )
    if problems:
        raise HTTPException(
            status_code=422,
            detail=[
                {"loc": [location, name], "msg": message, "type": "value_error"}
                for name, message in problems.items()
            ],
        )
    return report.ReportOptions(start=start, end=end, initials=initials, questions=questions)


@router.get("/report.pdf", response_class=Response, responses=PDF_RESPONSE)
def report_pdf(
    user: ApiUser,
    database: DatabaseDep,
    start: Annotated[OptionalDay, Query(description="First day (default: first entry)")] = None,
    end: Annotated[OptionalDay, Query(description="Last day, inclusive (default: today)")] = None,
    initials: Annotated[str | None, Query(description="Printed at the top")] = None,
    questions: Annotated[str | None, Query(description="Printed at the end")] = None,
) -> Response:
    """The one- or two-page summary for a range of at most 366 days."""
    with database.read() as session:
        options = checked_options(
            session,
            user,
            start=start,
            end=end,
            initials=initials,
            questions=questions,
            location="query",
        )
        summary = report.build_report(session, user=user, options=options)
    return pdf_response(summary_pdf(summary), summary.filename, attachment=True)
