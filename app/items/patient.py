"""A patient's items (SPEC §2.5): the catalogue as they see it, their own items, their set.

The rules live here: which items a patient tracks and in which order, making and hiding own
items, tracking a pack, the condition that names the "overall" item. Every query is scoped to
the patient.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    Connection,
    Float,
    bindparam,
    cast,
    literal,
    literal_column,
    null,
    text,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.db import DirectStatement
from app.items.catalogue import (
    CUSTOM_PREFIX,
    FIXED_ITEMS,
    PACKS_BY_KEY,
    Item,
    Kind,
    Polarity,
    custom_key,
    overall_item,
)
from app.models import DiaryEntry, ItemChoice, OwnItem, User
from app.services.dose_steps import DOSE_ON

_DEFAULT_TRACKED = frozenset(item.key for item in FIXED_ITEMS if item.source == "builtin")
# Items of the patient's own, hidden ones too: with the fixed ones, fewer than a day's answers
# may hold (schemas.MAX_ITEMS_PER_ENTRY), so the entry form can always send every one.
MAX_OWN_ITEMS = 100


class ItemRefused(ValueError):
    """A change to the patient's items that cannot be made; `field` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PatientItem:
    """An item of the catalogue with this patient's choices."""

    item: Item
    tracked: bool
    position: int
    hidden: bool = False

    @property
    def key(self) -> str:
        return self.item.key


@dataclass(frozen=True)
class Catalogue:
    """Every item a patient can answer, in their order (tracked first)."""

    entries: tuple[PatientItem, ...]

    def __post_init__(self) -> None:
        # Looked up on every save: worked out once (a catalogue never changes, and patients
        # with the same items share one, see `_catalogue`).
        object.__setattr__(self, "_by_key", {entry.key: entry for entry in self.entries})
        by_kind: dict[str, frozenset[str]] = {}
        listed: dict[str, tuple[str, ...]] = {}
        for kind in ("rated", "side_effect"):
            of_kind = [entry for entry in self.entries if entry.item.kind == kind]
            by_kind[kind] = frozenset(entry.key for entry in of_kind)
            listed[kind] = tuple(
                entry.key for entry in of_kind if entry.tracked or entry.item.source == "builtin"
            )
        object.__setattr__(self, "_keys_by_kind", by_kind)
        object.__setattr__(self, "_listed_by_kind", listed)

    def get(self, key: str) -> Item | None:
        found: PatientItem | None = self._by_key.get(key)  # type: ignore[attr-defined]
        return found.item if found else None

    def entry(self, key: str) -> PatientItem | None:
        found: PatientItem | None = self._by_key.get(key)  # type: ignore[attr-defined]
        return found

    def items(self, *, kind: Kind | None = None, tracked: bool | None = None) -> list[Item]:
        """Items in the patient's order, optionally only of one kind or only tracked ones."""
        return [
            entry.item
            for entry in self.entries
            if (kind is None or entry.item.kind == kind)
            and (tracked is None or entry.tracked == tracked)
        ]

    def rated(self) -> list[Item]:
        return self.items(kind="rated")

    def side_effects(self) -> list[Item]:
        return self.items(kind="side_effect")

    def keys(self, kind: Kind) -> frozenset[str]:
        keys: frozenset[str] = self._keys_by_kind[kind]  # type: ignore[attr-defined]
        return keys

    def own_count(self) -> int:
        """How many items of the patient's own the diary has, removed ones too."""
        return sum(entry.key.startswith(CUSTOM_PREFIX) for entry in self.entries)

    def listed(self, kind: Kind) -> tuple[str, ...]:
        """The keys an entry's API shape always names, in the patient's order: every built-in
        item of the kind and every tracked one."""
        keys: tuple[str, ...] = self._listed_by_kind[kind]  # type: ignore[attr-defined]
        return keys

    def shown(self, kind: Kind, with_data: Iterable[str] = ()) -> list[Item]:
        """What an output lists: the tracked items of a kind, then untracked ones with data."""
        data = set(with_data)
        return [
            entry.item
            for entry in self.entries
            if entry.item.kind == kind and (entry.tracked or entry.key in data)
        ]


def _own_item(row: OwnItem | _OwnRow) -> Item:
    kind: Kind = "side_effect" if row.kind == "side_effect" else "rated"
    better: Polarity = row.better if row.better in ("lower", "higher", "neither") else "lower"  # type: ignore[assignment]
    return Item(
        key=row.key,
        label=row.label,
        question=row.label,
        low_anchor=row.low_anchor,
        high_anchor=row.high_anchor,
        better=better,
        kind=kind,
        source="custom",
        pack=None,
    )


def own_items(session: Session, *, user_id: int) -> list[OwnItem]:
    statement = select(OwnItem).where(OwnItem.user_id == user_id).order_by(col(OwnItem.id))
    return list(session.exec(statement))


