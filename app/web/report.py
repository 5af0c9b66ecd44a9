"""/report: the doctor's summary — pick a range, preview it, download the PDF, share a link."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.db import DatabaseDep, fresh
from app.deps import WebOwnedShareLink, WebUser
from app.models import User
from app.pdf import pdf_response, summary_pdf
from app.security import is_https
from app.services import report, share_links
from app.services.dose_steps import format_day
from app.services.entries import patient_today
from app.web import form_numbers
from app.web.templating import render

router = APIRouter()
# The new link's token, kept for the one page view after "Create" (it is never stored).
NEW_LINK_COOKIE = "ldn_new_share_link"
NEW_LINK_COOKIE_PATH = "/report"


@dataclass
class ReportForm:
    """The report page's fields as typed, what they mean, and what is wrong with them."""

    values: dict[str, str]
    options: report.ReportOptions | None
    errors: dict[str, str] = field(default_factory=dict)

    def query(self) -> str:
        """The fields as a query string, for the PDF link and the page after a POST."""
        return urlencode({key: value for key, value in self.values.items() if value})


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def read_form(
    session: Session,
    user: User,
    *,
    start: str | None,
    end: str | None,
    initials: str | None,
    questions: str | None,
) -> ReportForm:
    """Check the fields; blanks take the default range (since the first entry, at most a year)."""
    default_start, default_end = report.default_range(session, user=user)
    values = {
        "start": (start or "").strip() or default_start.isoformat(),
        "end": (end or "").strip() or default_end.isoformat(),
        "initials": (initials or "").strip(),
        "questions": (questions or "").strip(),
    }
    errors: dict[str, str] = {}
    days: dict[str, date] = {}
    for key in ("start", "end"):
        parsed = _parse_day(values[key])
        if parsed is None:
            errors[key] = "Enter a date, for example 2026-03-05."
        else:
            days[key] = parsed
    if errors:
        return ReportForm(values, None, errors)
    errors = report.range_problems(
        start=days["start"],
        end=days["end"],
        initials=values["initials"],
        questions=values["questions"],
        today=patient_today(user),
    )
    if errors:
        return ReportForm(values, None, errors)
    options = report.ReportOptions(
        start=days["start"],
        end=days["end"],
        initials=values["initials"] or None,
        questions=values["questions"] or None,
    )
    return ReportForm(values, options)


def _query_form(
    database: DatabaseDep,
    user: WebUser,
    start: str | None = None,
    end: str | None = None,
    initials: str | None = None,
    questions: str | None = None,
) -> ReportForm:
    """The fields from the query string: the page and its PDF link read them alike."""
    with database.read() as session:
        return read_form(
            session, user, start=start, end=end, initials=initials, questions=questions
        )


QueryForm = Annotated[ReportForm, Depends(_query_form)]


@dataclass(frozen=True)
class LinkRow:
    """A share link as the patient sees it in the list."""

    id: int
    status: str
    covers: str
    created: str
    expires: str
    revoked: str | None
    openings: list[tuple[str, str, str]]


def _local(moment: datetime, user: User) -> str:
    local = moment.astimezone(ZoneInfo(user.timezone))
    return f"{format_day(local.date())}, {local:%H:%M}"


# Marks in a User-Agent header, most specific first (Edge and Opera also say Chrome, Chrome
# also says Safari); only to tell the patient which browser opened a link.
_BROWSERS = (
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "an iPhone"),
    ("iPad", "an iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "a Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_browser(user_agent: str | None) -> str:
    """The browser as a patient would name it ("Chrome on Android"), from a User-Agent header."""
    if not user_agent:
        return "unknown browser"
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"a browser on {system}" if system else "a program, not a web browser")


def _link_rows(session: Session, user: User) -> list[LinkRow]:
    assert user.id is not None
    links = share_links.list_links(session, user_id=user.id)
    opened = share_links.openings(session, links=links)
    return [
        LinkRow(
            id=link.id or 0,
            status=share_links.status(link),
            covers=f"{format_day(link.start_date)} to {format_day(link.end_date)}",
            created=_local(link.created_at, user),
            expires=_local(link.expires_at, user),
            revoked=_local(link.revoked_at, user) if link.revoked_at else None,
            openings=[
                (
                    _local(opening.opened_at, user),
                    "the PDF" if opening.what == "pdf" else "the summary page",
                    describe_browser(opening.user_agent),
                )
                for opening in opened.get(link.id or 0, [])
            ],
        )
        for link in links
    ]


