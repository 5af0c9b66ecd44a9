"""The database engines, SQLite pragmas and the per-request session.

SQLite allows one writer at a time. Left to itself, a second writer waits in SQLite's busy
handler, which sleeps and polls (long tails under load), and a transaction that read first and
writes later can fail outright with "database is locked" when another write landed in between.
So on SQLite a request that may change something (any method but GET/HEAD/OPTIONS) takes the
app's write lock and begins its transaction IMMEDIATE, holding the write lock from its first
statement; reads never wait for anyone (WAL). PostgreSQL needs none of this. The sign-in
routes instead open short sessions of their own (`write_session`, `read_session`), so the slow
password check between their writes holds no lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

from app.config import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Database:
    """The engines of one app: `reader` for safe requests, `writer` for the others."""

    reader: Engine
    writer: Engine
    # Serialises this process's SQLite writers without SQLite's sleep-and-poll busy handler.
    write_lock: threading.Lock | None = field(default=None)

    def dispose(self) -> None:
        self.reader.dispose()
        if self.writer is not self.reader:
            self.writer.dispose()


def make_database(settings: Settings) -> Database:
    if not settings.is_sqlite:
        engine = make_engine(settings)
        return Database(reader=engine, writer=engine)
    return Database(
        reader=make_engine(settings),
        writer=make_engine(settings, immediate=True),
        write_lock=threading.Lock(),
    )


def make_engine(settings: Settings, *, immediate: bool = False) -> Engine:
    """An engine for the configured database; SQLite gets WAL, foreign keys and a busy timeout."""
    if not settings.is_sqlite:
        return create_engine(settings.database_url, pool_pre_ping=True)
    path = settings.database_url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        settings.database_url,
        connect_args={"check_same_thread": False, "timeout": 15},
    )
    synchronous = settings.sqlite_synchronous

    def set_pragmas(dbapi_connection: Any, record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, record, synchronous=synchronous)

    event.listen(engine, "connect", set_pragmas)
    # pysqlite's own transaction handling is switched off in _sqlite_pragmas; we begin
    # ourselves, IMMEDIATE on the writer so its write lock is taken before anything is read.
    event.listen(engine, "begin", _begin_immediate if immediate else _begin_deferred)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, synchronous: str = "NORMAL") -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    # NORMAL (the default): in WAL mode a commit survives the app or the server process being
    # killed; a power cut or kernel crash may undo the last few. FULL also survives those, at
    # an fsync per save (about 3 ms here, measured with bench/save_entry.py: over the budget).
    cursor.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'FULL' else 'NORMAL'}")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def get_session(request: Request) -> Iterator[Session]:
    """One database session per request; a writing request on SQLite holds the write lock."""
    database: Database = request.app.state.database
    # Rows keep their values after a commit: handlers return what they just saved without
    # reading it back (the session ends with the request anyway).
    if request.method in SAFE_METHODS:
        with Session(database.reader, expire_on_commit=False) as session:
            yield session
        return
    yield from _writing_session(database)


def get_writing_session(request: Request) -> Iterator[Session]:
    """For the few GET routes that also write (a share link logs each opening)."""
    yield from _writing_session(request.app.state.database)


def _writing_session(database: Database) -> Iterator[Session]:
    lock = database.write_lock
    if lock is not None:
        lock.acquire()
    try:
        with Session(database.writer, expire_on_commit=False) as session:
            yield session
    finally:
        if lock is not None:
            lock.release()


def get_database(request: Request) -> Database:
    """The app's engines, for a route that opens its own short sessions (see `write_session`)."""
    database: Database = request.app.state.database
    return database


@contextmanager
def read_session(database: Database) -> Iterator[Session]:
    """A session that only reads: it never takes (or waits for) the write lock."""
    with Session(database.reader, expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(database: Database) -> Iterator[Session]:
    """A short writing session, for a route with slow work between its writes (a password
    check takes about 100 ms): the write lock is held only inside the block, so other
    patients' saves do not wait for that work."""
    yield from _writing_session(database)


SessionDep = Annotated[Session, Depends(get_session)]
DatabaseDep = Annotated[Database, Depends(get_database)]
WritingSessionDep = Annotated[Session, Depends(get_writing_session)]
