"""The patient's items (SPEC §2.5, §8): the catalogue, their set and order, own items, packs."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from app.api.errors import field_error
from app.db import DatabaseDep
from app.deps import ApiUser
from app.items import PACKS
from app.items import patient as items
from app.schemas import ItemCreate, ItemPublic, ItemUpdate, PackPublic

router = APIRouter(tags=["items"])


def _listed(catalogue: items.Catalogue) -> list[ItemPublic]:
    return [ItemPublic(**items.item_public(entry)) for entry in catalogue.entries]


@router.get("/items", response_model=list[ItemPublic])
def list_items(user: ApiUser, database: DatabaseDep) -> list[ItemPublic]:
    """The whole catalogue (built-ins, packs, own items) in this patient's order: tracked
    items first by `position`, then the others."""
    with database.read() as session:
        return _listed(items.catalogue_for(session, user=user))


@router.patch("/items/{key}", response_model=ItemPublic)
def update_item(key: str, data: ItemUpdate, user: ApiUser, database: DatabaseDep) -> ItemPublic:
    """Track an item or stop tracking it (its answers stay), or move it to `position`."""
    try:
        with database.write() as session:
            catalogue = items.update_item(
                session, user=user, key=key, tracked=data.tracked, position=data.position
            )
    except KeyError:
        raise HTTPException(status_code=404, detail=f"No item {key} in this diary") from None
    entry = catalogue.entry(key)
    assert entry is not None
    return ItemPublic(**items.item_public(entry))


@router.post("/items", status_code=201, response_model=ItemPublic)
def add_item(data: ItemCreate, user: ApiUser, database: DatabaseDep) -> ItemPublic:
    """Add an own item; the app gives it a `custom_…` key and tracks it."""
    try:
        with database.write() as session:
            row = items.add_own_item(
                session,
                user=user,
                label=data.label,
                low_anchor=data.low_anchor or "",
                high_anchor=data.high_anchor or "",
                better=data.better,
                kind=data.kind,
            )
    except items.ItemRefused as refusal:
        raise field_error(["body", refusal.field], str(refusal)) from None
    with database.read() as session:
        entry = items.catalogue_for(session, user=user).entry(row.key)
    assert entry is not None
    return ItemPublic(**items.item_public(entry))


@router.delete("/items/{key}", status_code=204)
def remove_item(key: str, user: ApiUser, database: DatabaseDep) -> Response:
    """Remove an own item: deleted when no day answers it, otherwise hidden (answers stay)."""
    try:
        with database.write() as session:
            items.remove_own_item(session, user=user, key=key)
    except KeyError:
        raise HTTPException(status_code=404, detail=f"No own item {key} in this diary") from None
    return Response(status_code=204)


@router.get("/item-packs", response_model=list[PackPublic])
def list_packs(user: ApiUser, database: DatabaseDep) -> list[PackPublic]:
    """The packs of items for a condition, with this patient's choices for each item."""
    with database.read() as session:
        catalogue = items.catalogue_for(session, user=user)
    packs = []
    for pack in PACKS:
        listed = [catalogue.entry(item.key) for item in pack.items]
        packs.append(
            PackPublic(
                key=pack.key,
                name=pack.name,
                description=pack.description,
                items=[ItemPublic(**items.item_public(entry)) for entry in listed if entry],
            )
        )
    return packs


@router.post("/item-packs/{key}/track", response_model=list[ItemPublic])
def track_pack(key: str, user: ApiUser, database: DatabaseDep) -> list[ItemPublic]:
    """Track every item of the pack; answers: the whole catalogue as GET /items does."""
    try:
        with database.write() as session:
            return _listed(items.track_pack(session, user=user, pack_key=key))
    except KeyError:
        raise HTTPException(status_code=404, detail=f"No pack {key}") from None
