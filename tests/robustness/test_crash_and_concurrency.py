"""Acknowledged writes survive SIGKILL; many writers at once never see "database is locked"."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import httpx
import pytest

from tests.live_server import LiveServer

pytestmark = pytest.mark.sqlite_only  # the embedded database's own guarantees (SPEC §10)


def test_every_acknowledged_write_survives_a_sigkill(live_server: LiveServer) -> None:
    email = "crash@example.org"
    live_server.register(email)
    acknowledged: dict[str, int] = {}
    first = date.today() - timedelta(days=400)
    killed = threading.Event()

    def write_stream() -> None:
        with live_server.api(email) as api:
            for offset in range(400):
                day = (first + timedelta(days=offset)).isoformat()
                try:
                    response = api.put(f"/api/v1/entries/{day}", json={"pain": offset % 101})
                except httpx.HTTPError:
                    return  # the server died mid-request: this write was never acknowledged
                if response.status_code in (200, 201):
                    acknowledged[day] = offset % 101
                if len(acknowledged) == 60:
                    killed.set()

    writer = threading.Thread(target=write_stream)
    writer.start()
    assert killed.wait(timeout=60)
    live_server.kill()  # SIGKILL while the stream is still writing
    writer.join(timeout=30)

    live_server.start()
    with live_server.api(email) as api:
        stored = {row["date"]: row["pain"] for row in api.get("/api/v1/entries").json()}
    assert len(acknowledged) >= 60
    missing = {day: pain for day, pain in acknowledged.items() if stored.get(day) != pain}
    assert missing == {}


def test_twenty_concurrent_writers_never_see_a_locked_database(live_server: LiveServer) -> None:
    writers = 20
    days_each = 15
    for index in range(writers):
        live_server.register(f"writer{index}@example.org")
    failures: list[str] = []
    start = threading.Barrier(writers, timeout=60)

    # Signed in one after another: twenty password checks at once would be a test of the
    # sign-in queue, not of concurrent saves.
    clients = [live_server.api(f"writer{index}@example.org") for index in range(writers)]

    def write(index: int) -> None:
        try:
            with clients[index] as api:
                start.wait(timeout=60)  # fails (BrokenBarrierError), never hangs
                write_days(api, index)
        except (threading.BrokenBarrierError, httpx.HTTPError) as error:
            failures.append(f"writer {index}: {type(error).__name__}")
            start.abort()  # the others stop waiting too

    def write_days(api: httpx.Client, index: int) -> None:
        for offset in range(days_each):
            day = (date.today() - timedelta(days=offset)).isoformat()
            response = api.put(f"/api/v1/entries/{day}", json={"pain": index, "notes": "x"})
            if response.status_code not in (200, 201):
                failures.append(f"{response.status_code} {response.text[:200]}")
            # Half of them also edit what they wrote, so writes to one row interleave too.
            if index % 2:
                again = api.put(f"/api/v1/entries/{day}", json={"pain": index + 1})
                if again.status_code != 200:
                    failures.append(f"{again.status_code} {again.text[:200]}")

    threads = [threading.Thread(target=write, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    for index in (0, 1):
        with live_server.api(f"writer{index}@example.org") as api:
            rows = api.get("/api/v1/entries").json()
        assert len(rows) == days_each
        assert {row["pain"] for row in rows} == {index + (index % 2)}
