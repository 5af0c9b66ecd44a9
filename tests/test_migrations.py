"""Alembic is the only way the schema is made, and it matches the models (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import app.models  # noqa: F401
from tests.conftest import POSTGRES_URL, ROOT, migrate, reset_postgres_schema


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new schema in the PostgreSQL test database."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schema = "migration_check"
    reset_postgres_schema(POSTGRES_URL, schema)
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    reset_postgres_schema(POSTGRES_URL, schema)


def test_upgrade_head_on_an_empty_database_creates_every_table(empty_database: str) -> None:
    migrate(empty_database)
    engine = create_engine(empty_database)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_autogenerate_finds_nothing_left_to_do(empty_database: str) -> None:
    migrate(empty_database)
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_the_migrations_have_one_head() -> None:
    scripts = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    assert len(scripts.get_heads()) == 1
