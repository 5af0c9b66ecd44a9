"""The application factory: settings, database, middleware, routers and error pages."""

from __future__ import annotations

import gc
import json
import logging
import re
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from app import api, web
from app.admission import BUSY_MESSAGE, RETRY_AFTER_SECONDS, AdmissionMiddleware
from app.config import Settings, get_settings
from app.db import DatabaseBusy, make_database
from app.deps import LoginRequired
from app.responses import JSONResponse
from app.security import BufferedBodyMiddleware, SecurityMiddleware
from app.web.templating import ROOT, is_htmx, render

logger = logging.getLogger("ldn_diary")


SWITCH_INTERVAL_SECONDS = 0.0005
GC_YOUNG_THRESHOLD = 10_000


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for these settings (the environment's when None)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A thread busy with Python work (checking an import, building a report) keeps the
        # interpreter lock for up to the switch interval each time the event loop asks for it
        # back, and a save asks for it a dozen times (after each SQLite call). 0.5 ms instead
        # of the default 5 ms roughly halved the slowest saves during imports
        # (bench/write_path.py: p99 about 240 -> 140 ms on two cores).
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        # The objects the server is made of (modules, routes, models: about 300,000) live as
        # long as it does, yet every full garbage collection walked them all, holding the
        # interpreter lock for 150-200 ms: after each 9 MB import, say, every request stood
        # still (bench/write_path.py). Frozen, a collection walks only what requests made;
        # and a young collection every 10,000 new objects rather than 700 makes the full ones
        # (20-40 ms while an import is checked) rarer: p99 of saves during imports about
        # 145 -> 100 ms.
        gc.freeze()
        thresholds = gc.get_threshold()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
        app.state.database.start()
        yield
        await app.state.database.aclose()
        gc.set_threshold(*thresholds)
        gc.unfreeze()  # collectable again (a test process starts many apps)

    app = FastAPI(
        title="LDN Diary API",
        version="1",
        description="Daily symptom diary for low-dose naltrexone. All data is the patient's own.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        default_response_class=JSONResponse,
    )
    _keep_secrets_out_of_access_logs()
    app.state.settings = settings
    app.state.database = make_database(settings)
    # The engine that writes; scripts and tests use it to set up data.
    app.state.engine = app.state.database.writer
    app.state.secret_key = settings.resolved_secret_key()

    # Innermost (added first): the security headers still reach its 413.
    app.add_middleware(BufferedBodyMiddleware)
    # Outside the body buffer: a request waiting for its turn holds no body yet.
    app.add_middleware(AdmissionMiddleware, settings=settings)
    # Level 4: on a five-year trends page (390 KB of SVG) 5 ms for 113 KB, where level 6
    # takes 20 ms to save 5 KB more.
    app.add_middleware(GZipMiddleware, minimum_size=800, compresslevel=4)
    app.add_middleware(SecurityMiddleware)
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    app.include_router(api.router)
    app.include_router(web.router)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        target = "/login"
        if request.method == "GET" and request.url.path not in ("/", "/login"):
            wanted = request.url.path
            if request.url.query:
                wanted += f"?{request.url.query}"
            target += "?next=" + quote(wanted, safe="/")
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(DatabaseBusy)
    @app.exception_handler(SQLAlchemyTimeout)
    async def _database_busy(request: Request, _exc: Exception) -> Response:
        # The write lock (SQLite) or a connection (PostgreSQL) did not come in time.
        return _unavailable(request, BUSY_MESSAGE)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_down(request: Request, exc: Exception) -> Response:
        # The database is down, unreachable, or a statement ran past its timeout. Logged
        # without SQL parameters (the engines hide them).
        logger.error("database unavailable: %s", type(exc).__name__)
        message = "LDN Diary cannot reach its database just now. Nothing was lost: try again soon."
        return _unavailable(request, message)

    @app.exception_handler(IntegrityError)
    async def _write_race(request: Request, _exc: IntegrityError) -> Response:
        # Two requests changed the same thing at the same moment and the database kept one.
        message = "This changed at the same moment somewhere else. Reload and try again."
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=409)
        return render(request, "error.html", {"status": 409, "message": message}, status_code=409)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if not request.url.path.startswith("/api/"):
            # A page address with a value that cannot be right (/doses/abc/edit): not found.
            message = "There is nothing here. It may have been deleted, or the link is wrong."
            return render(
                request, "error.html", {"status": 404, "message": message}, status_code=404
            )
        return JSONResponse({"detail": _json_safe_errors(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        message = exc.detail if isinstance(exc.detail, str) else "Something went wrong."
        if exc.status_code == 404:
            message = "There is nothing here. It may have been deleted, or the link is wrong."
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "message": message},
            status_code=exc.status_code,
        )

    return app


class _RedactedAccessLog(logging.Filter):
    """The server's access log shows where a request went, never what it carried: a share
    link's or calendar feed's token is a key to health data, and a query string may hold the
    patient's own words (a summary's questions for the doctor)."""

    SECRET_PATH = re.compile(r"^/(shared|calendar)/[^/?]+")

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2].split("?", 1)[0]
            path = self.SECRET_PATH.sub(lambda match: f"/{match.group(1)}/[token]", path)
            record.args = (*args[:2], path, *args[3:])
        return True


def _keep_secrets_out_of_access_logs() -> None:
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, _RedactedAccessLog) for existing in access_log.filters):
        access_log.addFilter(_RedactedAccessLog())


def _unavailable(request: Request, message: str) -> Response:
    """503 with Retry-After: JSON for the API, the app's own error page for browsers."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=503, headers=headers)
    response = render(request, "error.html", {"status": 503, "message": message}, status_code=503)
    response.headers.update(headers)
    return response


def _json_safe_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """FastAPI's 422 detail, minus echoed inputs JSON cannot carry (NaN, Infinity, bytes)."""
    safe = []
    for error in errors:
        item = dict(error)
        for key in ("input", "ctx"):
            if key not in item:
                continue
            try:
                item[key] = jsonable_encoder(item[key])
                json.dumps(item[key], allow_nan=False)
            except (TypeError, ValueError):
                del item[key]
        safe.append(item)
    return safe


def __getattr__(name: str) -> FastAPI:
    # `uvicorn app.main:app` works, yet importing this module builds nothing.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
