"""POST /api/v1/auth/register, /token and /logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from app.api.errors import field_error
from app.db import DatabaseDep
from app.deps import ApiUser, bearer_scheme, registering, signing_in
from app.schemas import Credentials, Registration, TokenPublic, UserPublic
from app.security import DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE, device_cookie_value
from app.services import accounts, login_throttle

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=201,
    response_model=UserPublic,
    responses={409: {"description": "Email taken"}, 429: {"description": "Too many"}},
)
def register(registration: Registration, database: DatabaseDep, request: Request) -> UserPublic:
    """Create an account in an IANA time zone (UTC when left out). 409 when the email is taken.
    A network address may create a few accounts a day (then 429 with Retry-After)."""
    try:
        user = registering(
            request,
            database,
            email=registration.email,
            password=registration.password,
            timezone=registration.timezone or "UTC",
        )
    except login_throttle.TooManyAttempts as wait:
        raise HTTPException(
            status_code=429, detail=str(wait), headers={"Retry-After": str(wait.retry_after)}
        ) from None
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
def token(
    credentials: Credentials, database: DatabaseDep, request: Request, response: Response
) -> TokenPublic:
    """Exchange email and password for a bearer token (throttled like the sign-in page).

    The answer also sets a device cookie: a client that keeps it is recognised as one that
    signed in before, and is not held up by guesses at the account from elsewhere."""
    try:
        user = signing_in(request, database, email=credentials.email, password=credentials.password)
    except login_throttle.TooManyAttempts as wait:
        raise HTTPException(
            status_code=429, detail=str(wait), headers={"Retry-After": str(wait.retry_after)}
        ) from None
    if user is None:
        raise HTTPException(status_code=401, detail="Email or password is wrong")
    with database.write() as session:
        token = accounts.issue_api_token(session, user=user)
    response.set_cookie(
        DEVICE_COOKIE,
        device_cookie_value(request, user.email),
        max_age=DEVICE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return TokenPublic(access_token=token)


@router.post("/logout", status_code=204)
def logout(
    _user: ApiUser,
    database: DatabaseDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Response:
    """Revoke the token this request was made with."""
    assert credentials is not None
    with database.write() as session:
        accounts.revoke_api_token(session, token=credentials.credentials)
    return Response(status_code=204)
