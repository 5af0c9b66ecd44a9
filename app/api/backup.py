"""Export and import (SPEC §8): the JSON backup, CSV for spreadsheets, a FHIR R4 Bundle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.db import Database, DatabaseDep
from app.deps import ApiUser
from app.models import User
from app.responses import JSONResponse, backup_response, csv_response, fhir_response
from app.schemas import ImportSummary
from app.services import backup

router = APIRouter(tags=["export and import"])

_BACKUP_BODY = {
    "requestBody": {
        "required": True,
        "description": "A backup from GET /api/v1/export (format described in "
        "docs/backup-format.md).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.get("/export")
def export_backup(user: ApiUser, database: DatabaseDep, request: Request) -> JSONResponse:
    """Everything the account holds, as a versioned JSON backup that imports back."""
    return backup_response(database, user, seal_key=request.app.state.secret_key)


@router.get("/export.csv", response_class=Response)
def export_csv(user: ApiUser, database: DatabaseDep) -> Response:
    """One row per diary day, with a header of the SPEC §2 keys."""
    return csv_response(database, user)


@router.get("/export/fhir")
def export_fhir(user: ApiUser, database: DatabaseDep) -> JSONResponse:
    """The diary as a FHIR R4 Bundle: Observations per answer, MedicationStatements per step."""
    return fhir_response(database, user)


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


def apply_plan(database: Database, user: User, plan: backup.ImportPlan) -> None:
    """Write a checked import in one short transaction (in a worker thread)."""
    try:
        with database.write() as session:
            backup.apply_import(session, user=user, plan=plan)
    except backup.ImportConflict as conflict:
        raise HTTPException(status_code=409, detail=str(conflict)) from None


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
    database: DatabaseDep,
    dry_run: Annotated[bool, Query(description="Only report what would change")] = False,
) -> ImportSummary:
    """Take a backup back into this account, all or nothing (docs/backup-format.md)."""
    raw = await read_limited(request)
    assert user.id is not None
    try:
        plan = await backup.check_in_worker(
            request.app.state.settings,
            user_id=user.id,
            raw=raw,
            seal_key=request.app.state.secret_key,
        )
    except backup.ImportRefused as refused:
        raise HTTPException(status_code=422, detail=backup.error_details(refused.errors)) from None
    except backup.ImportNotChecked:  # a stuck or crashed worker: nothing was written
        raise HTTPException(
            status_code=503,
            detail="The import could not be checked just now. Nothing was imported: try again.",
            headers={"Retry-After": "5"},
        ) from None
    if not dry_run:
        await run_in_threadpool(apply_plan, database, user, plan)
    return ImportSummary(dry_run=dry_run, **plan.summary())
