"""The migration that keeps the patient's main item adds its column and takes it away again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import POSTGRES_URL, migrate, reset_postgres_schema

BEFORE = "a83816e8bed9"
PRIMARY = "a13f0c2d9e51"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    schema = "primary_item_migration"
    reset_postgres_schema(POSTGRES_URL, schema)
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    reset_postgres_schema(POSTGRES_URL, schema)


def _columns(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        return {column["name"] for column in inspect(engine).get_columns("user")}
    finally:
        engine.dispose()


def test_the_main_item_column_comes_and_goes_and_accounts_survive(database: str) -> None:
    migrate(database, BEFORE)
    engine = create_engine(database)
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO "user" (id, email, password_hash, timezone, created_at) '
                "VALUES (1, 'a@example.org', 'x', 'UTC', '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()

    migrate(database, PRIMARY)
    assert "primary_item" in _columns(database)
    engine = create_engine(database)
    with engine.begin() as connection:
        # An account from before the migration keeps the default (None: pain).
        assert connection.execute(text('SELECT primary_item FROM "user"')).scalar_one() is None
        connection.execute(text("UPDATE \"user\" SET primary_item = 'fatigue' WHERE id = 1"))
    engine.dispose()

    migrate(database, BEFORE, down=True)
    assert "primary_item" not in _columns(database)
    engine = create_engine(database)
    with engine.connect() as connection:
        assert connection.execute(text('SELECT email FROM "user"')).scalar_one() == "a@example.org"
    engine.dispose()

    migrate(database, "head")
    assert "primary_item" in _columns(database)
