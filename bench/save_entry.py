"""Benchmark (SPEC §11): saving an entry, server side, 20 concurrent clients, SQLite.

Serves the app with uvicorn on 127.0.0.1 (a temporary SQLite database migrated with Alembic)
and runs 20 client threads, each with its own account, that PUT diary days. Prints the
server-side time of each save — from the request reaching the app to its last byte, so any
wait for SQLite's single writer is included — as p50 and p99 (budget p50 <= 5 ms,
p99 <= 25 ms), in two runs:

- paced: every client saves every PACE_MS (default 250 ms: 80 saves a second in all, far more
  than patients logging their day produce), the load the budget is about;
- flat out: every client saves again as soon as its last save returns. SQLite has one writer,
  so here the latency is mostly queueing: 20 x the time of one save. Throughput is printed.

Run: .venv/bin/python bench/save_entry.py
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # noqa: E402

from app.config import Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from tests.conftest import migrate  # noqa: E402

CLIENTS = int(os.environ.get("CLIENTS", "20"))
SAVES_EACH = 60
PACE_MS = float(os.environ.get("PACE_MS", "250"))
PASSWORD = "a long bench passphrase"


class ServerTiming:
    """Records how long the app takes for each PUT, from its start to the last body byte."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.durations: list[float] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/__bench__/durations":
            # The bench's own door into this process: hand over the timings, then reset.
            body = json.dumps(self.durations).encode()
            self.durations = []
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] != "http" or scope["method"] != "PUT":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.durations.append((time.perf_counter() - started) * 1000)

        await self.app(scope, receive, timed_send)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def serve(url: str, folder: str, port: int) -> None:
    """The server process: the app behind the timing wrapper, on its own interpreter."""
    app = create_app(Settings(database_url=url, secret_key="bench", data_dir=Path(folder)))
    uvicorn.run(ServerTiming(app), host="127.0.0.1", port=port, log_level="warning")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        migrate(url)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        # The server gets its own process, so the 20 client threads here do not compete with
        # it for the interpreter lock and inflate its timings.
        server = multiprocessing.get_context("spawn").Process(
            target=serve, args=(url, folder, port), daemon=True
        )
        server.start()
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/login")
                break
            except httpx.HTTPError:
                time.sleep(0.1)

        tokens = []
        for index in range(CLIENTS):
            account = {"email": f"bench{index}@example.org", "password": PASSWORD}
            httpx.post(f"{base}/api/v1/auth/register", json=account).raise_for_status()
            token = httpx.post(f"{base}/api/v1/auth/token", json=account).json()["access_token"]
            tokens.append(token)

        results = {}
        for label, pace in (("paced", PACE_MS / 1000), ("flat out", 0.0)):
            httpx.get(f"{base}/__bench__/durations")
            started = time.perf_counter()
            _run_clients(base, tokens, pace)
            elapsed = time.perf_counter() - started
            results[label] = (httpx.get(f"{base}/__bench__/durations").json(), elapsed)
        server.terminate()
        server.join()

    print(f"{CLIENTS} concurrent clients, {SAVES_EACH} saves each (new days and replacements)")
    for label, (saves, elapsed) in results.items():
        print(
            f"{label:>9}: server side p50 {statistics.median(saves):6.1f} ms, "
            f"p99 {percentile(saves, 0.99):6.1f} ms, {len(saves) / elapsed:5.0f} saves/s"
            + ("   (budget p50 <= 5 ms, p99 <= 25 ms)" if label == "paced" else "")
        )


def _run_clients(base: str, tokens: list[str], pace: float) -> None:
    barrier = threading.Barrier(len(tokens))

    def client(index: int, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers) as http:
            barrier.wait()
            # Spread the paced clients over the interval instead of firing in lockstep.
            time.sleep(pace * index / len(tokens))
            for offset in range(SAVES_EACH):
                started = time.perf_counter()
                day = (date.today() - timedelta(days=offset % 30)).isoformat()
                body = {"pain": offset % 101, "fatigue": 40, "side_effects": {"nausea": 1}}
                http.put(f"/api/v1/entries/{day}", json=body).raise_for_status()
                rest = pace - (time.perf_counter() - started)
                if rest > 0:
                    time.sleep(rest)

    workers = [
        threading.Thread(target=client, args=(index, token)) for index, token in enumerate(tokens)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()
