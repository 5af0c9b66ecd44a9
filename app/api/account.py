"""The account itself: change the password, sign out everywhere, delete everything."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from app.api.errors import field_error
from app.db import SessionDep
from app.deps import ApiUser, password_reentry
from app.schemas import PasswordChange, PasswordConfirmation, TokenPublic
from app.services import accounts, login_throttle

router = APIRouter(prefix="/account", tags=["account"])


def _wrong_password(problem: accounts.WrongPassword) -> HTTPException:
    return HTTPException(status_code=403, detail=str(problem))


def _too_many(wait: login_throttle.TooManyAttempts) -> HTTPException:
    return HTTPException(
        status_code=429, detail=str(wait), headers={"Retry-After": str(wait.retry_after)}
    )


@router.post("/password", response_model=TokenPublic, responses={403: {"description": "Wrong"}})
def change_password(
    body: PasswordChange, user: ApiUser, session: SessionDep, request: Request
) -> TokenPublic:
    """Set a new password. Every browser session and API token ends, this one included;
    the answer carries a fresh token for the caller."""
    try:
        with password_reentry(request, session, user):
            accounts.change_password(
                session, user=user, current=body.current_password, new=body.new_password
            )
    except login_throttle.TooManyAttempts as wait:
        raise _too_many(wait) from None
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
def delete_account(
    body: PasswordConfirmation, user: ApiUser, session: SessionDep, request: Request
) -> Response:
    """Delete the account and every row it owns, after the password is given again."""
    try:
        with password_reentry(request, session, user):
            accounts.delete_account(session, user=user, password=body.password)
    except login_throttle.TooManyAttempts as wait:
        raise _too_many(wait) from None
    except accounts.WrongPassword as problem:
        raise _wrong_password(problem) from None
    return Response(status_code=204)
