"""The database engine, SQLite pragmas and the per-request session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

from app.config import Settings


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured database; SQLite gets WAL, foreign keys and a busy timeout."""
    if settings.is_sqlite:
        path = settings.database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            settings.database_url,
            connect_args={"check_same_thread": False, "timeout": 15},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN until the first write, which
        # lets two writers both read and then fail to upgrade their locks. We begin
        # ourselves: IMMEDIATE takes the write lock up front and waits on busy_timeout.
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(settings.database_url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    # NORMAL in WAL mode survives a killed process; only a power cut can lose the last commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def get_session(request: Request) -> Iterator[Session]:
    """One database session per request, from the engine the app was built with."""
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
