"""Jinja2 set-up and one `render` helper: a full page, or one named block of it for htmx."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.items import ITEMS_BY_KEY, PGIC_LABELS, RATED_ITEMS, SEVERITY_LABELS, SIDE_EFFECTS
from app.security import csrf_token
from app.services.dose_steps import format_day, format_mg

ROOT = Path(__file__).resolve().parent.parent.parent
templates = Jinja2Templates(directory=ROOT / "templates")


def _static_version() -> str:
    """A short hash of the app's own static files: it changes whenever one of them does.

    Page links carry it (`app.css?v=…`) and the service worker's cache name is built from it,
    so a release reaches installed apps on their next visit without anyone clearing a cache.
    Read once when the app module loads: a dozen small files.
    """
    digest = hashlib.sha256()
    for path in sorted((ROOT / "static").rglob("*")):
        if path.is_file() and "vendor" not in path.parts:
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


STATIC_VERSION = _static_version()


def _weekday_day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


templates.env.globals.update(
    RATED_ITEMS=RATED_ITEMS,
    ITEMS_BY_KEY=ITEMS_BY_KEY,
    SIDE_EFFECTS=SIDE_EFFECTS,
    SEVERITY_LABELS=SEVERITY_LABELS,
    PGIC_LABELS=PGIC_LABELS,
)
templates.env.filters.update(day=format_day, mg=format_mg, weekday_day=_weekday_day)


def is_htmx(request: Request) -> bool:
    """An htmx request that wants a fragment (a boosted request, and the page htmx fetches
    again for the back button, want the whole page)."""
    return (
        request.headers.get("hx-request") == "true"
        and not request.headers.get("hx-boosted")
        and not request.headers.get("hx-history-restore-request")
    )


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render `name`; for an htmx request and a named `block`, only that block."""
    values = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "csrf_token": csrf_token(request),
        "static_version": STATIC_VERSION,
        **(context or {}),
    }
    headers = {"Vary": "HX-Request", "Cache-Control": "no-store"}
    if block is not None and is_htmx(request):
        template = templates.env.get_template(name)
        html = "".join(template.blocks[block](template.new_context(values)))
        return HTMLResponse(html, status_code=status_code, headers=headers)
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    response.headers.update(headers)
    return response
