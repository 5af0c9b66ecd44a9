"""The database engines and the two ways a request uses them: `database.read()` and
`database.write()`.

Every unit of database work is one `with` block inside one function call, so it runs from its
first statement to its commit in one thread: a transaction (and on SQLite the app's write lock)
is never held across an `await`, a thread hand-off or a wait for a thread. Routes receive the
`Database` (an async dependency, no thread) and open their blocks themselves; dependencies that
look something up (the signed-in patient, an owned row) open and close their own short read.

Small, bounded units of work on SQLite (a diary save, the bearer-token lookup) may instead run
right on the event loop: `await database.run_read(work)` / `run_write(work)`. Handing a unit
to a worker thread and back costs more than the unit itself (SQLite is a library in this
process; the thread hand-offs and the contention for the interpreter lock they bring cut save
throughput by a third, measured with bench/write_path.py). They run inline only when nothing
can make them wait: the write lock is free right now (never waited for on the loop), and their
connections have no busy timeout, so another process's writer answers "busy" at once instead of
stalling the loop; then the unit goes to a worker thread after all, as every other unit does.
Commits that fsync (`sqlite_synchronous=FULL`) always use worker threads. On PostgreSQL these
units run on the event loop too, through the driver's asynchronous connections (`loop_engine`):
the same code, but each statement's network round trip lets the loop serve others meanwhile
instead of holding a worker thread (SQLAlchemy's `AsyncConnection.run_sync`).

SQLite allows one writer at a time. Left to itself, a second writer waits in SQLite's busy
handler, which sleeps and polls (long tails under load), and a transaction that read first and
writes later can fail with "database is locked" when another write landed in between. So on
SQLite `write()` takes this process's write lock, waiting at most `write_wait_seconds` (then
`DatabaseBusy`: the app answers 503 with Retry-After), and begins IMMEDIATE. Reads never wait
for anyone (WAL). PostgreSQL needs no lock; its pool holds as many connections as the app lets
requests run at once (`app.admission`), so no request ever waits for a connection either.

SQLite writes into a log beside the database file (WAL) and copies the log into the file now
and then: a checkpoint. Left to SQLite, the commit that fills the log past 1,000 pages does the
copying, holding the write lock meanwhile: an import's commit took 30–40 ms longer, every few
hundred saves one took several milliseconds longer, and every writer waited. The app's
connections leave it to `WalCheckpointer`, a thread of its own that copies what is committed
without blocking readers or writers.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final, TypeVar

from fastapi import Depends, HTTPException, Request
from sqlalchemy import Connection, Engine, event, make_url, text
from sqlalchemy import insert as sa_insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import class_mapper, make_transient_to_detached
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel, create_engine
from starlette.concurrency import run_in_threadpool

from app.config import Settings

logger = logging.getLogger(__name__)

# Log pages after which SQLite itself checkpoints inside a commit, on the app's connections: a
# backstop for when no WalCheckpointer runs (a script, a test without the app's lifespan).
BACKSTOP_CHECKPOINT_PAGES = 20_000


class DatabaseBusy(Exception):
    """The database could not take this write in time; the client should retry shortly."""

    retry_after = 1


Result = TypeVar("Result")
# One statement, one round trip: no BEGIN and ROLLBACK around a lookup.
AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


@dataclass
class Database:
    """The engines of one app: `reader` for reading blocks, `writer` for writing ones."""

    reader: Engine
    writer: Engine
    # Serialises this process's SQLite writers without SQLite's sleep-and-poll busy handler.
    write_lock: threading.Lock | None = field(default=None)
    write_wait_seconds: float = 5.0
    # SQLite engines whose connections never wait for another process (busy_timeout 0), for
    # units run on the event loop (the reader in autocommit); None where units always go to a
    # worker thread.
    inline_reader: Engine | None = None
    inline_writer: Engine | None = None
    # PostgreSQL: the reader's pool in autocommit, for one-statement lookups in a thread.
    quick_reader: Engine | None = None
    # PostgreSQL: asynchronous connections for `run_read` and `run_write` on the event loop.
    loop_engine: AsyncEngine | None = None
    # PostgreSQL: the same pool in autocommit, for `run_read` (made once: making it takes
    # about 80 µs, on every API request).
    loop_reader: AsyncEngine | None = None
    # SQLite: copies the write-ahead log into the database file, once `start()` is called.
    checkpointer: WalCheckpointer | None = None

    def start(self) -> None:
        """Start the background work the app's lifespan owns (the SQLite checkpointer)."""
        if self.checkpointer is not None:
            self.checkpointer.start()

    async def run_read(self, work: Callable[[Connection], Result]) -> Result:
        """`work(connection)` for one lookup: on the event loop when that cannot wait (SQLite
        in WAL mode: a reader waits for nobody), else in a worker thread. `work` must be small
        and bounded: one indexed query (it runs in autocommit, without BEGIN and ROLLBACK, so
        two queries would not share a snapshot). A connection, not a session: a lookup on
        every API request does without the session's own work."""
        if self.inline_reader is not None:
            with self.inline_reader.connect() as connection:
                return work(connection)
        if self.loop_reader is not None:
            async with self.loop_reader.connect() as connection:
                return await connection.run_sync(work)
        return await run_in_threadpool(self._read_work, work)

    async def run_write(self, work: Callable[[Connection], Result]) -> Result:
        """`work(connection)` in one writing transaction, committed when it returns: on the
        event loop when the write lock is free right now and SQLite takes the write at once,
        else in a worker thread (which waits for the lock as `write()` does). `work` must be
        small and bounded, like one diary save. A connection, not a session: a save on every
        API request does without the session's own work (about a tenth of a save's time)."""
        lock = self.write_lock
        if self.inline_writer is not None and lock is not None and lock.acquire(blocking=False):
            try:
                with self.inline_writer.connect() as connection:
                    try:
                        connection.begin()  # BEGIN IMMEDIATE: another process's writer?
                    except OperationalError:
                        pass  # it holds SQLite's lock: wait for it in a thread, below
                    else:
                        result = work(connection)
                        connection.commit()
                        return result
            finally:
                lock.release()
        if self.loop_engine is not None:
            async with self.loop_engine.begin() as connection:
                # Its statements awaited on the async driver (AsyncConnection.run_sync).
                return await connection.run_sync(work)
        return await run_in_threadpool(self._write_work, work)

    def _read_work(self, work: Callable[[Connection], Result]) -> Result:
        # Autocommit where the engine has it (PostgreSQL): one statement, one round trip,
        # without BEGIN and ROLLBACK around it.
        with (self.quick_reader or self.reader).connect() as connection:
            return work(connection)

    def _write_work(self, work: Callable[[Connection], Result]) -> Result:
        with self.write() as session:
            result = work(session.connection())
            session.commit()
            return result

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session that only reads: it never takes (or waits for) the write lock."""
        with Session(self.reader, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self, *, wait_seconds: float | None = None) -> Iterator[Session]:
        """One writing unit of work. Services commit what they change; whatever is left
        uncommitted when the block ends (an error) is rolled back. On SQLite the write lock
        is held for the block only; waiting longer than `wait_seconds` (by default
        `write_wait_seconds`) raises DatabaseBusy."""
        lock = self.write_lock
        wait = self.write_wait_seconds if wait_seconds is None else wait_seconds
        if lock is not None and not lock.acquire(timeout=wait):
            raise DatabaseBusy()
        try:
            # Rows keep their values after a commit: handlers return what they just saved
            # without reading it back.
            with Session(self.writer, expire_on_commit=False) as session:
                yield session
        finally:
            if lock is not None:
                lock.release()

    async def aclose(self) -> None:
        """`dispose()`, from the event loop the asynchronous connections were used on."""
        if self.loop_engine is not None:
            await self.loop_engine.dispose()
            self.loop_engine = self.loop_reader = None
        self.dispose()

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        if self.loop_engine is not None:  # not closed by aclose() (no lifespan ran)
            asyncio.run(self.loop_engine.dispose())
            self.loop_engine = self.loop_reader = None
        engines = {self.reader, self.writer, self.inline_reader, self.inline_writer}
        engines.discard(self.quick_reader)  # shares the reader's pool
        for engine in engines:
            if engine is not None:
                engine.dispose()


class WalCheckpointer:
    """Copies committed pages from SQLite's write-ahead log into the database file, every
    `interval_seconds`, in a thread of its own (SQLite works with the interpreter lock
    released). PASSIVE: it copies what no reader still needs and never waits for, or blocks,
    a reader or a writer; what it could not copy, the next round does."""

    def __init__(self, engine: Engine, interval_seconds: float = 0.5) -> None:
        self.engine = engine
        self.interval_seconds = interval_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()  # an app may serve again after a stop (a test does)
            self._thread = threading.Thread(
                target=self._run, name="sqlite-checkpointer", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def checkpoint(self) -> tuple[int, int]:
        """One round: (pages in the log, pages of it now in the database file)."""
        with self.engine.connect() as connection:
            row = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        return int(row[1]), int(row[2])

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_seconds):
            try:
                self.checkpoint()
            except SQLAlchemyError as error:  # a busy or vanished file: try again next round
                logger.warning("SQLite checkpoint failed: %s", type(error).__name__)


def make_database(settings: Settings) -> Database:
    if not settings.is_sqlite:
        engine = make_engine(settings)
        quick = engine.execution_options(**AUTOCOMMIT)
        loop_engine = make_loop_engine(settings)
        return Database(
            reader=engine,
            writer=engine,
            quick_reader=quick,
            loop_engine=loop_engine,
            loop_reader=loop_engine.execution_options(**AUTOCOMMIT),
        )
    # A commit that fsyncs (FULL) takes milliseconds: never on the event loop.
    inline = settings.sqlite_synchronous == "NORMAL"
    backstop = BACKSTOP_CHECKPOINT_PAGES
    reader = make_engine(settings)
    return Database(
        reader=reader,
        writer=make_engine(settings, immediate=True, checkpoint_pages=backstop),
        write_lock=threading.Lock(),
        write_wait_seconds=settings.write_wait_seconds,
        inline_reader=make_engine(settings, autocommit=True, wait_ms=0) if inline else None,
        inline_writer=(
            make_engine(settings, immediate=True, wait_ms=0, checkpoint_pages=backstop)
            if inline
            else None
        ),
        checkpointer=WalCheckpointer(reader),
    )


def make_engine(
    settings: Settings,
    *,
    immediate: bool = False,
    autocommit: bool = False,
    wait_ms: int = 15_000,
    checkpoint_pages: int = 1000,
    pooled: bool = True,
) -> Engine:
    """An engine for the configured database, with timeouts on connecting and on statements.
    On SQLite, a commit that leaves more than `checkpoint_pages` in the write-ahead log
    checkpoints (SQLite's default: 1,000).

    SQL parameters (emails, hashes, answers) never appear in error messages or logs.
    """
    pool: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    if not settings.is_sqlite:
        options = _postgres_engine_options(settings)
        if not pooled:
            options = {k: v for k, v in options.items() if not k.startswith("pool_")}
            options.pop("max_overflow")
        return create_engine(settings.database_url, **options, **pool)
    path = settings.database_url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        settings.database_url,
        connect_args={"check_same_thread": False, "timeout": 15},
        hide_parameters=True,
        **pool,
    )
    synchronous = settings.sqlite_synchronous

    def set_pragmas(dbapi_connection: Any, record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, record, synchronous=synchronous, wait_ms=wait_ms)
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint_pages)}")

    event.listen(engine, "connect", set_pragmas)
    # pysqlite's own transaction handling is switched off in _sqlite_pragmas; we begin
    # ourselves, IMMEDIATE on the writer so its write lock is taken before anything is read.
    # In `autocommit`, each statement is a transaction of its own (one-statement lookups).
    if not autocommit:
        event.listen(engine, "begin", _begin_immediate if immediate else _begin_deferred)
    return engine


_WORKER_ENGINES: dict[str, Engine] = {}


def worker_engine(settings: Settings) -> Engine:
    """In a worker process (app.workers): an engine for reading the configured database, one
    per database. It keeps no connection open between uses (a worker may serve a test
    process's many databases, and PostgreSQL counts every open connection)."""
    engine = _WORKER_ENGINES.get(settings.database_url)
    if engine is None:
        engine = make_engine(settings, pooled=False)
        _WORKER_ENGINES[settings.database_url] = engine
    return engine


def make_loop_engine(settings: Settings) -> AsyncEngine:
    """PostgreSQL through psycopg's asynchronous connections, with the same pool size and
    timeouts as `make_engine`'s (a pool of its own: the app holds two, see README)."""
    url = make_url(settings.database_url).set(drivername="postgresql+psycopg")
    return create_async_engine(url, **_postgres_engine_options(settings))


def _postgres_engine_options(settings: Settings) -> dict[str, Any]:
    # Ours are added to any server options the URL carries (a search_path, say).
    given = make_url(settings.database_url).query.get("options", "")
    options = " ".join(
        [
            *([given] if isinstance(given, str) else list(given)),
            f"-c statement_timeout={settings.database_statement_timeout_ms}",
            f"-c lock_timeout={settings.database_statement_timeout_ms}",
            "-c idle_in_transaction_session_timeout=60000",
        ]
    ).strip()
    return {
        # No ping before every use (a round trip per block): a connection the server dropped
        # (a restart) is replaced when next used, at worst after one request answered 503 with
        # Retry-After (tests/robustness/test_postgres_reconnect.py).
        "pool_pre_ping": False,
        # Every request the app admits at once can hold one connection (see app.admission),
        # plus a few for background work; a wait for one is a fault, answered 503 quickly.
        "pool_size": settings.database_pool_size,
        "max_overflow": 4,
        "pool_timeout": settings.database_pool_timeout_seconds,
        "hide_parameters": True,
        "connect_args": {
            "connect_timeout": settings.database_connect_timeout_seconds,
            "options": options,
        },
    }


def _sqlite_pragmas(
    dbapi_connection: Any, _record: Any, *, synchronous: str = "NORMAL", wait_ms: int = 15_000
) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Only another process's writer (a script, the reminder sender) is waited for here; this
    # process's writers queue on the write lock. The event loop's connections wait for no one.
    cursor.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
    # NORMAL (the default): in WAL mode a commit survives the app or the server process being
    # killed; a power cut or kernel crash may undo the last few. FULL also survives those, at
    # an fsync per save (about 3 ms here, measured with bench/save_entry.py: over the budget).
    cursor.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'FULL' else 'NORMAL'}")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    _BEGIN_IMMEDIATE.run(connection, {})


def _begin_deferred(connection: Connection) -> None:
    _BEGIN.run(connection, {})


Row = TypeVar("Row", bound=SQLModel)


@dataclass(frozen=True)
class PreparedRows:
    """Rows for a multi-row INSERT, every value already in the database driver's form.

    Turning values into that form (JSON text, dates) is most of the cost of a large insert;
    done beforehand, outside any write block, the write itself is a few statements. An import
    of five years of days holds SQLite's write lock for tens of milliseconds, not hundreds.

    On SQLite each statement inserts as many rows as SQLite takes parameters for (thousands),
    not one row each as an `executemany` does: SQLite runs each row's insert with Python's
    interpreter lock released and then takes it back, and while another thread is busy (the
    event loop) each taking back waits for that thread's turn to end. A 9 MB import (5,500
    rows) then held the write lock for about 4 s with one thread busy all along, against
    about 50 ms now (bench/write_lock.py).
    """

    # (SQL, parameters): on SQLite a tuple of the statement's parameters; elsewhere one
    # statement with a list of parameter dicts, one a row (an `executemany`, which psycopg
    # sends together).
    statements: list[tuple[str, Any]]

    def insert(self, session: Session) -> None:
        connection = session.connection()
        for sql, parameters in self.statements:
            if parameters:
                connection.exec_driver_sql(sql, parameters)


# The most parameters one multi-row INSERT takes on SQLite: SQLite allows 32,766 by default
# (250,000 as Debian builds it), and 30,000 keep a statement's SQL text to about 100 KB (SQLite
# allows 1 MB by default).
MAX_PARAMETERS = 30_000


def prepare_rows(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]]
) -> PreparedRows:
    """`rows` of `model`'s table (column name → value, the same columns in every row), ready
    for `PreparedRows.insert` on the database `session` uses."""
    dialect = session.get_bind().dialect
    table = sa_inspect(model).local_table
    columns = list(rows[0]) if rows else []
    processors = {}
    for name in columns:
        column_type = table.c[name].type.dialect_impl(dialect)
        processors[name] = column_type.bind_processor(dialect) or _unchanged
    if dialect.name != "sqlite" or not columns:
        compiled = sa_insert(table).compile(dialect=dialect, column_keys=columns)
        converted = [{name: processors[name](row[name]) for name in columns} for row in rows]
        return PreparedRows([(str(compiled), converted)])
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    parameters = min(driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), MAX_PARAMETERS)
    per_statement = max(1, parameters // len(columns))
    quote = dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in columns)}) "
    one_row = "(" + ", ".join("?" * len(columns)) + ")"
    statements = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values = tuple(processors[name](row[name]) for row in chunk for name in columns)
        statements.append((head + "VALUES " + ", ".join([one_row] * len(chunk)), values))
    return PreparedRows(statements)


