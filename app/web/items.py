"""/settings/items: the patient picks, orders and adds items; /welcome asks what they take LDN
for after registration and offers the matching pack (SPEC §2.5). Plain forms, POST → 303 → GET."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.db import DatabaseDep
from app.deps import WebUser
from app.items import PACKS, PACKS_BY_KEY
from app.items import patient as items
from app.items.catalogue import CONDITION_NAMES, CONDITION_PACKS, CONDITIONS
from app.models import User
from app.web.templating import render

router = APIRouter()

_BACK = "/settings/items"


def _page(
    request: Request,
    session: Session,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    catalogue = items.catalogue_for(session, user=user)
    tracked = [entry for entry in catalogue.entries if entry.tracked]
    packs = [
        {
            "pack": pack,
            "untracked": [
                entry
                for item in pack.items
                if (entry := catalogue.entry(item.key)) is not None and not entry.tracked
            ],
        }
        for pack in PACKS
    ]
    others = [
        entry for entry in catalogue.entries if not entry.tracked and entry.item.source != "pack"
    ]
    return render(
        request,
        "settings/items.html",
        {
            "tracked": tracked,
            "packs": packs,
            "others": others,
            "condition": user.condition or "",
            "errors": errors or {},
            "values": values or {},
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


@router.get("/settings/items", response_class=HTMLResponse)
def items_page(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    with database.read() as session:
        return _page(request, session, user)


def _back(done: str) -> RedirectResponse:
    return RedirectResponse(f"{_BACK}?done={done}", status_code=303)


@router.post("/settings/items/{key}/track")
def track_item(
    key: str, database: DatabaseDep, user: WebUser, tracked: Annotated[str, Form()] = "1"
) -> Response:
    with database.write() as session:
        try:
            items.update_item(session, user=user, key=key, tracked=tracked == "1")
        except KeyError:
            raise HTTPException(status_code=404, detail="No such item in your diary.") from None
        return _back("tracked" if tracked == "1" else "untracked")


@router.post("/settings/items/{key}/move")
def move_item(
    key: str, database: DatabaseDep, user: WebUser, direction: Annotated[str, Form()] = "up"
) -> Response:
    with database.write() as session:
        catalogue = items.catalogue_for(session, user=user)
        entry = catalogue.entry(key)
        if entry is None:
            raise HTTPException(status_code=404, detail="No such item in your diary.")
        position = max(0, entry.position + (-1 if direction == "up" else 1))
        items.update_item(session, user=user, key=key, position=position)
        return _back("moved")


@router.post("/settings/items/{key}/remove")
def remove_item(key: str, database: DatabaseDep, user: WebUser) -> Response:
    with database.write() as session:
        try:
            outcome = items.remove_own_item(session, user=user, key=key)
        except KeyError:
            raise HTTPException(status_code=404, detail="No such item of your own.") from None
        return _back(outcome)


@router.post("/settings/items/packs/{key}")
def track_pack(key: str, database: DatabaseDep, user: WebUser) -> Response:
    with database.write() as session:
        try:
            items.track_pack(session, user=user, pack_key=key)
        except KeyError:
            raise HTTPException(status_code=404, detail="No such set of questions.") from None
        return _back("pack")


@router.post("/settings/items/own", response_class=HTMLResponse)
def add_own_item(
    request: Request,
    database: DatabaseDep,
    user: WebUser,
    label: Annotated[str, Form()] = "",
    low_anchor: Annotated[str, Form()] = "",
    high_anchor: Annotated[str, Form()] = "",
    better: Annotated[str, Form()] = "lower",
    kind: Annotated[str, Form()] = "rated",
) -> Response:
    with database.write() as session:
        try:
            items.add_own_item(
                session,
                user=user,
                label=label,
                low_anchor=low_anchor,
                high_anchor=high_anchor,
                better=better,
                kind=kind,
            )
        except items.ItemRefused as refusal:
            session.rollback()
            values = {
                "label": label,
                "low_anchor": low_anchor,
                "high_anchor": high_anchor,
                "better": better,
                "kind": kind,
            }
            return _page(
                request,
                session,
                user,
                errors={refusal.field: str(refusal)},
                values=values,
                status_code=422,
            )
        return _back("added")


@router.post("/settings/items/condition", response_class=HTMLResponse)
def save_condition(
    request: Request,
    database: DatabaseDep,
    user: WebUser,
    condition: Annotated[str, Form()] = "",
) -> Response:
    with database.write() as session:
        try:
            items.set_condition(session, user=user, condition=condition)
        except items.ItemRefused as refusal:
            return _page(
                request,
                session,
                user,
                errors={"condition": str(refusal)},
                values={"condition": condition},
                status_code=422,
            )
        return _back("condition")


# --- onboarding -------------------------------------------------------------------------------


@router.get("/welcome", response_class=HTMLResponse)
def welcome_page(request: Request, user: WebUser) -> Response:
    """After registration: what do you take LDN for? The matching pack is offered."""
    return render(
        request,
        "settings/welcome.html",
        {"conditions": CONDITIONS, "packs": PACKS_BY_KEY, "errors": {}},
    )


@router.post("/welcome", response_class=HTMLResponse)
def welcome_answer(
    request: Request,
    database: DatabaseDep,
    user: WebUser,
    condition: Annotated[str, Form()] = "",
    other: Annotated[str, Form()] = "",
    add_pack: Annotated[str, Form()] = "",
) -> Response:
    """Name the overall item after the condition and track its pack when the patient agrees."""
    with database.write() as session:
        name = CONDITION_NAMES.get(condition) or other.strip()
        try:
            items.set_condition(session, user=user, condition=name or None)
        except items.ItemRefused as refusal:
            return render(
                request,
                "settings/welcome.html",
                {
                    "conditions": CONDITIONS,
                    "packs": PACKS_BY_KEY,
                    "errors": {"other": str(refusal)},
                },
                status_code=422,
            )
        pack = CONDITION_PACKS.get(condition)
        if pack and add_pack == "1":
            items.track_pack(session, user=user, pack_key=pack)
        return RedirectResponse("/today?welcome=1", status_code=303)
