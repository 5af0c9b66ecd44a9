"""Benchmark: how long writing a checked 9 MB import holds SQLite's write lock.

While the import is written, every other patient's save waits (SQLite has one writer), so this
time is what a save can wait behind an import (issue 11's budget: a save's p99 <= 100 ms while
imports run). The import is checked first, as the import worker does (`check_import`), then
written as the server writes it (`apply_import`, in the app's write block). Each way is timed
on an idle interpreter and with one other thread running Python all along, as the event loop
does when the server is busy:

- the app's way: a few multi-row INSERTs (app.db `PreparedRows`);
- one INSERT a row (`executemany`), as before: SQLite gives up Python's interpreter lock for
  every row, and with another thread busy each taking back waits for that thread's turn.

Run: .venv/bin/python bench/import_write.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from app.config import Settings  # noqa: E402
from app.db import Database, PreparedRows, make_database  # noqa: E402
from app.models import User  # noqa: E402
from app.services import backup  # noqa: E402
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


def write_time(
    database: Database, settings: Settings, raw: bytes, *, busy: bool, old: bool
) -> float:
    with database.write() as session:
        user = User(email=f"i{time.monotonic_ns()}@example.org", password_hash="x")
        session.add(user)
        session.commit()
    assert user.id is not None
    plan = backup.check_import(settings, user_id=user.id, raw=raw, seal_key="bench")
    if old:
        plan.day_rows = one_row_a_statement(plan.day_rows)
        plan.revision_rows = one_row_a_statement(plan.revision_rows)
    with busy_thread(busy), database.write() as session:
        started = time.perf_counter()
        backup.apply_import(session, user=user, plan=plan)
        return (time.perf_counter() - started) * 1000


def main() -> None:
    raw = nine_megabyte_backup()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        migrate(url)
        settings = Settings(database_url=url, secret_key="bench", data_dir=Path(folder))
        database = make_database(settings)
        print(f"writing a checked {len(raw) / 1e6:.1f} MB import (SQLite), {RUNS} runs each:")
        for old in (False, True):
            for busy in (False, True):
                runs = 1 if old and busy else RUNS  # that one takes about 40 s
                times = [
                    write_time(database, settings, raw, busy=busy, old=old) for _ in range(runs)
                ]
                way = "one INSERT a row (before)" if old else "multi-row INSERTs (the app)"
                load = "another thread busy" if busy else "idle"
                print(
                    f"  {way:28} {load:20} write lock held: median "
                    f"{statistics.median(times):8.1f} ms, longest {max(times):8.1f} ms"
                )
        database.dispose()


if __name__ == "__main__":
    main()