def _unchanged(value: Any) -> Any:
    return value


def as_loaded(model: type[Row], values: Mapping[Any, Any]) -> Row:
    """A `model` object holding `values` (a row read with a Core statement) as a query would
    have loaded it, its session since closed: detached, with nothing to write. A few
    microseconds, where `model(**values)` takes about 80 (SQLModel sets each field in turn)
    and an ORM query costs about 100 more than the same Core one: for the reads every save
    makes (the bearer token's patient, the day's row). The row's columns must be named as the
    model's fields, as they are in app.models."""
    instance: Row = class_mapper(model).class_manager.new_instance()
    instance.__dict__.update(values)
    make_transient_to_detached(instance)
    return instance


@dataclass
class _DriverForm:
    """A statement as one database's driver takes it (see `DirectStatement`)."""

    sql: str
    # The statement's parameters in the order the SQL names them (SQLite: `?` placeholders),
    # or None where the driver takes them by name (psycopg).
    order: tuple[str, ...] | None
    fixed: dict[str, Any]  # what the statement carries itself (a literal)
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]  # bound values to driver form
    columns: tuple[Any, ...]  # what a row holds; none for a statement that returns no rows
    row: Callable[[Sequence[Any]], Any] | None  # a result row to a named tuple
    # Driver values to Python ones, by column; set at the first run, from the driver's type
    # codes for the columns (psycopg's numbers need them).
    results: tuple[tuple[int, Callable[[Any], Any]], ...] | None = None

    def parameters(self, values: Mapping[str, Any]) -> Any:
        given = dict(self.fixed)
        given.update(values)
        for name, process in self.processors:
            given[name] = process(given[name])
        return given if self.order is None else tuple(given[name] for name in self.order)

    def read(self, cursor: Any, dialect: Any) -> list[Any]:
        if self.row is None:
            return []
        if self.results is None:
            results = []
            for index, column in enumerate(self.columns):
                type_code = cursor.description[index][1]
                process = column.type.dialect_impl(dialect).result_processor(dialect, type_code)
                if process is not None:
                    results.append((index, process))
            self.results = tuple(results)
        rows = cursor.fetchall()
        if self.results:
            rows = [list(row) for row in rows]
            for row in rows:
                for index, process in self.results:
                    row[index] = process(row[index])
        return [self.row(row) for row in rows]


