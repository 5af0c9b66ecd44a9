"""The app's JSON response, and the downloads of the patient's diary that the pages and the
API both offer (the backup, CSV and FHIR: built by app.services.backup and app.services.fhir)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import responses

if TYPE_CHECKING:
    from app.db import Database
    from app.models import User


class JSONResponse(responses.JSONResponse):
    """A lone UTF-16 surrogate, which a client can send as the JSON escape "\\ud800" and a 422
    or a sync result then repeats, goes back as that same escape instead of failing to encode
    (which turned a refusal into a 500). Everything else is encoded exactly as FastAPI does."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(
            content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
        )
        return text.encode("utf-8", "backslashreplace")


# Health data: no browser, proxy or shared cache keeps a copy of a download.
NO_STORE = {"Cache-Control": "no-store"}


def attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE}


def backup_response(database: Database, user: User, *, seal_key: str) -> JSONResponse:
    """Everything the account holds, as the versioned JSON backup that imports back (sealed
    with the app's key: see services.backup.provenance_seal)."""
    from app.services import backup

    with database.read() as session:
        document = backup.export_backup(session, user=user, seal_key=seal_key)
    return JSONResponse(document, headers=attachment(backup.backup_filename(user, "json")))


def csv_response(database: Database, user: User) -> responses.Response:
    """One row per diary day, for spreadsheets."""
    from app.services import backup

    with database.read() as session:
        text = backup.export_csv(session, user=user)
    # With a byte-order mark, spreadsheet programs read the notes' accents correctly.
    return responses.Response(
        "\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers=attachment(backup.backup_filename(user, "csv")),
    )


def fhir_response(database: Database, user: User) -> JSONResponse:
    """The diary as a FHIR R4 Bundle."""
    from app.services import backup, fhir

    with database.read() as session:
        bundle = fhir.export_bundle(session, user=user)
    return JSONResponse(
        bundle,
        media_type="application/fhir+json",
        headers=attachment(backup.backup_filename(user, "fhir.json")),
    )
