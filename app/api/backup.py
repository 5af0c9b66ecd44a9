"""Export and import (SPEC §8): the JSON backup, CSV for spreadsheets, a FHIR R4 Bundle."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError

from app.db import SessionDep
from app.deps import ApiUser
from app.models import User
from app.responses import JSONResponse
from app.schemas import ImportSummary
from app.services import backup, fhir

router = APIRouter(tags=["export and import"])

_BACKUP_BODY = {
    "requestBody": {
        "required": True,
        "description": "A backup from GET /api/v1/export (format described in "
        "docs/backup-format.md).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


@router.get("/export")
def export_backup(user: ApiUser, session: SessionDep) -> JSONResponse:
    """Everything the account holds, as a versioned JSON backup that imports back."""
    return JSONResponse(
        backup.export_backup(session, user=user),
        headers=attachment(backup.backup_filename(user, "json")),
    )


@router.get("/export.csv", response_class=Response)
def export_csv(user: ApiUser, session: SessionDep) -> Response:
    """One row per diary day, with a header of the SPEC §2 keys."""
    return csv_response(session, user)


def csv_response(session: SessionDep, user: User) -> Response:
    # With a byte-order mark, spreadsheet programs read the notes' accents correctly.
    return Response(
        "\ufeff" + backup.export_csv(session, user=user),
        media_type="text/csv; charset=utf-8",
        headers=attachment(backup.backup_filename(user, "csv")),
    )


@router.get("/export/fhir")
def export_fhir(user: ApiUser, session: SessionDep) -> JSONResponse:
    """The diary as a FHIR R4 Bundle: Observations per answer, MedicationStatements per step."""
    return fhir_response(session, user)


def fhir_response(session: SessionDep, user: User) -> JSONResponse:
    return JSONResponse(
        fhir.export_bundle(session, user=user),
        media_type="application/fhir+json",
        headers=attachment(backup.backup_filename(user, "fhir.json")),
    )


async def read_limited(request: Request) -> bytes:
    """The request body, refusing (413) anything larger than a backup can be."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > backup.MAX_IMPORT_BYTES:
        raise HTTPException(status_code=413, detail=backup.too_large_message())
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > backup.MAX_IMPORT_BYTES:
            raise HTTPException(status_code=413, detail=backup.too_large_message())
    return bytes(body)


def run_import(session: SessionDep, user: User, document: Any, *, dry_run: bool) -> ImportSummary:
    """Plan the import (422 naming every bad row) and, unless a dry run, apply it."""
    try:
        plan = backup.plan_import(session, user=user, document=document)
        if not dry_run:
            backup.apply_import(session, user=user, plan=plan)
    except backup.ImportRefused as refused:
        session.rollback()
        raise HTTPException(status_code=422, detail=backup.error_details(refused.errors)) from None
    except IntegrityError:
        raise HTTPException(
            status_code=409,
            detail="The diary changed while importing. Nothing was imported: try again.",
        ) from None
    if dry_run:
        session.rollback()  # nothing was written; end the read transaction
    return ImportSummary(dry_run=dry_run, **plan.summary())


@router.post(
    "/import",
    response_model=ImportSummary,
    openapi_extra=_BACKUP_BODY,
    responses={
        413: {"description": "Larger than any backup"},
        422: {"description": "Every refused row and field"},
    },
)
async def import_backup(
    request: Request,
    user: ApiUser,
    session: SessionDep,
    dry_run: Annotated[bool, Query(description="Only report what would change")] = False,
) -> ImportSummary:
    """Take a backup back into this account, all or nothing (docs/backup-format.md)."""
    try:
        document = backup.read_document(await read_limited(request))
    except backup.ImportRefused as refused:
        raise HTTPException(status_code=422, detail=backup.error_details(refused.errors)) from None
    return await run_in_threadpool(run_import, session, user, document, dry_run=dry_run)
