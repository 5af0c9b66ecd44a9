"""On PostgreSQL an API save and the bearer-token lookup run on the event loop, through the
driver's asynchronous connections, with the same timeouts as every other connection."""

from __future__ import annotations

import asyncio
import threading

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, text

pytestmark = pytest.mark.postgres_only  # the asynchronous driver is PostgreSQL's


def test_a_save_and_its_sign_in_check_run_on_the_event_loop(app: FastAPI, api: TestClient) -> None:
    threads: list[str] = []
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        threads.append(threading.current_thread().name)
        statements.append(statement)

    engine = app.state.database.loop_engine.sync_engine
    event.listen(engine, "after_cursor_execute", note)
    try:
        assert api.put("/api/v1/entries/2026-02-03", json={"pain": 30}).status_code == 201
    finally:
        event.remove(engine, "after_cursor_execute", note)
    assert any('FROM "user"' in statement for statement in statements)  # the token lookup
    assert any("INSERT INTO diary_entry" in statement for statement in statements)
    assert not any("worker" in name.lower() for name in threads), threads


def test_the_event_loops_connections_have_the_same_timeouts(app: FastAPI) -> None:
    settings = app.state.settings

    async def timeouts() -> tuple[str, str]:
        def show(connection) -> tuple[str, str]:
            statement = connection.execute(text("SHOW statement_timeout")).scalar_one()
            lock = connection.execute(text("SHOW lock_timeout")).scalar_one()
            return statement, lock

        return await app.state.database.run_write(show)

    expected = f"{settings.database_statement_timeout_ms // 1000}s"
    assert asyncio.run(timeouts()) == (expected, expected)
