"""The account itself: change the password, sign out everywhere, delete everything."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from app.api.errors import field_error
from app.db import SessionDep
from app.deps import ApiUser
from app.schemas import PasswordChange, PasswordConfirmation, TokenPublic
from app.services import accounts

router = APIRouter(prefix="/account", tags=["account"])


def _wrong_password(problem: accounts.WrongPassword) -> HTTPException:
    return HTTPException(status_code=403, detail=str(problem))


@router.post("/password", response_model=TokenPublic, responses={403: {"description": "Wrong"}})
def change_password(body: PasswordChange, user: ApiUser, session: SessionDep) -> TokenPublic:
    """Set a new password. Every browser session and API token ends, this one included;
    the answer carries a fresh token for the caller."""
    try:
        accounts.change_password(
            session, user=user, current=body.current_password, new=body.new_password
        )
    except accounts.WrongPassword as problem:
        raise _wrong_password(problem) from None
    except accounts.WeakPassword as problem:
        raise field_error(["body", "new_password"], str(problem)) from None
    return TokenPublic(access_token=accounts.issue_api_token(session, user=user))


@router.post("/logout-everywhere", status_code=204)
def logout_everywhere(user: ApiUser, session: SessionDep) -> Response:
    """End every browser session and revoke every API token of the account."""
    accounts.end_every_session(session, user=user)
    return Response(status_code=204)


@router.delete("", status_code=204, responses={403: {"description": "Wrong password"}})
def delete_account(body: PasswordConfirmation, user: ApiUser, session: SessionDep) -> Response:
    """Delete the account and every row it owns, after the password is given again."""
    try:
        accounts.delete_account(session, user=user, password=body.password)
    except accounts.WrongPassword as problem:
        raise _wrong_password(problem) from None
    return Response(status_code=204)
