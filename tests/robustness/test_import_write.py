"""A checked import is written in a few multi-row statements on SQLite (app.db `PreparedRows`),
not one statement a row: SQLite gives up Python's interpreter lock for every statement it runs,
and a writer that must take it back thousands of times, while the event loop is busy, held the
write lock for seconds (bench/write_lock.py)."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, col, select

from app.db import prepare_rows
from app.models import DiaryEntry, User
from app.workers import IMPORTS, WORKER_NICENESS

FIRST_DAY = date(2025, 1, 1)


def _backup(days: int) -> dict[str, Any]:
    entries, revisions = [], []
    for offset in range(days):
        day = (FIRST_DAY + timedelta(days=offset)).isoformat()
        entries.append({"date": day, "pain": offset % 101, "notes": f"day {offset} ✓"})
        revisions.append(
            {
                "date": day,
                "data": {"date": day, "pain": (offset + 1) % 101},
                "source": "web",
                "saved_at": f"{day}T19:00:00Z",
                "replaced_at": f"{day}T20:00:00Z",
                "reason": "edited",
            }
        )
    return {"format": "ldn-diary-backup", "version": 1, "entries": entries, "revisions": revisions}


@pytest.mark.sqlite_only  # what SQLite is sent is what is tested
def test_an_imports_rows_go_in_a_statement_for_many_rows_not_one_each(
    app: FastAPI, api: TestClient
) -> None:
    inserts: list[tuple[str, bool]] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO"):
            inserts.append((statement.split()[2].strip('"'), executemany))

    writer = app.state.database.writer
    event.listen(writer, "before_cursor_execute", note)
    try:
        response = api.post("/api/v1/import", json=_backup(400))
    finally:
        event.remove(writer, "before_cursor_execute", note)
    assert response.status_code == 200, response.text
    assert response.json()["days_added"] == 400
    assert inserts.count(("diary_entry", False)) == 1, inserts
    assert inserts.count(("entry_revision", False)) == 1, inserts
    assert not any(many for _, many in inserts), inserts
    days = api.get("/api/v1/entries").json()
    assert len(days) == 400
    assert days[399]["pain"] == 399 % 101 and days[399]["notes"] == "day 399 ✓"
    history = api.get("/api/v1/entries/2025-02-01/revisions").json()
    assert [version["data"]["pain"] for version in history] == [32]


@pytest.mark.sqlite_only
def test_rows_past_what_one_statement_takes_are_split_and_all_written(
    app: FastAPI, session: Session, user: User
) -> None:
    assert user.id is not None
    moment = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    rows = [
        {
            "user_id": user.id,
            "day": FIRST_DAY + timedelta(days=offset),
            "ratings": {"pain": offset},
            "side_effects": {"nausea": 1} if offset % 2 else {},
            "dose_taken": bool(offset % 3),
            "dose_mg": 1.5 + offset / 4,
            "notes": None if offset % 5 else f"note {offset}",
            "source": "import",
            "retrospective": offset % 2 == 0,
            "created_at": moment,
            "updated_at": moment,
        }
        for offset in range(25)
    ]
    with app.state.database.write() as writing:
        driver = writing.connection().connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        # 11 columns, at most 40 parameters a statement: 3 rows a statement, 9 statements.
        driver.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 40)
        prepared = prepare_rows(writing, DiaryEntry, rows)
        prepared.insert(writing)
        writing.commit()
    assert len(prepared.statements) == 9
    saved = session.exec(select(DiaryEntry).order_by(col(DiaryEntry.day))).all()
    assert [
        {name: getattr(entry, name) for name in rows[0]} | {"created_at": entry.created_at}
        for entry in saved
    ] == rows


def test_the_worker_processes_run_at_a_lower_cpu_priority_than_the_server() -> None:
    # os.nice(0) answers the calling process's niceness without changing it.
    in_worker = IMPORTS.call(os.nice, 0, timeout=120)
    assert in_worker == min(19, os.nice(0) + WORKER_NICENESS)
