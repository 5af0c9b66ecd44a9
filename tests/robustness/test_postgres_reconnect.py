"""PostgreSQL drops the app's connections (a restart, a failover): the app answers at worst a
503 with Retry-After, then carries on with new connections. Pooled connections are not pinged
before every use (a round trip per request), so this is the promise that replaces the ping."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, text

pytestmark = pytest.mark.postgres_only  # the server's own connection handling is tested


def test_the_app_recovers_by_itself_when_the_server_drops_its_connections(
    app: FastAPI, api: TestClient
) -> None:
    database = app.state.database
    engine = database.writer
    app_connections: set[int] = set()

    def note(dbapi, _record, _proxy):
        # The event loop's asynchronous connections come wrapped by SQLAlchemy.
        app_connections.add(getattr(dbapi, "driver_connection", dbapi).info.backend_pid)

    # Every connection used from here on is noted: the threads' and the event loop's.
    for pool_engine in (engine, database.loop_engine.sync_engine):
        event.listen(pool_engine, "checkout", note)
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
        assert api.put(f"/api/v1/entries/{day}", json={"pain": 20}).status_code == 201
    assert app_connections
    with engine.connect() as admin:
        for pid in app_connections - {admin.connection.dbapi_connection.info.backend_pid}:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    statuses = [api.get("/api/v1/entries").status_code for _ in range(6)]
    failures = [status for status in statuses if status != 200]
    assert all(status == 503 for status in failures), statuses
    # Each pool (the threads', the event loop's) is replaced after its first failure.
    assert len(failures) <= 2, statuses
    assert statuses[-3:] == [200, 200, 200], statuses
    saved = api.put("/api/v1/entries/2026-03-04", json={"pain": 25})
    assert saved.status_code == 201
