"""The statements every diary save runs go straight to the database driver (app.db
`DirectStatement`), skipping SQLAlchemy's execution layer, yet store and read every value as
SQLAlchemy does, fail with SQLAlchemy's errors (parameters hidden) and are seen by the engine's
statement listeners."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import bindparam, event, insert
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from app.db import DirectStatement
from app.models import DiaryEntry, User

DAYS = DiaryEntry.__table__  # type: ignore[attr-defined]
EVERY_KIND_OF_VALUE: dict[str, Any] = {
    "day": date(2026, 3, 4),
    "ratings": {"pain": 40, "fatigue": 0},
    "side_effects": {"nausea": 2},
    "other_text": "ringing in the ears ✓",
    "dose_taken": True,
    "dose_time": "21:30",
    "dose_mg": 1.5,
    "notes": None,
    "tolerability": 3,
    "pgic": None,
    "source": "api",
    "retrospective": False,
    "created_at": datetime(2026, 3, 4, 20, 1, 2, 345678, tzinfo=UTC),
    "updated_at": datetime(2026, 3, 5, 7, 8, 9, 123456, tzinfo=UTC),
    "client_id": "phone-1",
    "client_edited_at": datetime(2026, 3, 5, 7, 8, 0, 999999, tzinfo=UTC),
}
DAY_OF = DirectStatement(
    sa_select(DAYS).where(DAYS.c.user_id == bindparam("user_id"), DAYS.c.day == bindparam("day"))
)
INSERT_DAY = DirectStatement(insert(DAYS), columns=["user_id", *EVERY_KIND_OF_VALUE])


def _comparable(value: Any) -> Any:
    """Datetimes in UTC, with their zone: a database may give them back in another zone."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return value


def test_a_row_written_directly_reads_back_through_the_orm_unchanged(
    app: FastAPI, session: Session, user: User
) -> None:
    with app.state.database.write() as writing:
        INSERT_DAY.run(writing.connection(), {"user_id": user.id, **EVERY_KIND_OF_VALUE})
        writing.commit()

    stored = session.exec(select(DiaryEntry)).one()
    for field, value in EVERY_KIND_OF_VALUE.items():
        assert _comparable(getattr(stored, field)) == _comparable(value), field


def test_a_row_the_orm_wrote_reads_back_directly_as_the_orm_reads_it(
    app: FastAPI, session: Session, user: User
) -> None:
    session.add(DiaryEntry(user_id=user.id, **EVERY_KIND_OF_VALUE))
    session.commit()
    through_orm = session.exec(select(DiaryEntry)).one()

    with app.state.database.read() as reading:
        row = DAY_OF.first(reading.connection(), {"user_id": user.id, "day": date(2026, 3, 4)})
    assert row is not None
    assert row._fields == tuple(column.key for column in DAYS.c)
    for field in row._fields:
        value = getattr(row, field)
        assert _comparable(value) == _comparable(getattr(through_orm, field)), field
        assert type(value) is type(getattr(through_orm, field)), field


def test_a_failing_direct_statement_raises_sqlalchemys_error_without_its_values(
    app: FastAPI, user: User
) -> None:
    values = {"user_id": user.id, **EVERY_KIND_OF_VALUE, "other_text": "a secret symptom"}
    with app.state.database.write() as writing:
        INSERT_DAY.run(writing.connection(), values)
        with pytest.raises(IntegrityError) as raised:  # one day of one patient is one row
            INSERT_DAY.run(writing.connection(), values)
    assert "a secret symptom" not in str(raised.value)
    assert "INSERT INTO diary_entry" in str(raised.value)


def test_the_engines_statement_listeners_see_direct_statements(app: FastAPI, user: User) -> None:
    seen: list[tuple[str, str]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(("before", statement))

    def after(conn, cursor, statement, parameters, context, executemany):
        seen.append(("after", statement))

    database = app.state.database
    event.listen(database.reader, "before_cursor_execute", before)
    event.listen(database.reader, "after_cursor_execute", after)
    try:
        with database.read() as reading:
            DAY_OF.rows(reading.connection(), {"user_id": user.id, "day": date(2026, 3, 4)})
    finally:
        event.remove(database.reader, "before_cursor_execute", before)
        event.remove(database.reader, "after_cursor_execute", after)
    assert [when for when, statement in seen if "FROM diary_entry" in statement] == [
        "before",
        "after",
    ]


def test_an_api_save_runs_every_statement_straight_on_the_driver(
    app: FastAPI, api: TestClient
) -> None:
    """The bearer token's patient, the catalogue and dose, the day's row, its kept version and
    its update: none goes through SQLAlchemy's execution layer (which passes each statement
    an execution context), where each cost several times what the database itself took."""
    assert api.put("/api/v1/entries/2026-02-03", json={"pain": 30}).status_code == 201
    through_the_layer: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if context is not None:
            through_the_layer.append(statement)

    database = app.state.database
    engines = {
        database.reader,
        database.writer,
        database.inline_reader,
        database.inline_writer,
        database.loop_engine.sync_engine if database.loop_engine is not None else None,
    } - {None}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        response = api.put("/api/v1/entries/2026-02-03", json={"pain": 40})
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 200, response.text
    assert response.json()["ratings"]["pain"] == 40
    assert through_the_layer == []


def test_an_api_save_begins_no_orm_session(api: TestClient) -> None:
    """A save runs on one connection in one transaction (app.db `Database.run_write`): the
    session's own bookkeeping (its transaction, its connection, its commit) took about a tenth
    of a save."""
    assert api.put("/api/v1/entries/2026-02-03", json={"pain": 30}).status_code == 201
    sessions_begun: list[object] = []

    def note(session, transaction, connection):
        sessions_begun.append(session)

    event.listen(OrmSession, "after_begin", note)
    try:
        replaced = api.put("/api/v1/entries/2026-02-03", json={"pain": 40})
        created = api.put("/api/v1/entries/2026-02-04", json={"pain": 50})
    finally:
        event.remove(OrmSession, "after_begin", note)
    assert (replaced.status_code, created.status_code) == (200, 201)
    assert api.get("/api/v1/entries/2026-02-03").json()["ratings"]["pain"] == 40
    assert sessions_begun == []
