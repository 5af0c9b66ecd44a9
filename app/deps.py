"""Who is asking, and which rows they may see.

Every route that touches a patient's data gets the patient from `WebUser` or `ApiUser`,
and every row it loads through an `Owned…` dependency scoped to that patient: another
patient's entry or step answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.db import Database, SessionDep, read_session, write_session
from app.models import DiaryEntry, DoseStep, ShareLink, User
from app.services import accounts, dose_steps, entries, login_throttle, share_links

SESSION_COOKIE = "ldn_session"
# A row id in a URL. One no database key can be (outside 1..MAX_ROW_ID) is simply not found,
# like any other missing row: the services check the range before they query.
RowId = Annotated[int, Path()]


class LoginRequired(Exception):
    """A browser page needs a signed-in patient; the app redirects to /login."""


def optional_web_user(request: Request, session: SessionDep) -> User | None:
    """The patient signed in on this browser, if any."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    settings = request.app.state.settings
    user = accounts.user_for_browser_session(
        session,
        token=token,
        idle_seconds=settings.session_idle_seconds,
        max_age_seconds=settings.session_max_age_seconds,
    )
    request.state.user = user
    return user


def web_user(user: Annotated[User | None, Depends(optional_web_user)]) -> User:
    if user is None:
        raise LoginRequired()
    return user


bearer_scheme = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")


def api_user(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> User:
    """The patient a bearer token belongs to; 401 without a valid one."""
    user = None
    if credentials is not None:
        user = accounts.user_for_api_token(
            session,
            token=credentials.credentials,
            max_age_seconds=request.app.state.settings.api_token_max_age_seconds,
        )
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="Sign in first: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def password_reentry(
    request: Request, session: SessionDep, user: User
) -> AbstractContextManager[None]:
    """Around a password the signed-in patient gives again: throttled like sign-in."""
    return login_throttle.password_attempt(
        session,
        email=user.email,
        address=login_throttle.client_address(request.client),
        rules=login_throttle.rules_from(request.app.state.settings),
    )


def signing_in(request: Request, database: Database, *, email: str, password: str) -> User | None:
    """The account these credentials open, or None; raises TooManyAttempts while throttled.

    Three short steps, so the slow password check (about 100 ms of Argon2) holds no write lock
    and other patients' saves do not queue behind a sign-in: count the attempt, check the
    password reading only, then clear the count (and renew a hash made with weaker settings).
    """
    rules = login_throttle.rules_from(request.app.state.settings)
    address = login_throttle.client_address(request.client)
    with write_session(database) as session:
        login_throttle.begin(session, email=email, address=address, rules=rules)
    with read_session(database) as session:
        user = accounts.authenticate(session, email=email, password=password)
    if user is None:
        return None  # the attempt stays counted
    stronger = accounts.stronger_hash(user, password)
    with write_session(database) as session:
        login_throttle.clear(session, email=email)
        if stronger:
            accounts.store_hash(session, user=user, password_hash=stronger)
    return user


WebUser = Annotated[User, Depends(web_user)]
ApiUser = Annotated[User, Depends(api_user)]


def _owned_step(session: SessionDep, user: User, step_id: int) -> DoseStep:
    assert user.id is not None
    step = dose_steps.get_step(session, user_id=user.id, step_id=step_id)
    if step is None:
        raise HTTPException(status_code=404, detail="No such dose step")
    return step


def api_owned_step(session: SessionDep, user: ApiUser, step_id: RowId) -> DoseStep:
    return _owned_step(session, user, step_id)


def web_owned_step(session: SessionDep, user: WebUser, step_id: RowId) -> DoseStep:
    return _owned_step(session, user, step_id)


def api_owned_entry(
    session: SessionDep, user: ApiUser, day: Annotated[date, Path(alias="date")]
) -> DiaryEntry:
    assert user.id is not None
    entry = entries.get_entry(session, user_id=user.id, day=day)
    if entry is None:
        raise HTTPException(status_code=404, detail="No entry for that day")
    return entry


ApiOwnedStep = Annotated[DoseStep, Depends(api_owned_step)]
WebOwnedStep = Annotated[DoseStep, Depends(web_owned_step)]
ApiOwnedEntry = Annotated[DiaryEntry, Depends(api_owned_entry)]


def _owned_share_link(session: SessionDep, user: User, link_id: int) -> ShareLink:
    assert user.id is not None
    link = share_links.get_link(session, user_id=user.id, link_id=link_id)
    if link is None:
        raise HTTPException(status_code=404, detail="No such share link")
    return link


def api_owned_share_link(session: SessionDep, user: ApiUser, link_id: RowId) -> ShareLink:
    return _owned_share_link(session, user, link_id)


def web_owned_share_link(session: SessionDep, user: WebUser, link_id: RowId) -> ShareLink:
    return _owned_share_link(session, user, link_id)


ApiOwnedShareLink = Annotated[ShareLink, Depends(api_owned_share_link)]
WebOwnedShareLink = Annotated[ShareLink, Depends(web_owned_share_link)]
