"""When the database is slow, busy or gone, the app answers quickly with its own page."""

from __future__ import annotations

import logging
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import _RedactedAccessLog, create_app
from tests.conftest import Browser

pytestmark = pytest.mark.sqlite_only  # the write lock and the unreachable server are set up here


def test_a_write_that_cannot_get_the_write_lock_in_time_is_a_503(
    app: FastAPI, api: TestClient
) -> None:
    database = app.state.database
    database.write_wait_seconds = 0.2
    assert database.write_lock.acquire(timeout=5)
    try:
        started = time.monotonic()
        response = api.put("/api/v1/entries/2026-02-01", json={"pain": 10})
        assert time.monotonic() - started < 3
    finally:
        database.write_lock.release()
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert api.put("/api/v1/entries/2026-02-01", json={"pain": 10}).status_code == 201


def test_a_database_that_is_down_gives_the_app_s_own_page_with_its_headers(
    settings: Settings,
) -> None:
    down = settings.model_copy(
        update={
            "database_url": "postgresql+psycopg://nobody:nothing@127.0.0.1:9/none",
            "database_connect_timeout_seconds": 2,
        }
    )
    with TestClient(create_app(down)) as client:
        client.cookies.set("ldn_session", "x" * 43)
        started = time.monotonic()
        page = client.get("/today", follow_redirects=False)
        api = client.get("/api/v1/entries", headers={"Authorization": "Bearer " + "y" * 43})
        assert time.monotonic() - started < 10
    assert page.status_code == 503
    assert "cannot reach its database" in page.text
    assert "Back to the diary" in page.text  # the app's own page, not a bare error
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["retry-after"]
    assert api.status_code == 503
    assert api.json()["detail"].startswith("LDN Diary cannot reach its database")


def test_the_access_log_shows_no_tokens_and_no_query_strings() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/shared/abcDEF123-_xyz/report.pdf?x=1", "1.1", 200),
        None,
    )
    _RedactedAccessLog().filter(record)
    assert "abcDEF123" not in record.getMessage()
    assert "/shared/[token]/report.pdf" in record.getMessage()

    record.args = ("127.0.0.1:5000", "GET", "/report?questions=my+private+words", "1.1", 200)
    _RedactedAccessLog().filter(record)
    assert "private" not in record.getMessage()


def test_a_signed_in_page_works_while_another_request_holds_the_write_lock(
    app: FastAPI, browser: Browser
) -> None:
    """Reads never wait for writers: the diary pages open while a save is under way."""
    database = app.state.database
    assert database.write_lock.acquire(timeout=5)
    try:
        assert browser.get("/history").status_code == 200
        assert browser.get("/today").status_code == 200
    finally:
        database.write_lock.release()
