"""Background care of a running server: SQLite's write-ahead log is copied into the database
file by the app's checkpointer thread, not by whichever commit fills it (holding the write lock
meanwhile), and the server's own objects are kept out of garbage collections."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.config import Settings
from app.db import make_database
from app.main import GC_YOUNG_THRESHOLD

pytestmark = pytest.mark.sqlite_only  # SQLite's log and file are what is tested here


def _database_file(settings: Settings) -> Path:
    return Path(settings.database_url.split("///", 1)[-1])


def test_a_large_commit_leaves_the_copying_to_the_checkpointer(settings: Settings) -> None:
    database = make_database(settings)  # started by nobody: no thread copies meanwhile
    try:
        with database.write() as session:
            session.execute(text("CREATE TABLE filler (body TEXT)"))
            session.commit()
        file = _database_file(settings)
        size_before = file.stat().st_size
        with database.write() as session:
            # About 12 MB: 3,000 pages, past SQLite's own checkpoint at 1,000.
            for _ in range(6):
                session.execute(
                    text(
                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                        "WHERE i < 1000) INSERT INTO filler SELECT hex(randomblob(1000)) FROM n"
                    )
                )
            session.commit()
        # The commit returned without copying anything into the database file...
        assert file.stat().st_size == size_before
        assert database.checkpointer is not None
        logged, copied = database.checkpointer.checkpoint()
        # ...and one round of the checkpointer copies it all.
        assert logged > 2_500 and copied == logged
        assert file.stat().st_size > size_before + 10_000_000
        with database.read() as session:
            assert session.execute(text("SELECT count(*) FROM filler")).scalar_one() == 6_000
    finally:
        database.dispose()


def test_the_checkpointer_runs_while_the_app_serves_and_stops_with_it(app: FastAPI) -> None:
    def running() -> bool:
        return any(thread.name == "sqlite-checkpointer" for thread in threading.enumerate())

    assert not running()
    for _ in range(2):  # and again when the same app serves a second time
        with TestClient(app):
            time.sleep(0.1)  # a thread that ended at once would be gone by now
            assert running()
        assert not running()


def test_the_servers_own_objects_are_left_out_of_garbage_collection_while_it_serves(
    app: FastAPI,
) -> None:
    """A full collection walked every object the server is made of (150-200 ms with the
    interpreter lock held: every request stood still, bench/write_path.py). While the app
    serves they are frozen; afterwards (a test process starts many apps) they are not."""
    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    with TestClient(app):
        assert gc.get_freeze_count() > 100_000
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD  # fewer, larger young collections
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
