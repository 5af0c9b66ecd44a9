"""Stopping the diary's clock at a chosen instant, so day boundaries can be tested exactly."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

import pytest

from app.services import entries


def freeze_diary_clock(monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    """Make the entry service believe it is `instant` (an aware datetime)."""
    assert instant.tzinfo is not None

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            assert tz is not None, "the diary never asks for a naive now"
            return instant.astimezone(tz)

    monkeypatch.setattr(entries, "datetime", FrozenDatetime)
    monkeypatch.setattr(entries, "utcnow", lambda: instant.astimezone(UTC))
