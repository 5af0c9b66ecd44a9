"""Property: any diary the app can hold survives export → import into an empty account → export."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from app.items import RATED_KEYS, SIDE_EFFECT_KEYS
from app.models import DiaryEntry, DoseStep, EntryRevision, User
from app.services import backup
from app.services.entries import entry_snapshot, stored_fields
from tests.factories import make_user

_accounts = itertools.count()
SEAL_KEY = "the server's secret key"

# Text as the API stores it: stripped, never empty (blank means not answered).
_text_chars = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")


def _text(max_size: int) -> st.SearchStrategy[str | None]:
    return st.text(_text_chars, max_size=max_size).map(str.strip).map(lambda text: text or None)


# The database keeps aware times (UTC); any offset is fine going in.
_zones = st.just(UTC) | st.integers(-14 * 60, 14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
_moments = st.datetimes(
    min_value=datetime(2000, 1, 2), max_value=datetime(2030, 12, 31), timezones=_zones
)
_days = st.dates(min_value=date(2000, 1, 1), max_value=date(2026, 6, 30))
_sources = st.sampled_from(["web", "api", "sync", "import"])


@st.composite
def answers(draw: st.DrawFn) -> dict[str, Any]:
    """The answers of one day: anything the API accepts, at least one of them given."""
    values: dict[str, Any] = {key: draw(st.none() | st.integers(0, 100)) for key in RATED_KEYS}
    values |= {key: draw(st.none() | st.integers(0, 3)) for key in SIDE_EFFECT_KEYS}
    values["brain_fog"] = draw(st.none() | st.integers(0, 100))  # a pack's item
    values |= {
        "other_text": draw(_text(200)),
        "dose_taken": draw(st.none() | st.booleans()),
        "dose_time": draw(
            st.none()
            | st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
        ),
        "dose_mg": draw(st.none() | st.integers(0, 5000).map(lambda hundredths: hundredths / 100)),
        "notes": draw(_text(2000)),
        "tolerability": draw(st.none() | st.integers(0, 100)),
        "pgic": draw(st.none() | st.integers(1, 7)),
    }
    if all(value is None for value in values.values()):
        values["pain"] = draw(st.integers(0, 100))
    return values


@st.composite
def diaries(draw: st.DrawFn) -> dict[str, Any]:
    step_days = draw(st.lists(_days, max_size=4, unique=True))
    steps = [
        {
            "start_date": day,
            "dose_mg": draw(st.integers(0, 5000)) / 100,
            "dosing_time": draw(st.sampled_from([None, "morning", "bedtime"])),
            "note": draw(_text(500)),
            "created_at": draw(_moments),
            "updated_at": draw(_moments),
        }
        for day in step_days
    ]
    entry_days = draw(st.lists(_days, max_size=6, unique=True))
    days = [
        {
            "day": day,
            **draw(answers()),
            "source": draw(_sources),
            "retrospective": draw(st.booleans()),
            "created_at": draw(_moments),
            "updated_at": draw(_moments),
            "client_id": draw(_text(64)),
            "client_edited_at": draw(st.none() | _moments),
        }
        for day in entry_days
    ]
    revisions = []
    for _ in range(draw(st.integers(0, 5))):
        day = draw(st.sampled_from(entry_days) if entry_days else _days)
        version = DiaryEntry(
            user_id=0,
            day=day,
            source=draw(_sources),
            client_id=draw(_text(64)),
            client_edited_at=draw(st.none() | _moments),
            **_fields(draw(answers())),
        )
        revisions.append(
            {
                "day": day,
                "data": entry_snapshot(version),
                "source": version.source,
                "saved_at": draw(_moments),
                "replaced_at": draw(_moments),
                "reason": draw(st.sampled_from(["edited", "superseded", "deleted", "restored"])),
            }
        )
    return {"steps": steps, "days": days, "revisions": revisions}


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    """DiaryEntry's fields for generated answers, the pack item among the ratings."""
    values = dict(values)
    brain_fog = values.pop("brain_fog", None)
    fields = stored_fields(values)
    if brain_fog is not None:
        fields["ratings"] = dict(sorted({**fields["ratings"], "brain_fog": brain_fog}.items()))
    return fields


def fill(session: Session, user: User, diary: dict[str, Any]) -> None:
    assert user.id is not None
    for step in diary["steps"]:
        session.add(DoseStep(user_id=user.id, **step))
    for day in diary["days"]:
        session.add(DiaryEntry(user_id=user.id, **_fields(day)))
    for revision in diary["revisions"]:
        session.add(EntryRevision(user_id=user.id, **revision))
    session.commit()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(diary=diaries())
