"""/shared/{token}: the summary a doctor opens from a share link, without an account.

Shows the summary and its PDF and nothing else: no navigation, no scripts, no links into the
app. Unknown or revoked → 404, expired → 410, every opening logged for the patient. A client
that keeps sending unknown tokens gets 429 for a while (see share_links.GuessLimiter).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.db import Database, DatabaseDep
from app.models import User
from app.pdf import pdf_response, summary_document, summary_pdf
from app.services import report, share_links
from app.web.templating import STATIC_VERSION, templates

router = APIRouter(prefix="/shared")
# Nothing of a shared summary is kept by caches or shown by search engines.
SHARED_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
UNAVAILABLE = {
    404: (
        "This link does not work",
        "It may have been stopped by the patient, or mistyped. Ask the patient for a new link.",
    ),
    410: ("This link has expired", "Ask the patient for a new link to their diary summary."),
    429: (
        "Too many wrong links",
        "Too many links that do not exist were tried from this network. Try again later.",
    ),
}


def guess_limiter(request: Request) -> share_links.GuessLimiter:
    """The process's limiter for unknown tokens, made on first use."""
    state = request.app.state
    limiter = getattr(state, "share_link_guesses", None)
    if limiter is None:
        limiter = state.share_link_guesses = share_links.GuessLimiter()
    return limiter


def _unavailable(status_code: int, retry_after: int | None = None) -> Response:
    title, message = UNAVAILABLE[status_code]
    html = templates.env.get_template("report/shared_unavailable.html").render(
        title=title, message=message, static_version=STATIC_VERSION
    )
    headers = dict(SHARED_HEADERS)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return HTMLResponse(html, status_code=status_code, headers=headers)


def _open(
    request: Request, database: Database, token: str, *, what: share_links.Opened
) -> report.ReportData | Response:
    """The summary behind a working link, its opening logged; else the page saying why not.

    The token is looked up reading only (a stream of made-up tokens never touches the write
    lock); only an opening of a working link is written down, in its own short write."""
    limiter = guess_limiter(request)
    client = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(client)
    if wait is not None:
        return _unavailable(429, retry_after=wait)
    with database.read() as session:
        link = share_links.find_by_token(session, token=token)
        owner = session.get(User, link.user_id) if link is not None else None
    if link is None:
        limiter.miss(client)
        return _unavailable(404)
    state = share_links.status(link)
    if state != "active":
        return _unavailable(404 if state == "revoked" else 410)
    if owner is None:  # pragma: no cover - the link goes with the account (ON DELETE CASCADE)
        return _unavailable(404)
    with database.write() as session:
        share_links.record_opening(
            session, link=link, what=what, user_agent=request.headers.get("user-agent")
        )
    with database.read() as session:
        return report.build_report(session, user=owner, options=share_links.link_options(link))


@router.get("/{token}", response_class=HTMLResponse)
def shared_summary(request: Request, database: DatabaseDep, token: str) -> Response:
    summary = _open(request, database, token, what="html")
    if isinstance(summary, Response):
        return summary
    html = summary_document(summary, pdf_href=f"/shared/{token}/report.pdf")
    return HTMLResponse(html, headers=SHARED_HEADERS)


@router.get("/{token}/report.pdf")
def shared_pdf(request: Request, database: DatabaseDep, token: str) -> Response:
    summary = _open(request, database, token, what="pdf")
    if isinstance(summary, Response):
        return summary
    response = pdf_response(summary_pdf(summary), summary.filename, attachment=False)
    response.headers["X-Robots-Tag"] = SHARED_HEADERS["X-Robots-Tag"]
    return response
