"""A stalled upload holds up nobody: bodies are received before the write lock is taken."""

from __future__ import annotations

import socket

import pytest

from tests.live_server import LiveServer

pytestmark = pytest.mark.sqlite_only  # the single-writer lock is SQLite's


def test_a_stalled_upload_does_not_block_another_patient_s_save(live_server: LiveServer) -> None:
    live_server.register("stalling@example.org")
    live_server.register("saving@example.org")
    with live_server.api("stalling@example.org") as stalling:
        authorization = str(stalling.headers["authorization"]).encode()
    body = b'{"format": "ldn-diary-backup", "version": 1}'
    with socket.create_connection(("127.0.0.1", live_server.port)) as upload:
        upload.sendall(
            b"POST /api/v1/import HTTP/1.1\r\nHost: x\r\nAuthorization: "
            + authorization
            + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        upload.sendall(body[:5])  # and then nothing more, for as long as it likes

        with live_server.api("saving@example.org") as api:
            response = api.put("/api/v1/entries/2026-01-10", json={"pain": 3}, timeout=10)

    assert response.status_code == 201


def test_a_body_larger_than_its_route_takes_is_refused(live_server: LiveServer) -> None:
    """Only an import takes a backup's 11 MB; any other route refuses more than 2 MB."""
    email = "large@example.org"
    live_server.register(email)
    with live_server.api(email) as api:
        batch = api.post(
            "/api/v1/entries/batch",
            content=b"x" * (2 * 1024 * 1024 + 1),
            headers={"Content-Type": "application/json"},
        )
        backup = api.post(
            "/api/v1/import",
            content=b"x" * (3 * 1024 * 1024),
            headers={"Content-Type": "application/json"},
        )
    assert batch.status_code == 413
    assert "at most 2 MB" in batch.json()["detail"]
    assert backup.status_code == 422  # read, and refused as a backup: not too large

    with live_server.api(email) as api:
        response = api.post(
            "/api/v1/import",
            content=b"x" * (11 * 1024 * 1024 + 1),
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert "at most 11 MB" in response.json()["detail"]
    assert response.headers["x-content-type-options"] == "nosniff"