def test_export_import_export_gives_the_same_diary(session: Session, diary: dict[str, Any]) -> None:
    number = next(_accounts)
    owner = make_user(session, email=f"owner{number}@example.org")
    fill(session, owner, diary)
    # Through JSON text, as the file travels.
    # Sealed by this server, so its days' provenance is trusted when it comes back.
    sealed = backup.export_backup(session, user=owner, seal_key=SEAL_KEY)
    original = json.loads(json.dumps(sealed))

    newcomer = make_user(session, email=f"newcomer{number}@example.org")
    plan = backup.plan_import(session, user=newcomer, document=original, seal_key=SEAL_KEY)
    backup.apply_import(session, user=newcomer, plan=plan)
    session.expire_all()
    again = backup.export_backup(session, user=newcomer)

    for key in ("dose_steps", "entries", "revisions"):
        assert again[key] == original[key], key
    assert_holds(original, diary)


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def assert_holds(document: dict[str, Any], diary: dict[str, Any]) -> None:
    """The export says exactly what was stored (so the round trip cannot lose it twice)."""
    days = {row["day"].isoformat(): row for row in diary["days"]}
    assert [row["date"] for row in document["entries"]] == sorted(days)
    for row in document["entries"]:
        stored = days[row["date"]]
        for key in (*RATED_KEYS, "other_text", "dose_taken", "dose_time", "dose_mg", "notes"):
            assert row[key] == stored[key], key
        for key in ("tolerability", "pgic", "source", "retrospective", "client_id"):
            assert row[key] == stored[key], key
        effects = {key: stored[key] for key in SIDE_EFFECT_KEYS if stored[key] is not None}
        assert row["side_effects"] == effects
        assert row["ratings"].get("brain_fog") == stored["brain_fog"]
        for key in ("created_at", "updated_at", "client_edited_at"):
            assert _moment(row[key]) == stored[key], key
    steps = {row["start_date"].isoformat(): row for row in diary["steps"]}
    assert [row["start_date"] for row in document["dose_steps"]] == sorted(steps)
    for row in document["dose_steps"]:
        stored = steps[row["start_date"]]
        assert (row["dose_mg"], row["dosing_time"], row["note"]) == (
            stored["dose_mg"],
            stored["dosing_time"],
            stored["note"],
        )
        assert _moment(row["created_at"]) == stored["created_at"]
        assert _moment(row["updated_at"]) == stored["updated_at"]
    exported = sorted(
        (row["date"], _moment(row["saved_at"]), _moment(row["replaced_at"]), row["reason"])
        for row in document["revisions"]
    )
    generated = sorted(
        (row["day"].isoformat(), row["saved_at"], row["replaced_at"], row["reason"])
        for row in diary["revisions"]
    )
    assert exported == generated
    assert sorted(json.dumps(row["data"], sort_keys=True) for row in document["revisions"]) == (
        sorted(json.dumps(row["data"], sort_keys=True) for row in diary["revisions"])
    )


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False)
    | st.text(_text_chars, max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_field_values = _json | st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "2026-02-30",
        "1999-12-31",
        "24:00",
        "web",
        1e308,
        -1,
        101,
    ]
)
_ROW_KEYS = {
    "dose_steps": ["start_date", "dose_mg", "dosing_time", "note", "created_at", "updated_at"],
    "entries": ["date", "pain", "side_effects", "dose_mg", "source", "created_at", "client_id"],
    "revisions": ["date", "data", "source", "saved_at", "replaced_at", "reason"],
}


@st.composite
def damaged_backups(draw: st.DrawFn) -> Any:
    """A valid-looking backup with some fields replaced by anything JSON can hold."""
    document: dict[str, Any] = {
        "format": "ldn-diary-backup",
        "version": 1,
        "dose_steps": [{"start_date": "2026-01-01", "dose_mg": 0}],
        "entries": [{"date": "2026-01-02", "pain": 10}],
        "revisions": [
            {
                "date": "2026-01-02",
                "data": {"pain": 5},
                "source": "web",
                "saved_at": "2026-01-02T10:00:00Z",
                "replaced_at": "2026-01-02T11:00:00Z",
                "reason": "edited",
            }
        ],
    }
    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from(sorted(_ROW_KEYS)))
        key = draw(st.sampled_from(_ROW_KEYS[section]))
        document[section][0][key] = draw(_field_values)
    if draw(st.booleans()):
        document[draw(st.sampled_from(["version", "entries", "format"]))] = draw(_json)
    return document


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=damaged_backups() | _json)
def test_any_damaged_file_is_refused_with_named_fields_never_a_crash(
    session: Session, document: Any
) -> None:
    newcomer = make_user(session, email=f"fuzz{next(_accounts)}@example.org")
    try:
        backup.plan_import(session, user=newcomer, document=json.loads(json.dumps(document)))
    except backup.ImportRefused as refused:
        assert refused.errors
        for error in backup.error_details(refused.errors):
            assert error["msg"] and error["field"]
