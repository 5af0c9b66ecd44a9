"""Share links to the doctor's summary: create, list (with every opening), revoke."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.api.report import checked_options
from app.db import DatabaseDep, fresh
from app.deps import ApiOwnedShareLink, ApiUser
from app.models import ShareLink, ShareLinkOpening
from app.schemas import (
    ShareLinkCreate,
    ShareLinkCreated,
    ShareLinkOpeningPublic,
    ShareLinkPublic,
)
from app.services import share_links

router = APIRouter(prefix="/share-links", tags=["doctor summary"])


def _public(link: ShareLink, openings: list[ShareLinkOpening]) -> ShareLinkPublic:
    assert link.id is not None
    return ShareLinkPublic(
        id=link.id,
        status=share_links.status(link),
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        start=link.start_date,
        end=link.end_date,
        initials=link.initials,
        openings=[
            ShareLinkOpeningPublic.model_validate(opening, from_attributes=True)
            for opening in openings
        ],
    )


@router.post("", status_code=201, response_model=ShareLinkCreated)
def create_link(
    data: ShareLinkCreate, request: Request, user: ApiUser, database: DatabaseDep
) -> ShareLinkCreated:
    """A link that opens the summary without an account; the url is returned only here."""
    assert user.id is not None
    with database.read() as session:
        options = checked_options(
            session,
            user,
            start=data.start,
            end=data.end,
            initials=data.initials,
            questions=data.questions,
            location="body",
        )
    with database.write() as session:
        link, token = share_links.new_link(
            session, user_id=user.id, options=options, expires_in_days=data.expires_in_days
        )
    assert link.id is not None
    return ShareLinkCreated(
        id=link.id,
        url=share_links.share_url(str(request.base_url), token),
        expires_at=link.expires_at,
        start=link.start_date,
        end=link.end_date,
    )


@router.get("", response_model=list[ShareLinkPublic])
def list_links(user: ApiUser, database: DatabaseDep) -> list[ShareLinkPublic]:
    """Every link, newest first, with its status and every opening."""
    assert user.id is not None
    with database.read() as session:
        links = share_links.list_links(session, user_id=user.id)
        opened = share_links.openings(session, links=links)
    return [_public(link, opened.get(link.id or 0, [])) for link in links]


@router.delete("/{link_id}", status_code=204)
def revoke_link(link: ApiOwnedShareLink, database: DatabaseDep) -> Response:
    """Stop the link at once (it then answers 404); its openings stay listed."""
    with database.write() as session:
        share_links.revoke(session, link=fresh(session, link))
    return Response(status_code=204)
