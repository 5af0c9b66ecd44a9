"""The installable, offline-first side: manifest, service worker, offline page, outbox sync."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import ValidationError

from app.db import DatabaseDep
from app.deps import optional_web_user
from app.models import User
from app.responses import JSONResponse
from app.schemas import DatedEntryAnswers
from app.services import entries
from app.web.templating import ROOT, STATIC_VERSION, render

router = APIRouter()
STATIC = ROOT / "static"


@router.get("/manifest.webmanifest")
def manifest() -> FileResponse:
    return FileResponse(
        STATIC / "manifest.webmanifest",
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/sw.js")
def service_worker() -> Response:
    """The worker lives at the root so its scope is the whole app; always revalidated."""
    script = (STATIC / "sw.js").read_text().replace("__STATIC_VERSION__", STATIC_VERSION)
    return Response(
        script,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@router.get("/offline", response_class=HTMLResponse)
def offline_page(request: Request) -> Response:
    return render(request, "pwa/offline.html")


@router.post("/sync")
def sync_outbox(
    database: DatabaseDep,
    user: Annotated[User | None, Depends(optional_web_user)],
    payload: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """Days saved offline on a device, each applied once (replays change nothing).

    Each day is saved on its own: one the server refuses is reported back with its errors
    and stays on the device, and never holds back the other days. Answers 200 with one result
    per day, in order, whose `status` is `created`, `replaced`, `unchanged` (the same answers,
    or a replay of the same device edit), `superseded` (an edit older than the day's current
    version, which stays; the edit is kept in the day's history), `stays_deleted` (an edit
    made before the day was deleted; kept in the history only) or `rejected` (with `errors`).
    Every status but `rejected` means the device can drop the day. 401 when not signed in,
    409 for days of another account, 422 for a body that is not `{"entries": [...]}`.
    """
    if user is None:
        return JSONResponse({"detail": "Sign in again to sync"}, status_code=401)
    if payload.get("account") is not None and str(payload["account"]) != str(user.id):
        # Days saved on this device under another account never land in this one.
        return JSONResponse({"detail": "These days belong to another account"}, status_code=409)
    raw_entries = payload.get("entries")
    if not isinstance(raw_entries, list) or len(raw_entries) > 1000:
        return JSONResponse({"detail": "Send {'entries': [...]}"}, status_code=422)
    results = []
    for raw in raw_entries:
        result: dict[str, Any] = {
            "date": raw.get("date") if isinstance(raw, dict) else None,
            "client_edited_at": raw.get("client_edited_at") if isinstance(raw, dict) else None,
        }
        try:
            item = DatedEntryAnswers.model_validate(raw)
            # One short write per day: a long outbox never holds up other patients' saves.
            with database.write() as session:
                outcome = entries.save_entry(
                    session, user=user, day=item.date, answers=item, source="sync"
                )
        except ValidationError as invalid:
            result.update(status="rejected", errors=_plain_errors(invalid))
        except entries.DiaryDayRefused as refusal:
            result.update(status="rejected", errors={"date": str(refusal)})
        except entries.UnknownItem as unknown:  # e.g. an own item deleted meanwhile
            session.rollback()
            result.update(status="rejected", errors={".".join(unknown.loc): str(unknown)})
        else:
            result["status"] = outcome.status
        results.append(result)
    return JSONResponse({"results": results})


def _plain_errors(invalid: ValidationError) -> dict[str, str]:
    return {
        ".".join(str(part) for part in error["loc"]) or "entry": error["msg"]
        for error in invalid.errors()
    }