def _page(
    request: Request,
    session: Session,
    user: User,
    form: ReportForm,
    *,
    share_values: dict[str, str] | None = None,
    share_errors: dict[str, str] | None = None,
    new_link_url: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    summary = None
    if form.options is not None:
        summary = report.build_report(session, user=user, options=form.options)
    if form.errors:
        status_code = 422
    return render(
        request,
        "report/page.html",
        {
            "form": form,
            "values": form.values,
            "errors": form.errors,
            "report": summary,
            "query": form.query(),
            "links": _link_rows(session, user),
            "share_values": share_values or {"expires_in_days": "14"},
            "share_errors": share_errors or {},
            "new_link_url": new_link_url,
            "max_expiry": share_links.MAX_EXPIRES_IN_DAYS,
            "limits": {"initials": report.INITIALS_MAX, "questions": report.QUESTIONS_MAX},
        },
        status_code=status_code,
    )


def _new_link_url(request: Request, session: Session, user: User) -> str | None:
    token = request.cookies.get(NEW_LINK_COOKIE)
    if not token:
        return None
    link = share_links.find_by_token(session, token=token)
    if link is None or link.user_id != user.id or share_links.status(link) != "active":
        return None
    return share_links.share_url(str(request.base_url), token)


@router.get("/report", response_class=HTMLResponse)
def report_page(
    request: Request, database: DatabaseDep, user: WebUser, form: QueryForm
) -> Response:
    with database.read() as session:
        new_link_url = _new_link_url(request, session, user)
        response = _page(request, session, user, form, new_link_url=new_link_url)
    if request.cookies.get(NEW_LINK_COOKIE):
        response.delete_cookie(
            NEW_LINK_COOKIE, path=NEW_LINK_COOKIE_PATH, httponly=True, samesite="strict"
        )
    return response


@router.get("/report.pdf")
def report_pdf(request: Request, database: DatabaseDep, user: WebUser, form: QueryForm) -> Response:
    with database.read() as session:
        if form.options is None:
            return _page(request, session, user, form)
        summary = report.build_report(session, user=user, options=form.options)
    return pdf_response(summary_pdf(summary), summary.filename, attachment=True)


@router.post("/report/share-links")
def create_share_link(
    request: Request,
    database: DatabaseDep,
    user: WebUser,
    expires_in_days: Annotated[str, Form(max_length=10)] = "",
    start: Annotated[str, Form(max_length=20)] = "",
    end: Annotated[str, Form(max_length=20)] = "",
    initials: Annotated[str, Form(max_length=200)] = "",
    questions: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    assert user.id is not None
    with database.read() as session:
        form = read_form(
            session, user, start=start, end=end, initials=initials, questions=questions
        )
    days = form_numbers.count(expires_in_days.strip())
    share_errors = {}
    if days is None or not 1 <= days <= share_links.MAX_EXPIRES_IN_DAYS:
        share_errors["expires_in_days"] = (
            f"Choose how many days the link works: 1 to {share_links.MAX_EXPIRES_IN_DAYS}."
        )
    if form.options is None or days is None or share_errors:
        with database.read() as session:
            return _page(
                request,
                session,
                user,
                form,
                share_values={"expires_in_days": expires_in_days},
                share_errors=share_errors,
                status_code=422,
            )
    with database.write() as session:
        _, token = share_links.new_link(
            session, user_id=user.id, options=form.options, expires_in_days=days
        )
    response = RedirectResponse(f"/report?{form.query()}#share-heading", status_code=303)
    response.set_cookie(
        NEW_LINK_COOKIE,
        token,
        max_age=300,
        path=NEW_LINK_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request.scope),
    )
    return response


@router.post("/report/share-links/{link_id}/revoke")
def revoke_share_link(database: DatabaseDep, link: WebOwnedShareLink) -> Response:
    with database.write() as session:
        share_links.revoke(session, link=fresh(session, link))
    return RedirectResponse("/report#share-heading", status_code=303)
