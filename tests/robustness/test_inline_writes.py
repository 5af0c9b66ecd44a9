"""Small SQLite units on the event loop (app.db `run_write`): they run there only when nothing
can make them wait, and otherwise go to a worker thread without stalling anyone else."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.config import Settings
from app.db import make_database
from app.main import SWITCH_INTERVAL_SECONDS, create_app

pytestmark = pytest.mark.sqlite_only  # SQLite's own locks are what is tested here


def _threads_that_saved(app: FastAPI, api: TestClient, day: str) -> tuple[int, set[str]]:
    database = app.state.database
    threads: set[str] = set()

    def note(conn, cursor, statement, parameters, context, executemany):
        if "diary_entry" in statement:
            threads.add(threading.current_thread().name)

    engines = [database.writer, database.inline_writer]
    for engine in engines:
        event.listen(engine, "after_cursor_execute", note)
    try:
        status = api.put(f"/api/v1/entries/{day}", json={"pain": 30}).status_code
    finally:
        for engine in engines:
            event.remove(engine, "after_cursor_execute", note)
    return status, threads


def test_a_save_runs_on_the_event_loop_when_nothing_can_make_it_wait(
    app: FastAPI, api: TestClient
) -> None:
    status, threads = _threads_that_saved(app, api, "2026-02-03")
    assert status == 201
    assert threads and not any("worker" in name.lower() for name in threads), threads


def test_a_save_waits_in_a_worker_thread_while_another_request_writes(
    app: FastAPI, api: TestClient
) -> None:
    database = app.state.database
    assert database.write_lock.acquire(timeout=5)
    releaser = threading.Timer(0.3, database.write_lock.release)
    releaser.start()
    try:
        status, threads = _threads_that_saved(app, api, "2026-02-04")
    finally:
        releaser.join(timeout=10)
    assert status == 201
    assert threads and all("worker" in name.lower() for name in threads), threads


def test_another_process_s_writer_does_not_stall_the_event_loop(
    app: FastAPI, api: TestClient, settings: Settings
) -> None:
    """A script or the reminder sender holds SQLite's write lock: the save waits for it in a
    worker thread, and meanwhile the event loop keeps answering."""
    path = settings.database_url.split("///", 1)[1]
    other = sqlite3.connect(path, timeout=5, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    result: dict[str, httpx.Response] = {}
    saver = threading.Thread(
        target=lambda: result.update(save=api.put("/api/v1/entries/2026-02-05", json={"pain": 9}))
    )
    try:
        saver.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert api.get("/api/v1/entries/2026-02-03").status_code == 404  # a read answers
        assert time.monotonic() - started < 1.0
        assert saver.is_alive()  # the save is still waiting for the other writer
    finally:
        other.execute("COMMIT")
        other.close()
        saver.join(timeout=20)
    assert not saver.is_alive()
    assert result["save"].status_code == 201


def test_fsyncing_commits_never_run_on_the_event_loop(settings: Settings) -> None:
    full = make_database(settings.model_copy(update={"sqlite_synchronous": "FULL"}))
    normal = make_database(settings)
    try:
        assert full.inline_writer is None and full.inline_reader is None
        assert normal.inline_writer is not None
    finally:
        full.dispose()
        normal.dispose()


def test_the_server_asks_busy_threads_to_hand_the_interpreter_back_quickly(
    settings: Settings,
) -> None:
    sys.setswitchinterval(0.005)  # Python's default
    with TestClient(create_app(settings)):
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_SECONDS)
