"""POST /api/v1/auth/register, /token and /logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from app.api.errors import field_error
from app.db import DatabaseDep, SessionDep, write_session
from app.deps import ApiUser, bearer_scheme, signing_in
from app.schemas import Credentials, Registration, TokenPublic, UserPublic
from app.services import accounts, login_throttle

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/register", status_code=201, response_model=UserPublic)
def register(registration: Registration, session: SessionDep) -> UserPublic:
    """Create an account in an IANA time zone (UTC when left out). 409 when the email is taken."""
    try:
        user = accounts.register(
            session,
            email=registration.email,
            password=registration.password,
            timezone=registration.timezone or "UTC",
        )
    except accounts.WeakPassword as problem:
        raise field_error(["body", "password"], str(problem)) from None
    except accounts.EmailTaken:
        raise HTTPException(status_code=409, detail="An account with that email exists") from None
    assert user.id is not None
    return UserPublic(id=user.id, email=user.email)


@router.post(
    "/token",
    response_model=TokenPublic,
    responses={401: {"description": "Wrong email or password"}, 429: {"description": "Wait"}},
)
def token(credentials: Credentials, database: DatabaseDep, request: Request) -> TokenPublic:
    """Exchange email and password for a bearer token (throttled like the sign-in page)."""
    try:
        user = signing_in(request, database, email=credentials.email, password=credentials.password)
    except login_throttle.TooManyAttempts as wait:
        raise HTTPException(
            status_code=429, detail=str(wait), headers={"Retry-After": str(wait.retry_after)}
        ) from None
    if user is None:
        raise HTTPException(status_code=401, detail="Email or password is wrong")
    with write_session(database) as session:
        return TokenPublic(access_token=accounts.issue_api_token(session, user=user))


@router.post("/logout", status_code=204)
def logout(
    _user: ApiUser,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Response:
    """Revoke the token this request was made with."""
    assert credentials is not None
    accounts.revoke_api_token(session, token=credentials.credentials)
    return Response(status_code=204)
