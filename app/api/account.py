"""The account itself: change the password, sign out everywhere, delete everything."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from app.api.errors import field_error
from app.db import DatabaseDep
from app.deps import ApiUser, confirming_password
from app.schemas import PasswordChange, PasswordConfirmation, TokenPublic
from app.services import accounts, login_throttle

router = APIRouter(prefix="/account", tags=["account"])
CURRENT = "That is not your current password."
YOURS = "That is not your password."


def _wrong_password(problem: accounts.WrongPassword) -> HTTPException:
    return HTTPException(status_code=403, detail=str(problem))


def _too_many(wait: login_throttle.TooManyAttempts) -> HTTPException:
    return HTTPException(
        status_code=429, detail=str(wait), headers={"Retry-After": str(wait.retry_after)}
    )


@router.post("/password", response_model=TokenPublic, responses={403: {"description": "Wrong"}})
def change_password(
    body: PasswordChange, user: ApiUser, database: DatabaseDep, request: Request
) -> TokenPublic:
    """Set a new password. Every browser session and API token ends, this one included;
    the answer carries a fresh token for the caller."""
    try:
        password_hash = accounts.new_password_hash(user, body.new_password)
        confirming_password(
            request, database, user=user, password=body.current_password, wrong=CURRENT
        )
    except login_throttle.TooManyAttempts as wait:
        raise _too_many(wait) from None
    except accounts.WrongPassword as problem:
        raise _wrong_password(problem) from None
    except accounts.WeakPassword as problem:
        raise field_error(["body", "new_password"], str(problem)) from None
    with database.write() as session:
        accounts.set_password(session, user=user, password_hash=password_hash)
        return TokenPublic(access_token=accounts.issue_api_token(session, user=user))


@router.post("/logout-everywhere", status_code=204)
def logout_everywhere(user: ApiUser, database: DatabaseDep) -> Response:
    """End every browser session and revoke every API token of the account."""
    with database.write() as session:
        accounts.end_every_session(session, user=user)
    return Response(status_code=204)


@router.delete("", status_code=204, responses={403: {"description": "Wrong password"}})
def delete_account(
    body: PasswordConfirmation, user: ApiUser, database: DatabaseDep, request: Request
) -> Response:
    """Delete the account and every row it owns, after the password is given again."""
    try:
        confirming_password(request, database, user=user, password=body.password, wrong=YOURS)
    except login_throttle.TooManyAttempts as wait:
        raise _too_many(wait) from None
    except accounts.WrongPassword as problem:
        raise _wrong_password(problem) from None
    with database.write() as session:
        accounts.delete_account(session, user=user)
    return Response(status_code=204)
