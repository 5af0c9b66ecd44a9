"""Settings from the environment, the generated secret key, and SQLite's safety pragmas."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlmodel import Session, select

from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.models import DiaryEntry, User
from tests.factories import make_entry


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET_KEY", "ENVIRONMENT", "DATABASE_URL", "DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def local_settings(data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=f"sqlite:///{data_dir / 'diary.db'}",
        data_dir=data_dir,
    )


def test_a_secret_key_is_generated_once_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    first = local_settings(data_dir).resolved_secret_key()
    second = local_settings(data_dir).resolved_secret_key()

    key_file = data_dir / "secret_key"
    assert key_file.read_text().strip() == first == second
    assert len(first) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert local_settings(tmp_path / "elsewhere").resolved_secret_key() != first


def test_the_app_signs_with_the_kept_key(tmp_path: Path) -> None:
    app = create_app(local_settings(tmp_path))
    app.state.engine.dispose()

    assert app.state.secret_key == (tmp_path / "secret_key").read_text().strip()


def test_a_configured_secret_key_wins_and_writes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    settings = local_settings(tmp_path)

    assert settings.resolved_secret_key() == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_production_without_a_secret_key_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")

    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None)

    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    assert Settings(_env_file=None).environment == "production"


def test_database_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://diary@db/diary")

    settings = Settings(_env_file=None)

    assert settings.database_url == "postgresql+psycopg://diary@db/diary"
    assert not settings.is_sqlite


def test_the_default_database_is_sqlite_under_data() -> None:
    settings = Settings(_env_file=None)

    assert settings.is_sqlite
    assert settings.database_url.endswith("data/ldn-diary.db")


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(app: FastAPI) -> None:
    with app.state.engine.connect() as connection:
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        busy_timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()

    assert str(journal).lower() == "wal"
    assert foreign_keys == 1
    assert busy_timeout > 0
    assert synchronous == 1  # NORMAL: survives a killed process (see the crash test)


@pytest.mark.sqlite_only
def test_sqlite_can_be_made_to_survive_a_power_cut_too(tmp_path: Path) -> None:
    settings = local_settings(tmp_path).model_copy(update={"sqlite_synchronous": "FULL"})

    engine = make_engine(settings)
    with engine.connect() as connection:
        synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    engine.dispose()

    assert synchronous == 2  # FULL: each commit reaches the disk before "saved" is said


def test_a_fresh_engine_creates_the_data_folder(tmp_path: Path) -> None:
    settings = local_settings(tmp_path / "new" / "folder")

    engine = make_engine(settings)
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    engine.dispose()

    assert (tmp_path / "new" / "folder" / "diary.db").exists()


def test_foreign_keys_remove_everything_an_account_owned(
    app: FastAPI, session: Session, user: User
) -> None:
    make_entry(session, user=user, day=date(2026, 3, 10), pain=1)

    with Session(app.state.engine) as app_session:
        owner = app_session.get(User, user.id)
        app_session.delete(owner)
        app_session.commit()

    session.expire_all()
    assert session.exec(select(DiaryEntry)).all() == []
