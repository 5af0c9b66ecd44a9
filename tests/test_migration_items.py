"""The migration that made items data moves every old column's answer across, and back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import POSTGRES_URL, migrate, reset_postgres_schema

BEFORE = "8927b05a5ae2"
ITEMS = "cc2019828731"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    schema = "items_migration"
    reset_postgres_schema(POSTGRES_URL, schema)
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    reset_postgres_schema(POSTGRES_URL, schema)


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def test_old_rows_move_into_ratings_and_side_effects_and_back(database: str) -> None:
    migrate(database, BEFORE)
    engine = create_engine(database)
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO "user" (id, email, password_hash, timezone, created_at) '
                "VALUES (1, 'a@example.org', 'x', 'UTC', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO diary_entry (id, user_id, day, overall, pain, fatigue, sleep_quality,"
                " dream_vividness, mood, stress, life_satisfaction, nightmares, insomnia,"
                " headache, nausea, dizziness, anxiety, other, other_text, dose_taken, notes,"
                " source, retrospective, created_at, updated_at) VALUES"
                " (1, 1, '2026-01-02', 0, 55, 100, 34, 12, 67, 8, 90, 0, 1, 2, 3, 0, 1, 2,"
                "  'itch', true, 'n', 'web', false, '2026-01-02 20:00:00', '2026-01-02 20:00:00'),"
                " (2, 1, '2026-01-03', NULL, 40, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,"
                "  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'api', false,"
                "  '2026-01-03 20:00:00', '2026-01-03 20:00:00')"
            )
        )
    engine.dispose()

    migrate(database, ITEMS)
    engine = create_engine(database)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT ratings, side_effects, other_text, notes FROM diary_entry ORDER BY id")
        ).all()
        columns = {column["name"] for column in inspect(connection).get_columns("diary_entry")}
    engine.dispose()
    assert _json(rows[0][0]) == {
        "dream_vividness": 12,
        "fatigue": 100,
        "life_satisfaction": 90,
        "mood": 67,
        "overall": 0,  # an answered 0 is kept, not dropped as "nothing"
        "pain": 55,
        "sleep_quality": 34,
        "stress": 8,
    }
    assert _json(rows[0][1]) == {
        "anxiety": 1,
        "dizziness": 0,
        "headache": 2,
        "insomnia": 1,
        "nausea": 3,
        "nightmares": 0,
        "other": 2,
    }
    assert rows[0][2:] == ("itch", "n")
    assert _json(rows[1][0]) == {"pain": 40}
    assert _json(rows[1][1]) == {"insomnia": 0}
    assert "pain" not in columns and "ratings" in columns

    migrate(database, BEFORE, down=True)
    engine = create_engine(database)
    with engine.connect() as connection:
        back = connection.execute(
            text("SELECT overall, pain, fatigue, insomnia, other FROM diary_entry ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in back] == [(0, 55, 100, 1, 2), (None, 40, None, 0, None)]