def _choices(session: Session, *, user_id: int) -> dict[str, ItemChoice]:
    statement = select(ItemChoice).where(ItemChoice.user_id == user_id)
    return {choice.key: choice for choice in session.exec(statement)}


class _OwnRow(NamedTuple):
    key: str
    kind: str
    label: str
    low_anchor: str
    high_anchor: str
    better: str
    hidden: bool


_OWN: Final = OwnItem.__table__  # type: ignore[attr-defined]
_CHOICE: Final = ItemChoice.__table__  # type: ignore[attr-defined]


# Built once: every save reads the patient's catalogue, and building a statement costs more
# than running it. One statement for both tables (one round trip on PostgreSQL): the patient's
# own items (part 0, in the order they were made), then their choices (part 1, by key); with
# `dose`, also the dose the schedule sets for a day (part 2, in the last column).
def _catalogue_rows(*, dose: bool) -> Any:
    parts = [
        sa_select(
            literal(0).label("part"),
            _OWN.c.id.label("rank"),
            *(_OWN.c[name] for name in _OwnRow._fields),
            null().label("tracked"),
            null().label("position"),
            cast(null(), Float).label("dose"),  # typed: PostgreSQL reads NULL as text
        ).where(_OWN.c.user_id == bindparam("user_id")),
        sa_select(
            literal(1),
            literal(0),
            _CHOICE.c.key,
            *(null() for _ in _OwnRow._fields[1:]),
            _CHOICE.c.tracked,
            _CHOICE.c.position,
            cast(null(), Float),
        ).where(_CHOICE.c.user_id == bindparam("user_id")),
    ]
    if dose:
        nulls = (null() for _ in range(len(_OwnRow._fields) + 2))
        parts.append(sa_select(literal(2), literal(0), *nulls, DOSE_ON.scalar_subquery()))
    return union_all(*parts).order_by(
        literal_column("part"), literal_column("rank"), literal_column("key")
    )


# Read on every diary save: run on the driver's cursor (app.db `DirectStatement`).
_CATALOGUE_ROWS: Final = DirectStatement(_catalogue_rows(dose=False))
_CATALOGUE_AND_DOSE_ROWS: Final = DirectStatement(_catalogue_rows(dose=True))


def catalogue_for(session: Session, *, user: User) -> Catalogue:
    """The whole catalogue with this patient's own items, tracked set and order."""
    if session.autoflush:
        session.flush()  # plain table reads do not flush by themselves: see pending changes too
    catalogue, _ = _read_catalogue(
        session.connection(), user=user, statement=_CATALOGUE_ROWS, day=None
    )
    return catalogue


def catalogue_and_dose(
    connection: Connection, *, user: User, day: date
) -> tuple[Catalogue, float | None]:
    """`catalogue_for`, and the dose the patient's schedule sets for `day`, in one statement
    (a diary save answers with both). On a connection: the API's save has no session (see
    `Database.run_write`)."""
    return _read_catalogue(connection, user=user, statement=_CATALOGUE_AND_DOSE_ROWS, day=day)


def _read_catalogue(
    connection: Connection, *, user: User, statement: DirectStatement, day: date | None
) -> tuple[Catalogue, float | None]:
    assert user.id is not None
    own: list[_OwnRow] = []
    choices: list[tuple[str, bool, int]] = []
    dose: float | None = None
    parameters: dict[str, Any] = {"user_id": user.id}
    if day is not None:
        parameters["day"] = day
    for row in statement.rows(connection, parameters):
        if row.part == 0:
            own.append(
                _OwnRow._make(row[2 : 2 + len(_OwnRow._fields)])._replace(hidden=bool(row.hidden))
            )
        elif row.part == 1:
            choices.append((row.key, bool(row.tracked), int(row.position)))
        elif row.dose is not None:
            dose = float(row.dose)
    return _catalogue(user.condition, tuple(own), tuple(choices)), dose


@lru_cache(maxsize=512)
def _catalogue(
    condition: str | None,
    own: tuple[_OwnRow, ...],
    choice_rows: tuple[tuple[str, bool, int], ...],
) -> Catalogue:
    """The catalogue these rows make. A pure function of its arguments, so patients with the
    same items (most keep the defaults) share one immutable catalogue."""
    fixed = [overall_item(condition) if item.key == "overall" else item for item in FIXED_ITEMS]
    choices = {key: (tracked, position) for key, tracked, position in choice_rows}
    rows: list[tuple[tuple[int, int, int], PatientItem]] = []
    defaults = [*fixed, *(_own_item(row) for row in own)]
    hidden = {row.key for row in own if row.hidden}
    for index, item in enumerate(defaults):
        choice = choices.get(item.key)
        if choice is not None:
            tracked, position = choice
        else:
            tracked = item.key in _DEFAULT_TRACKED or (
                item.source == "custom" and item.key not in hidden
            )
            position = 10_000 + index
        if item.key in hidden:
            tracked = False
        rows.append(
            (
                (0 if tracked else 1, position, index),
                PatientItem(
                    item=item, tracked=tracked, position=position, hidden=item.key in hidden
                ),
            )
        )
    rows.sort(key=lambda row: row[0])
    numbered = tuple(replace(entry, position=number) for number, (_, entry) in enumerate(rows))
    return Catalogue(entries=numbered)


