"""The patient's primary item (SPEC §4.1): the rated item the comparison's summary leads with.

Pain unless the patient chooses another. Any tracked rated item can be chosen: built-in, from a
pack or the patient's own. The choice is kept on the account, so /compare, the API and the
doctor's summary all lead with the same item; `?primary_item=` on the API still overrides it.
"""

from __future__ import annotations

from sqlmodel import Session

from app.analysis import DEFAULT_PRIMARY_ITEM
from app.items import Item
from app.items.patient import Catalogue, catalogue_for
from app.models import User


class PrimaryItemRefused(ValueError):
    """The item asked for cannot be the primary item; the message says why, in plain words."""


def primary_choices(session: Session, *, user: User) -> list[Item]:
    """The items that can be primary: the patient's tracked rated items, in their order."""
    return catalogue_for(session, user=user).items(kind="rated", tracked=True)


def primary_item_of(session: Session, *, user: User) -> str:
    """The item the summaries lead with: the patient's choice while it is still tracked."""
    return chosen_primary(user, catalogue_for(session, user=user))


def chosen_primary(user: User, catalogue: Catalogue) -> str:
    """As primary_item_of, from a catalogue already loaded. An item the patient stopped
    tracking is no longer primary: the summaries go back to pain."""
    chosen = user.primary_item
    entry = catalogue.entry(chosen) if chosen else None
    if chosen and entry is not None and entry.tracked and entry.item.kind == "rated":
        return chosen
    return DEFAULT_PRIMARY_ITEM


def save_primary_item(session: Session, *, user: User, key: str) -> None:
    """Keep `key` as the patient's primary item; raises PrimaryItemRefused and writes nothing
    when it is not one of their tracked rated items."""
    key = key.strip()
    choices = primary_choices(session, user=user)
    if not key:
        raise PrimaryItemRefused("Choose one of your items.")
    if key not in {item.key for item in choices}:
        catalogue = catalogue_for(session, user=user)
        known = catalogue.get(key)
        if known is not None and known.kind == "rated":
            raise PrimaryItemRefused(
                f"“{known.label}” is not on your daily form. Track it under Your questions "
                "first, or choose one of the items you rate."
            )
        raise PrimaryItemRefused("That is not one of the items you rate. Choose one from the list.")
    user.primary_item = key
    session.add(user)
    session.commit()