class DirectStatement:
    """A Core statement run on the database driver's own cursor, for the few statements every
    diary save runs (BEGIN, the bearer token's patient, the catalogue, the day's row, its kept
    version and its update).

    SQLAlchemy's execution layer costs about 70 µs a statement on this machine, where SQLite
    itself takes 10–20: most of a save's time. Here the statement is compiled once for each
    database, with the converters its column types use (JSON, dates), and then each run is
    the driver's `execute` and those converters. Errors are SQLAlchemy's (`DBAPIError`, SQL
    parameters hidden), a connection the database dropped is invalidated, and the engine's
    `before_cursor_execute` and `after_cursor_execute` listeners are called (with no
    execution context), so what watches statements still sees these.

    `columns`: for an INSERT or UPDATE, the columns it sets (every run sets the same ones).
    Rows come back as named tuples, in the statement's column order.
    """

    def __init__(self, statement: Any, *, columns: Sequence[str] = ()) -> None:
        self.statement = statement
        self.columns = list(columns)
        self._forms: dict[str, _DriverForm] = {}

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        return self._execute(connection, values)

    def first(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        rows = self._execute(connection, values)
        return rows[0] if rows else None

    def run(self, connection: Connection, values: Mapping[str, Any]) -> None:
        self._execute(connection, values)

    def _form(self, dialect: Any) -> _DriverForm:
        form = self._forms.get(dialect.name)
        if form is None:
            form = self._forms[dialect.name] = self._compile(dialect)
        return form

    def _compile(self, dialect: Any) -> _DriverForm:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.columns or None)
        fixed, processors = {}, []
        for name, bind in compiled.binds.items():
            assert not bind.expanding and not bind.literal_execute, name
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if not bind.required:
                fixed[name] = bind.effective_value
            if process is not None:
                processors.append((name, process))
        columns = tuple(getattr(self.statement, "exported_columns", ()))
        row = None
        if columns:
            row_type: Any = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]
            row = row_type._make
        return _DriverForm(
            sql=compiled.string,
            order=tuple(compiled.positiontup) if dialect.positional else None,
            fixed=fixed,
            processors=tuple(processors),
            columns=columns,
            row=row,
        )

    def _execute(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        dialect = connection.dialect
        form = self._form(dialect)
        parameters = form.parameters(values)
        driver = connection.connection.dbapi_connection
        assert driver is not None
        cursor = driver.cursor()
        try:
            for listener in connection.dispatch.before_cursor_execute:
                listener(connection, cursor, form.sql, parameters, None, False)
            cursor.execute(form.sql, parameters)
            for listener in connection.dispatch.after_cursor_execute:
                listener(connection, cursor, form.sql, parameters, None, False)
            return form.read(cursor, dialect)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, driver, cursor):
                connection.invalidate(error)
            raise DBAPIError.instance(
                form.sql,
                None,
                error,
                dialect.loaded_dbapi.Error,
                hide_parameters=True,
                dialect=dialect,
            ) from error
        finally:
            cursor.close()


# Every writing block begins with one of these (see `make_engine`).
_BEGIN_IMMEDIATE: Final = DirectStatement(text("BEGIN IMMEDIATE"))
_BEGIN: Final = DirectStatement(text("BEGIN"))


def fresh(session: Session, row: Row) -> Row:
    """`row` (read by a dependency, in its own short session) as this session holds it now:
    the current version, which this transaction may change. 404 when it was deleted since."""
    current = session.get(type(row), row.id)  # type: ignore[attr-defined]
    if current is None:
        raise HTTPException(status_code=404, detail="It was deleted meanwhile")
    return current


async def get_database(request: Request) -> Database:
    """The app's engines. Async on purpose: handing it over needs no thread."""
    database: Database = request.app.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]