def _save_order(session: Session, *, user_id: int, entries: list[PatientItem]) -> None:
    """Store every item's tracked state and position as given (one row per item)."""
    choices = _choices(session, user_id=user_id)
    for position, entry in enumerate(entries):
        choice = choices.get(entry.key)
        if choice is None:
            choice = ItemChoice(user_id=user_id, key=entry.key, tracked=entry.tracked, position=0)
        choice.tracked = entry.tracked
        choice.position = position
        session.add(choice)


def update_item(
    session: Session,
    *,
    user: User,
    key: str,
    tracked: bool | None = None,
    position: int | None = None,
) -> Catalogue:
    """Track or stop tracking an item, or move it to `position` (0 = first) in the list."""
    assert user.id is not None
    catalogue = catalogue_for(session, user=user)
    current = catalogue.entry(key)
    if current is None:
        raise KeyError(key)
    if tracked and current.hidden:
        _set_hidden(session, user_id=user.id, key=key, hidden=False)
        current = replace(current, hidden=False)
    entries = [entry for entry in catalogue.entries if entry.key != key]
    moved = replace(current, tracked=current.tracked if tracked is None else tracked)
    if position is None:
        # Newly tracked items go to the end of the tracked list; untracked ones after it.
        at = current.position if tracked is None or tracked == current.tracked else None
        if at is None:
            at = sum(1 for entry in entries if entry.tracked) if moved.tracked else len(entries)
    else:
        at = max(0, min(position, len(entries)))
    entries.insert(at, moved)
    _save_order(session, user_id=user.id, entries=entries)
    session.commit()
    return catalogue_for(session, user=user)


def track_pack(session: Session, *, user: User, pack_key: str) -> Catalogue:
    """Track every item of a pack (after the items already tracked)."""
    assert user.id is not None
    pack = PACKS_BY_KEY.get(pack_key)
    if pack is None:
        raise KeyError(pack_key)
    catalogue = catalogue_for(session, user=user)
    keys = {item.key for item in pack.items}
    entries = list(catalogue.entries)
    kept = [entry for entry in entries if entry.tracked and entry.key not in keys]
    added = [replace(entry, tracked=True) for entry in entries if entry.key in keys]
    rest = [entry for entry in entries if not entry.tracked and entry.key not in keys]
    _save_order(session, user_id=user.id, entries=[*kept, *added, *rest])
    session.commit()
    return catalogue_for(session, user=user)


def set_order(session: Session, *, user: User, tracked_keys: list[str]) -> Catalogue:
    """Track exactly these items, in this order; every other item is not tracked."""
    assert user.id is not None
    catalogue = catalogue_for(session, user=user)
    seen: set[str] = set()
    chosen: list[PatientItem] = []
    for key in tracked_keys:
        entry = catalogue.entry(key)
        if entry is None:
            raise ItemRefused("tracked", f"{key} is not an item of your diary")
        if key in seen:
            continue
        seen.add(key)
        if entry.hidden:
            _set_hidden(session, user_id=user.id, key=key, hidden=False)
        chosen.append(replace(entry, tracked=True, hidden=False))
    rest = [replace(entry, tracked=False) for entry in catalogue.entries if entry.key not in seen]
    _save_order(session, user_id=user.id, entries=[*chosen, *rest])
    return catalogue_for(session, user=user)


def _set_hidden(session: Session, *, user_id: int, key: str, hidden: bool) -> None:
    row = session.exec(
        select(OwnItem).where(OwnItem.user_id == user_id, OwnItem.key == key)
    ).first()
    if row is not None:
        row.hidden = hidden
        session.add(row)


LABEL_MAX = 120
ANCHOR_MAX = 60


def _clean(value: Any, field: str, *, limit: int, required: bool) -> str:
    text_value = value.strip() if isinstance(value, str) else ""
    if required and not text_value:
        raise ItemRefused(field, "Fill this in")
    if len(text_value) > limit:
        raise ItemRefused(field, f"Use at most {limit} characters")
    if "\x00" in text_value:
        raise ItemRefused(field, "Remove the invisible NUL character from this text")
    return text_value


