"""Property tests: any valid day round-trips exactly; any invalid field is named and not saved."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.items import RATED_KEYS, SIDE_EFFECT_KEYS

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
days = st.dates(min_value=date(2000, 1, 1), max_value=date.today() - timedelta(days=2))
scores = st.one_of(st.none(), st.integers(0, 100))
severities = st.one_of(st.none(), st.integers(0, 3))
texts = st.one_of(st.none(), st.text(min_size=1, max_size=300).map(str.strip).filter(bool))


@st.composite
def valid_entries(draw: st.DrawFn) -> dict[str, Any]:
    entry: dict[str, Any] = {key: draw(scores) for key in RATED_KEYS}
    entry["side_effects"] = {key: draw(severities) for key in SIDE_EFFECT_KEYS}
    entry["dose_taken"] = draw(st.one_of(st.none(), st.booleans()))
    entry["dose_time"] = draw(
        st.one_of(st.none(), st.times().map(lambda moment: moment.strftime("%H:%M")))
    )
    entry["dose_mg"] = draw(st.one_of(st.none(), st.integers(0, 5000).map(lambda n: n / 100)))
    entry["notes"] = draw(texts)
    entry["other_text"] = draw(st.one_of(st.none(), st.text(min_size=1, max_size=200)))
    if entry["other_text"] is not None:
        entry["other_text"] = entry["other_text"].strip() or None
    entry["tolerability"] = draw(scores)
    entry["pgic"] = draw(st.one_of(st.none(), st.integers(1, 7)))
    entry["pain"] = draw(st.integers(0, 100))  # at least one answer
    return entry


@given(day=days, entry=valid_entries())
@SETTINGS
def test_any_valid_day_round_trips_exactly(api: TestClient, day: date, entry: dict[str, Any]):
    response = api.put(f"/api/v1/entries/{day.isoformat()}", json=entry)
    assert response.status_code in (200, 201), response.text
    stored = api.get(f"/api/v1/entries/{day.isoformat()}").json()
    for key, value in entry.items():
        assert stored[key] == value, key


invalid_values = st.sampled_from(
    [
        ("pain", 101),
        ("pain", -1),
        ("fatigue", 50.5),
        ("mood", "50"),
        ("sleep_quality", True),
        ("tolerability", 1000),
        ("pgic", 0),
        ("pgic", 8),
        ("dose_time", "25:00"),
        ("dose_time", "7pm"),
        ("dose_mg", 50.01),
        ("dose_mg", 1.2345),
        ("dose_mg", -0.5),
        ("notes", "x" * 2001),
        ("other_text", "y" * 201),
        ("dose_taken", "sometimes"),
        ("unknown_item", 3),
    ]
)


@given(day=days, bad=invalid_values, entry=valid_entries())
@SETTINGS
def test_any_invalid_field_is_named_and_nothing_is_written(
    api: TestClient, day: date, bad: tuple[str, Any], entry: dict[str, Any]
):
    field, value = bad
    before = api.get("/api/v1/entries").json()
    response = api.put(f"/api/v1/entries/{day.isoformat()}", json={**entry, field: value})
    assert response.status_code == 422
    assert any(error["loc"][-1] == field for error in response.json()["detail"])
    assert api.get("/api/v1/entries").json() == before


@given(day=days, key=st.sampled_from(SIDE_EFFECT_KEYS), value=st.integers(4, 10**6))
@SETTINGS
def test_side_effect_severity_outside_0_to_3_is_refused(
    api: TestClient, day: date, key: str, value: int
):
    response = api.put(
        f"/api/v1/entries/{day.isoformat()}", json={"pain": 5, "side_effects": {key: value}}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "side_effects", key]
