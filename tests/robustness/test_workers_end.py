"""The worker processes (PDF, import checks) end with the app's process: a restart leaves
nothing behind."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.live_server import LiveServer

pytestmark = pytest.mark.sqlite_only  # about processes, not the database


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, timeout=10)
    return [int(child) for child in found.stdout.split()]


@pytest.mark.parametrize("ending", ["stop", "kill"])
def test_the_workers_end_when_the_server_does(live_server: LiveServer, ending: str) -> None:
    live_server.register("pdf@example.org")
    with live_server.api("pdf@example.org") as api:
        assert api.put("/api/v1/entries/2026-01-02", json={"pain": 30}).status_code == 201
        pdf = api.get("/api/v1/report.pdf", timeout=60)
        document = api.get("/api/v1/export").json()
        imported = api.post("/api/v1/import", json=document, timeout=60)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert imported.status_code == 200, imported.text
    assert live_server.process is not None
    workers = _children(live_server.process.pid)
    # The two workers (and multiprocessing's resource tracker) run beside the server.
    assert len(workers) >= 3, workers
    live_server.stop() if ending == "stop" else live_server.kill()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.2)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