def add_own_item(
    session: Session,
    *,
    user: User,
    label: str,
    low_anchor: str = "",
    high_anchor: str = "",
    better: str = "lower",
    kind: str = "rated",
    key: str | None = None,
    commit: bool = True,
) -> OwnItem:
    """Make an own item (tracked, at the end of the list) and give it a custom_ key."""
    assert user.id is not None
    if kind not in ("rated", "side_effect"):
        raise ItemRefused("kind", "Choose rated (0–100) or side_effect (0–3)")
    if better not in ("lower", "higher", "neither"):
        raise ItemRefused("better", "Choose lower, higher or neither")
    label = _clean(label, "label", limit=LABEL_MAX, required=True)
    rated = kind == "rated"
    low = _clean(low_anchor, "low_anchor", limit=ANCHOR_MAX, required=rated)
    high = _clean(high_anchor, "high_anchor", limit=ANCHOR_MAX, required=rated)
    catalogue = catalogue_for(session, user=user)
    taken = {entry.key for entry in catalogue.entries}
    if catalogue.own_count() >= MAX_OWN_ITEMS:
        raise ItemRefused(
            "label",
            f"Your diary has {MAX_OWN_ITEMS} questions of your own, the most it keeps "
            "(removed ones that have answers count too): delete one that has no answers first.",
        )
    if key is None:
        key = custom_key(label, taken)
    elif not key.startswith(CUSTOM_PREFIX) or key in taken:
        raise ItemRefused("key", f"{key} cannot be used for an own item")
    row = OwnItem(
        user_id=user.id,
        key=key,
        kind=kind,
        label=label,
        low_anchor=low if rated else "",
        high_anchor=high if rated else "",
        better=better if rated else "lower",
    )
    session.add(row)
    session.flush()
    entries = list(catalogue.entries)
    at = sum(1 for entry in entries if entry.tracked)
    entries.insert(at, PatientItem(item=_own_item(row), tracked=True, position=at))
    _save_order(session, user_id=user.id, entries=entries)
    if commit:
        session.commit()
        session.refresh(row)
    return row


def item_has_data(session: Session, *, user_id: int, key: str) -> bool:
    """True when any day of the patient's diary (or a kept version) answers the item."""
    for entry in session.exec(select(DiaryEntry).where(DiaryEntry.user_id == user_id)):
        if key in (entry.ratings or {}) or key in (entry.side_effects or {}):
            return True
    # Kept versions too: their answers must still read back with the item's words.
    statement = text("SELECT data FROM entry_revision WHERE user_id = :user_id")
    for (data,) in session.connection().execute(statement, {"user_id": user_id}):
        kept = json.loads(data) if isinstance(data, str) else data
        if isinstance(kept, dict):
            ratings, effects = kept.get("ratings"), kept.get("side_effects")
            if (isinstance(ratings, dict) and key in ratings) or (
                isinstance(effects, dict) and key in effects
            ):
                return True
    return False


def remove_own_item(session: Session, *, user: User, key: str) -> str:
    """Delete an own item without data; hide one with data (its answers stay). Returns
    "deleted" or "hidden"."""
    assert user.id is not None
    row = session.exec(
        select(OwnItem).where(OwnItem.user_id == user.id, OwnItem.key == key)
    ).first()
    if row is None:
        raise KeyError(key)
    if item_has_data(session, user_id=user.id, key=key):
        row.hidden = True
        session.add(row)
        choice = _choices(session, user_id=user.id).get(key)
        if choice is not None:
            choice.tracked = False
            session.add(choice)
        session.commit()
        return "hidden"
    choice = _choices(session, user_id=user.id).get(key)
    if choice is not None:
        session.delete(choice)
    session.delete(row)
    session.commit()
    return "deleted"


def set_condition(session: Session, *, user: User, condition: str | None) -> None:
    """Remember what the patient takes LDN for: it names the overall item."""
    from app.items.catalogue import CONDITION_MAX

    cleaned = _clean(condition or "", "condition", limit=CONDITION_MAX, required=False)
    user.condition = cleaned or None
    session.add(user)
    session.commit()


def item_public(entry: PatientItem) -> dict[str, Any]:
    """An item as the API lists it (SPEC §2.5)."""
    item = entry.item
    return {
        "key": item.key,
        "kind": item.kind,
        "label": item.question,
        "short_label": item.label,
        "low_anchor": item.low_anchor if item.is_rated else None,
        "high_anchor": item.high_anchor if item.is_rated else None,
        "better": item.better,
        "source": item.source,
        "pack": item.pack,
        "tracked": entry.tracked,
        "position": entry.position,
        "hidden": entry.hidden,
    }


def definitions_by_key(rows: Iterable[OwnItem]) -> Mapping[str, OwnItem]:
    return {row.key: row for row in rows}
