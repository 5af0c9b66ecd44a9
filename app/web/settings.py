"""/settings: export the diary, import a backup (with a preview first), manage the account.

Plain forms, POST → 303 → GET. The import preview carries the uploaded document to the
confirm step inside the page itself (compressed, signed with the app's key, tied to the
account and expiring), so no server-side state is kept between the two steps.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import zlib
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from app.db import Database, DatabaseDep
from app.deps import SESSION_COOKIE, WebUser, confirming_password
from app.models import User
from app.responses import JSONResponse, backup_response, csv_response, fhir_response
from app.security import rotate_csrf
from app.services import accounts, backup, login_throttle
from app.services.dose_steps import format_day
from app.web import form_numbers
from app.web.auth import sign_in
from app.web.templating import render

router = APIRouter(prefix="/settings")
CURRENT = "That is not your current password."
YOURS = "That is not your password."

# Form fields are limited to 1 MB each by the form parser: the document travels in pieces.
_PAYLOAD_CHUNK = 512 * 1024
# A preview is good for an hour; after that the patient uploads the file again.
_PREVIEW_SECONDS = 3600
_IMPORT_COUNTS = (
    "days_added",
    "days_replaced",
    "dose_steps_added",
    "revisions_added",
    "self_trials_added",
)


@router.get("", response_class=HTMLResponse)
def settings_page(request: Request, user: WebUser) -> Response:
    return render(request, "settings/index.html")


# --- Export -----------------------------------------------------------------------------------


@router.get("/export", response_class=HTMLResponse)
def export_page(request: Request, user: WebUser) -> Response:
    return render(request, "settings/export.html")


@router.get("/export/backup.json")
def download_backup(request: Request, database: DatabaseDep, user: WebUser) -> JSONResponse:
    return backup_response(database, user, seal_key=request.app.state.secret_key)


@router.get("/export/diary.csv")
def download_csv(database: DatabaseDep, user: WebUser) -> Response:
    return csv_response(database, user)


@router.get("/export/fhir.json")
def download_fhir(database: DatabaseDep, user: WebUser) -> JSONResponse:
    return fhir_response(database, user)


# --- Import -----------------------------------------------------------------------------------


def _signature(request: Request, user: User, issued: str, payload: str) -> str:
    message = f"import:{user.id}:{issued}:{payload}".encode()
    return hmac.new(request.app.state.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _pack(raw: bytes) -> str:
    return base64.urlsafe_b64encode(zlib.compress(raw, 6)).decode("ascii")


def _unpack(payload: str) -> bytes:
    inflater = zlib.decompressobj()
    raw = inflater.decompress(base64.urlsafe_b64decode(payload), backup.MAX_IMPORT_BYTES + 1)
    if inflater.unconsumed_tail or len(raw) > backup.MAX_IMPORT_BYTES:
        raise backup.ImportRefused([backup.RowError((), backup.too_large_message())])
    return raw


def _import_page(
    request: Request,
    *,
    errors: list[backup.RowError] | None = None,
    plan: backup.ImportPlan | None = None,
    payload: str = "",
    user: User | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {"errors": errors or [], "plan": None, "done": None}
    if plan is not None and user is not None:
        issued = str(int(time.time()))
        context.update(
            plan=plan,
            summary=plan.summary(),
            replaced=[format_day(row.date) for row in plan.replaced_days],
            chunks=[
                payload[start : start + _PAYLOAD_CHUNK]
                for start in range(0, len(payload), _PAYLOAD_CHUNK)
            ],
            issued=issued,
            signature=_signature(request, user, issued, payload),
        )
    elif request.query_params.get("imported") == "1":
        done = {}
        for key in _IMPORT_COUNTS:
            raw = request.query_params.get(key, "0")
            done[key] = form_numbers.count(raw) or 0
        context["done"] = done
    return render(request, "settings/import.html", context, status_code=status_code)


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, user: WebUser) -> Response:
    return _import_page(request)


@router.post("/import", response_class=HTMLResponse)
async def upload_backup(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    """Read an uploaded backup and show what importing it would change, or what is wrong."""
    form = await request.form()
    upload = form.get("file")
    raw = b""
    try:
        if isinstance(upload, UploadFile):
            raw = await upload.read(backup.MAX_IMPORT_BYTES + 1)
    finally:
        await form.close()
    if not raw:
        problem = backup.RowError((), "Choose the backup file to import first.")
        return _import_page(request, errors=[problem], status_code=422)
    if len(raw) > backup.MAX_IMPORT_BYTES:
        problem = backup.RowError((), backup.too_large_message())
        return _import_page(request, errors=[problem], status_code=413)
    try:
        plan = await _check(request, user, raw)
    except backup.ImportRefused as refused:
        return _import_page(request, errors=refused.errors, status_code=422)
    # Compressed in a worker thread: megabytes on the event loop would stall every request.
    payload = await run_in_threadpool(_pack, raw)
    return _import_page(request, plan=plan, payload=payload, user=user)


async def _check(request: Request, user: User, raw: bytes) -> backup.ImportPlan:
    """The file read and checked in the import worker process."""
    assert user.id is not None
    try:
        return await backup.check_in_worker(
            request.app.state.settings,
            user_id=user.id,
            raw=raw,
            seal_key=request.app.state.secret_key,
        )
    except backup.ImportNotChecked:
        problem = "The file could not be checked just now. Nothing was imported: try again."
        raise backup.ImportRefused([backup.RowError((), problem)]) from None


def _write(database: Database, user: User, plan: backup.ImportPlan) -> None:
    """Write a checked import in one short transaction."""
    with database.write() as session:
        backup.apply_import(session, user=user, plan=plan)


@router.post("/import/confirm")
async def confirm_import(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    """Import the previewed document: all of it, or nothing."""
    form = await request.form()
    payload = "".join(str(part) for part in form.getlist("payload"))
    issued = str(form.get("issued") or "")
    signature = str(form.get("signature") or "")
    issued_at = form_numbers.count(issued)
    fresh = issued_at is not None and time.time() - issued_at < _PREVIEW_SECONDS
    expected = _signature(request, user, issued, payload)
    if not fresh or not hmac.compare_digest(signature, expected):
        problem = backup.RowError((), "This preview has expired. Upload the file again.")
        return _import_page(request, errors=[problem], status_code=400)
    try:
        plan = await _check(request, user, await run_in_threadpool(_unpack, payload))
        await run_in_threadpool(_write, database, user, plan)
    except backup.ImportRefused as refused:
        return _import_page(request, errors=refused.errors, status_code=422)
    except backup.ImportConflict as conflict:
        return _import_page(request, errors=[backup.RowError((), str(conflict))], status_code=409)
    counts = plan.summary()
    query = "&".join(f"{key}={counts[key]}" for key in _IMPORT_COUNTS)
    return RedirectResponse(f"/settings/import?imported=1&{query}", status_code=303)


# --- Account ----------------------------------------------------------------------------------


def _account_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "errors": errors or {},
        "values": values or {},
        "changed": request.query_params.get("changed") == "1",
        "timezone_changed": request.query_params.get("timezone") == "1",
    }
    return render(request, "settings/account.html", context, status_code=status_code)


def _signed_out(target: str, request: Request, *, clear: str) -> Response:
    rotate_csrf(request)
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    response.headers["Clear-Site-Data"] = clear
    return response


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: WebUser) -> Response:
    return _account_page(request)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    database: DatabaseDep,
    user: WebUser,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """New password; every other browser and app is signed out, this one gets a new session."""
    try:
        password_hash = accounts.new_password_hash(user, new_password)
        confirming_password(request, database, user=user, password=current_password, wrong=CURRENT)
    except login_throttle.TooManyAttempts as wait:
        return _account_page(request, errors={"current_password": str(wait)}, status_code=429)
    except accounts.WrongPassword as problem:
        return _account_page(request, errors={"current_password": str(problem)}, status_code=422)
    except accounts.WeakPassword as problem:
        return _account_page(request, errors={"new_password": str(problem)}, status_code=422)
    with database.write() as session:
        accounts.set_password(session, user=user, password_hash=password_hash)
        return sign_in(request, session, user, "/settings/account?changed=1")


@router.post("/account/timezone", response_class=HTMLResponse)
def change_timezone(
    request: Request,
    database: DatabaseDep,
    user: WebUser,
    timezone: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The clock the patient's days are counted on: which day "today" is."""
    try:
        with database.write() as session:
            accounts.change_timezone(session, user=user, timezone=timezone)
    except accounts.UnknownTimezone as problem:
        return _account_page(
            request,
            errors={"timezone": str(problem)},
            values={"timezone": timezone},
            status_code=422,
        )
    return RedirectResponse("/settings/account?timezone=1#timezone-heading", status_code=303)


@router.post("/account/logout-everywhere")
def logout_everywhere(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    with database.write() as session:
        accounts.end_every_session(session, user=user)
    return _signed_out("/login?signed_out=1", request, clear='"cache"')


@router.post("/account/delete", response_class=HTMLResponse)
def delete_account(
    request: Request,
    database: DatabaseDep,
    user: WebUser,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Delete the account and everything in it, once the password is given again."""
    try:
        confirming_password(request, database, user=user, password=password, wrong=YOURS)
    except login_throttle.TooManyAttempts as wait:
        return _account_page(request, errors={"delete_password": str(wait)}, status_code=429)
    except accounts.WrongPassword as problem:
        return _account_page(request, errors={"delete_password": str(problem)}, status_code=422)
    with database.write() as session:
        accounts.delete_account(session, user=user)
    # Nothing of the account stays on this device either: its caches and offline outbox go.
    request.state.user = None
    return _signed_out("/settings/account/deleted", request, clear='"cache", "storage"')


@router.get("/account/deleted", response_class=HTMLResponse)
def account_deleted(request: Request) -> Response:
    return render(request, "settings/deleted.html")
