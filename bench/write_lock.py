"""Benchmark: how long the largest writes hold SQLite's write lock.

While one of them writes, every other patient's save waits (SQLite has one writer), so this
time is what a save can wait behind it (issue 11's budget: a save's p99 <= 100 ms while
imports run). Each write is timed in the app's write block, on an idle interpreter and with one
other thread running Python all along, as the event loop does when the server is busy (the
interpreter's switch interval set as the server sets it):

- a checked 9 MB import (`apply_import`; checked first, as the import worker does), written
  the app's way, a few multi-row INSERTs (app.db `PreparedRows`), and as it was written before,
  one INSERT a row (`executemany`): SQLite gives up Python's interpreter lock for every row,
  and with another thread busy each taking back waits for that thread's turn;
- a batch of new days (`save_batch`, as POST /api/v1/entries/batch does): one statement
  reads all its days, then each new day is one INSERT; of 100 days, the most a batch may
  hold, and of 1,000, the most it could hold before.

Run: .venv/bin/python bench/write_lock.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from app.config import Settings  # noqa: E402
from app.db import Database, PreparedRows, make_database  # noqa: E402
from app.main import SWITCH_INTERVAL_SECONDS  # noqa: E402
from app.models import User  # noqa: E402
from app.schemas import DatedEntryAnswers  # noqa: E402
from app.services import backup, entries  # noqa: E402
from bench.write_path import nine_megabyte_backup  # noqa: E402
from tests.conftest import migrate  # noqa: E402

RUNS = 3


def one_row_a_statement(prepared: PreparedRows | None) -> PreparedRows | None:
    """The same rows as one INSERT a row (an `executemany`), as the app wrote them before."""
    if prepared is None or not prepared.statements:
        return prepared
    head, rows = prepared.statements[0][0].split(" VALUES ", 1)
    width = rows[: rows.index(")")].count("?")  # the first row's parameters: one a column
    one_row = f"{head} VALUES (" + ", ".join("?" * width) + ")"
    each = [
        tuple(values[start : start + width])
        for _, values in prepared.statements
        for start in range(0, len(values), width)
    ]
    return PreparedRows([(one_row, each)])


@contextmanager
def busy_thread(busy: bool) -> Iterator[None]:
    """Another thread running Python all along (or nothing, when `busy` is false)."""
    stop = threading.Event()

    def spin() -> None:
        count = 0
        while not stop.is_set():
            for _ in range(1000):
                count += 1

    spinner = threading.Thread(target=spin, daemon=True)
    if busy:
        spinner.start()
    try:
        yield
    finally:
        stop.set()
        if busy:
            spinner.join(timeout=10)


def new_patient(database: Database) -> User:
    with database.write() as session:
        user = User(email=f"p{time.monotonic_ns()}@example.org", password_hash="x")
        session.add(user)
        session.commit()
    assert user.id is not None
    return user


def lock_held(database: Database, write: Callable[[Session], None], *, busy: bool) -> float:
    """Milliseconds from taking the write lock to letting it go, for `write`."""
    with busy_thread(busy):
        started = time.perf_counter()
        with database.write() as session:
            write(session)
        return (time.perf_counter() - started) * 1000


def import_write(database: Database, settings: Settings, raw: bytes, *, old: bool) -> Callable:
    user = new_patient(database)
    assert user.id is not None
    plan = backup.check_import(settings, user_id=user.id, raw=raw, seal_key="bench")
    if old:
        plan.day_rows = one_row_a_statement(plan.day_rows)
        plan.revision_rows = one_row_a_statement(plan.revision_rows)
    return lambda session: backup.apply_import(session, user=user, plan=plan)


def batch_write(database: Database, days: int) -> Callable:
    user = new_patient(database)
    batch = [
        DatedEntryAnswers(
            date=date(2023, 1, 1) + timedelta(days=offset),
            pain=offset % 101,
            fatigue=40,
            notes="Walked to the shop.",
        )
        for offset in range(days)
    ]

    def write(session: Session) -> None:
        entries.save_batch(session, user=user, entries=batch, source="api")

    return write


def report(label: str, times: list[float]) -> None:
    print(f"  {label:58} median {statistics.median(times):7.1f} ms, longest {max(times):7.1f} ms")


def main() -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    raw = nine_megabyte_backup()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        migrate(url)
        settings = Settings(database_url=url, secret_key="bench", data_dir=Path(folder))
        database = make_database(settings)
        print(f"SQLite's write lock held, {RUNS} runs each:")
        for busy in (False, True):
            load = "another thread busy" if busy else "idle"
            for old in (False, True):
                way = "one INSERT a row, as before" if old else "multi-row INSERTs"
                times = [
                    lock_held(database, import_write(database, settings, raw, old=old), busy=busy)
                    for _ in range(RUNS)
                ]
                report(f"{len(raw) / 1e6:.1f} MB import, {way}, {load}", times)
            for days in (100, 1000):
                times = [
                    lock_held(database, batch_write(database, days), busy=busy) for _ in range(RUNS)
                ]
                report(f"batch of {days} new days, {load}", times)
        database.dispose()


if __name__ == "__main__":
    main()
