"""The app served by uvicorn in its own process, for tests that need a real server.

The server can be stopped and started again on the same port and database: browser tests
take the network away that way, and crash tests kill it with SIGKILL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """uvicorn serving the app on 127.0.0.1, in a child process."""

    def __init__(self, database: Path | str, data_dir: Path) -> None:
        """`database`: a SQLite file, or a database URL (PostgreSQL)."""
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database if isinstance(database, str) else f"sqlite:///{database}"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "browser-test-secret",
            "ENVIRONMENT": "test",
            "DATA_DIR": str(data_dir),
            # Every test account comes from 127.0.0.1; the limit has its own tests.
            "REGISTRATIONS_PER_ADDRESS": "100000",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        # Generous: on a loaded machine (six test runs on two cores) an import alone takes 15 s.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/login", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the app did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def kill(self) -> None:
        """SIGKILL: the process dies at once, as in a crash or a power cut of the process."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def register(self, email: str) -> None:
        response = httpx.post(
            f"{self.url}/api/v1/auth/register",
            json={"email": email, "password": PASSWORD},
            timeout=30,
        )
        assert response.status_code == 201, response.text

    def api(self, email: str) -> httpx.Client:
        token = httpx.post(
            f"{self.url}/api/v1/auth/token",
            json={"email": email, "password": PASSWORD},
            timeout=30,
        ).json()["access_token"]
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
