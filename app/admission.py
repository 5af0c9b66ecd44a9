"""Overload: how many requests the app works on at once, and a quick 503 for the rest.

Each request that reaches the app's own code is one of four kinds, each with its own number of
turns (settings `max_concurrent_*`): reads, writes (any method but GET/HEAD/OPTIONS, and the
share-link pages, which log each opening), password checks (sign-in and registration: Argon2
takes about 100 ms and 64 MB each) and PDFs (rendered in their own process, a few hundred ms
each). A page waits for a turn for at most `queue_seconds`, other kinds five times as long,
and at most `4 × turns` requests wait at once; past either, it gets 503 with Retry-After at
once. Static files take no turn.

The turns add up to fewer than the worker threads, and the database pool holds a connection
for each: so an admitted request never waits for a thread or a connection, however many
arrive, and a flood of one kind (anonymous registrations, guessed share links) leaves the
others their turns — `/login` keeps answering. Waiting for a turn happens on the event loop:
it holds no thread, no connection and no lock.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.security import IMPORT_PATHS

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PASSWORD_PATHS = frozenset({"/login", "/register", "/api/v1/auth/token", "/api/v1/auth/register"})
RETRY_AFTER_SECONDS = 2


@dataclass
class Turns:
    """The turns of one kind of request."""

    size: int
    max_waiting: int

    def __post_init__(self) -> None:
        self._free = asyncio.Semaphore(self.size)
        self.waiting = 0

    async def take(self, timeout: float) -> bool:
        """Wait for a turn; False when none came in time or too many wait already.

        A free turn is taken at once. `wait_for` would first hand the request back to the
        event loop, behind everything else ready to run: on PostgreSQL, with 20 phones
        saving, that wait alone had a p99 of about 30 ms (bench/write_path.py)."""
        if not self._free.locked():
            await self._free.acquire()  # free, and nobody waits before us: returns at once
            return True
        if self.waiting >= self.max_waiting:
            return False
        self.waiting += 1
        try:
            await asyncio.wait_for(self._free.acquire(), timeout)
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1
        return True

    def give_back(self) -> None:
        self._free.release()


def kind_of(scope: Scope) -> str | None:
    """Which turns a request takes; None for the static files, which need none."""
    path: str = scope["path"]
    if path.startswith("/static/") or path in ("/sw.js", "/manifest.webmanifest"):
        return None
    if path.endswith(".pdf"):
        return "pdf"
    if path in IMPORT_PATHS and scope["method"] == "POST":
        return "import"
    method = scope["method"]
    if method not in SAFE_METHODS:
        return "password" if path in PASSWORD_PATHS else "write"
    if path.startswith("/shared/"):
        return "write"
    return "read"


class AdmissionMiddleware:
    """Gives each request a turn of its kind, or answers 503 with Retry-After."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.queue_seconds = settings.queue_seconds
        sizes = {
            "read": settings.max_concurrent_reads,
            "write": settings.max_concurrent_writes,
            "password": settings.max_concurrent_password_checks,
            "pdf": 2,
            # A backup is up to 11 MB held in memory while it is checked.
            "import": 2,
        }
        # Made on first use, for the loop that serves the app: an asyncio semaphore belongs to
        # one event loop (a test may serve the same app from a second one).
        self._sizes = sizes
        self._turns: dict[str, Turns] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def turns(self, kind: str) -> Turns:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._turns = {
                name: Turns(size=size, max_waiting=4 * size) for name, size in self._sizes.items()
            }
        return self._turns[kind]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = kind_of(scope) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        turns = self.turns(kind)
        # Pages wait briefly (a person is looking at the screen); work that is slow anyway
        # (a sign-in's password check, a PDF, an import, a save) may wait longer for its turn.
        wait = self.queue_seconds if kind == "read" else 5 * self.queue_seconds
        if not await turns.take(wait):
            await _busy(scope, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            turns.give_back()


BUSY_MESSAGE = "LDN Diary is very busy right now. Nothing was lost: try again in a moment."


async def _busy(scope: Scope, send: Send) -> None:
    """503 with Retry-After, as JSON for the API and a small page for browsers."""
    if scope["path"].startswith("/api/"):
        body = json.dumps({"detail": BUSY_MESSAGE}).encode()
        content_type = b"application/json"
    else:
        body = (
            "<!doctype html><html lang=en><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'>"
            f"<title>Busy - LDN Diary</title><h1>Please try again</h1><p>{BUSY_MESSAGE}</p>"
        ).encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", content_type),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
