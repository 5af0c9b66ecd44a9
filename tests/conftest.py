"""A fresh, migrated database for every test, and clients that sign in the normal way.

SQLite by default: each test gets its own copy of a database migrated once per run. With
TEST_POSTGRES_URL set (`make test` does so when a PostgreSQL server answers), the same tests
run against PostgreSQL instead: migrated once per run, every table emptied after each test.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlmodel import Session, SQLModel, create_engine

from app.config import Settings
from app.db import _sqlite_pragmas
from app.main import create_app
from app.models import User
from app.services import accounts
from tests.factories import FAST_HASHER, PASSWORD, make_user
from tests.live_server import LiveServer

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + POSTGRES_URL if POSTGRES_URL else 'SQLite'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On SQLite, leave out the tests of races only PostgreSQL can have (its own pass runs them)."""
    if POSTGRES_URL:
        return
    races = [item for item in items if item.get_closest_marker("postgres_only")]
    if races:
        config.hook.pytest_deselected(items=races)
        items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]


def migrate(database_url: str, revision: str = "head", *, down: bool = False) -> None:
    """Migrate `database_url` up to `revision` (by default every migration, as `alembic upgrade
    head` does), or down to it."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logging"] = False
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        from app.config import get_settings

        get_settings.cache_clear()
        try:
            (command.downgrade if down else command.upgrade)(config, revision)
        finally:
            get_settings.cache_clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap Argon2id parameters for the test run (see tests/factories.py)."""
    monkeypatch.setattr(accounts, "_hasher", FAST_HASHER)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", FAST_HASHER.hash("not a real password"))


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated to head; each test gets its own copy of the file."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


def reset_postgres_schema(url: str, schema: str = "public") -> None:
    """Drop everything in `schema` of the PostgreSQL database at `url`."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> str:
    """The PostgreSQL test database, emptied and migrated once for the whole run."""
    reset_postgres_schema(POSTGRES_URL)
    migrate(POSTGRES_URL)
    return POSTGRES_URL


def _empty_postgres(engine: Engine) -> None:
    tables = ", ".join(f'"{name}"' for name in SQLModel.metadata.tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    if POSTGRES_URL:
        database_url = request.getfixturevalue("postgres_database")
    else:
        database = tmp_path / "diary.db"
        shutil.copy(request.getfixturevalue("migrated_template"), database)
        database_url = f"sqlite:///{database}"
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",
        data_dir=tmp_path,
        # Every test account comes from one address; the limit has its own tests.
        registrations_per_address=100_000,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    if POSTGRES_URL:
        _empty_postgres(application.state.engine)
    application.state.database.dispose()


@pytest.fixture
def session(app: FastAPI, settings: Settings) -> Iterator[Session]:
    """The test's own view of the database, beside the app's.

    The app's engine begins every transaction IMMEDIATE (it takes SQLite's write lock), so a
    session on it that merely read a row would block every request until the test ended. This
    one runs each statement in autocommit instead: reads never hold a lock and always see what
    the app committed (call `session.expire_all()` before re-reading rows the test already has).
    """
    if settings.is_sqlite:
        engine = create_engine(settings.database_url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(settings.database_url)
    with Session(engine) as db:
        yield db
    engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    """A TestClient that behaves like a signed-in browser: forms carry the CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def get(self, url: str, **kwargs: Any) -> httpx2.Response:
        response = self.client.get(url, **kwargs)
        found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, url: str, data: dict[str, str] | None = None, **kwargs: Any) -> httpx2.Response:
        if not self.csrf:
            self.get("/login")
        form = {"csrf_token": self.csrf, **(data or {})}
        response = self.client.post(url, data=form, follow_redirects=False, **kwargs)
        found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        self.get("/login")
        response = self.post("/login", {"email": email, "password": password})
        assert response.status_code == 303, response.text
        self.get("/today")


@pytest.fixture
def user(session: Session) -> User:
    return make_user(session, email="patient@example.org")


@pytest.fixture
def browser(client: TestClient, user: User) -> Browser:
    signed_in = Browser(client)
    signed_in.sign_in(user.email)
    return signed_in


@pytest.fixture
def api(client: TestClient, user: User) -> TestClient:
    """A client whose requests carry the patient's bearer token."""
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


@pytest.fixture
def live_server(tmp_path: Path, migrated_template: Path) -> Iterator[LiveServer]:
    """The app served by uvicorn in its own process, on a fresh copy of the migrated SQLite."""
    database = tmp_path / "live.db"
    shutil.copy(migrated_template, database)
    server = LiveServer(database, tmp_path)
    server.start()
    yield server
    server.stop()
