"""Who is asking, and which rows they may see.

Every route that touches a patient's data gets the patient from `WebUser` or `ApiUser`,
and every row it loads through an `Owned…` dependency scoped to that patient: another
patient's entry or step answers 404, exactly like one that does not exist. Each of these
opens and closes its own short database session (see app.db): the rows they hand over are
detached, and a route that changes one does so in its own `database.write()` block.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.db import Database, DatabaseBusy, DatabaseDep
from app.models import DiaryEntry, DoseStep, ShareLink, User
from app.security import SESSION_COOKIE, known_device, signed_in_device
from app.services import accounts, dose_steps, entries, login_throttle, share_links

# A row id in a URL. One no database key can be (outside 1..MAX_ROW_ID) is simply not found,
# like any other missing row: the services check the range before they query.
RowId = Annotated[int, Path()]


class LoginRequired(Exception):
    """A browser page needs a signed-in patient; the app redirects to /login."""


def optional_web_user(request: Request, database: DatabaseDep) -> User | None:
    """The patient signed in on this browser, if any."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    settings = request.app.state.settings
    with database.read() as session:
        found = accounts.browser_session(
            session,
            token=token,
            idle_seconds=settings.session_idle_seconds,
            max_age_seconds=settings.session_max_age_seconds,
        )
    if found.ended or found.needs_touch:
        try:
            # A page view does not queue behind saves for this bookkeeping.
            with database.write(wait_seconds=0.05) as session:
                accounts.after_browser_session_check(session, found)
        except DatabaseBusy:
            # Writing it down can wait for the next page: an ended session is refused either
            # way, and the touch happens at most once a minute anyway.
            pass
    request.state.user = found.user
    return found.user


def web_user(user: Annotated[User | None, Depends(optional_web_user)]) -> User:
    if user is None:
        raise LoginRequired()
    return user


bearer_scheme = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")


async def api_user(
    request: Request,
    database: DatabaseDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> User:
    """The patient a bearer token belongs to; 401 without a valid one. One indexed query, on
    the event loop where that cannot wait (see app.db)."""
    user = None
    if credentials is not None:
        max_age = request.app.state.settings.api_token_max_age_seconds
        token = credentials.credentials
        user = await database.run_read(
            lambda connection: accounts.user_for_api_token(
                connection, token=token, max_age_seconds=max_age
            )
        )
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="Sign in first: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def signing_in(request: Request, database: Database, *, email: str, password: str) -> User | None:
    """The account these credentials open, or None; raises TooManyAttempts while throttled.

    Three short steps, so the slow password check (about 100 ms of Argon2) holds no write lock
    and other patients' saves do not queue behind a sign-in: count the attempt, check the
    password reading only, then clear the count (and renew a hash made with weaker settings).
    A browser or script that signed in to this account before is known by its device key and
    is not held up by guesses from elsewhere (services.login_throttle).
    """
    rules = login_throttle.rules_from(request.app.state.settings)
    address = login_throttle.client_address(request.client)
    device = known_device(request, email)
    with database.write() as session:
        login_throttle.begin(session, email=email, address=address, rules=rules, device=device)
    with database.read() as session:
        user = accounts.authenticate(session, email=email, password=password)
    if user is None:
        return None  # the attempt stays counted
    stronger = accounts.stronger_hash(user, password)
    with database.write() as session:
        login_throttle.clear(session, email=email, device=device)
        if stronger:
            accounts.store_hash(session, user=user, password_hash=stronger)
    return user


def registering(
    request: Request, database: Database, *, email: str, password: str, timezone: str
) -> User:
    """A new account; raises TooManyAttempts (too many from this address today), WeakPassword
    or EmailTaken. The password is hashed before anything is looked up, so a taken email
    answers in the same time as a free one, and outside any write."""
    settings = request.app.state.settings
    address = login_throttle.client_address(request.client)
    with database.write() as session:
        login_throttle.begin_registration(
            session, address=address, per_address=settings.registrations_per_address
        )
    password_hash = accounts.registration_hash(email=email, password=password)
    with database.write() as session:
        return accounts.register(
            session, email=email, password_hash=password_hash, timezone=timezone
        )


def confirming_password(
    request: Request, database: Database, *, user: User, password: str, wrong: str
) -> None:
    """The signed-in patient gives their password again (to change it, or to delete the
    account): raises TooManyAttempts while throttled, WrongPassword(`wrong`) when it is not
    theirs. Throttled per signed-in session, so guesses at the account from elsewhere never
    stop its owner; the same three short steps as `signing_in`."""
    rules = login_throttle.rules_from(request.app.state.settings)
    address = login_throttle.client_address(request.client)
    device = signed_in_device(request)
    with database.write() as session:
        login_throttle.begin(session, email=user.email, address=address, rules=rules, device=device)
    if not accounts.password_matches(user, password):
        raise accounts.WrongPassword(wrong)  # the attempt stays counted
    with database.write() as session:
        login_throttle.clear(session, email=user.email, device=device)


WebUser = Annotated[User, Depends(web_user)]
ApiUser = Annotated[User, Depends(api_user)]


def _owned_step(database: Database, user: User, step_id: int) -> DoseStep:
    assert user.id is not None
    with database.read() as session:
        step = dose_steps.get_step(session, user_id=user.id, step_id=step_id)
    if step is None:
        raise HTTPException(status_code=404, detail="No such dose step")
    return step


def api_owned_step(database: DatabaseDep, user: ApiUser, step_id: RowId) -> DoseStep:
    return _owned_step(database, user, step_id)


def web_owned_step(database: DatabaseDep, user: WebUser, step_id: RowId) -> DoseStep:
    return _owned_step(database, user, step_id)


def api_owned_entry(
    database: DatabaseDep, user: ApiUser, day: Annotated[date, Path(alias="date")]
) -> DiaryEntry:
    assert user.id is not None
    with database.read() as session:
        entry = entries.get_entry(session, user_id=user.id, day=day)
    if entry is None:
        raise HTTPException(status_code=404, detail="No entry for that day")
    return entry


ApiOwnedStep = Annotated[DoseStep, Depends(api_owned_step)]
WebOwnedStep = Annotated[DoseStep, Depends(web_owned_step)]
ApiOwnedEntry = Annotated[DiaryEntry, Depends(api_owned_entry)]


def _owned_share_link(database: Database, user: User, link_id: int) -> ShareLink:
    assert user.id is not None
    with database.read() as session:
        link = share_links.get_link(session, user_id=user.id, link_id=link_id)
    if link is None:
        raise HTTPException(status_code=404, detail="No such share link")
    return link


def api_owned_share_link(database: DatabaseDep, user: ApiUser, link_id: RowId) -> ShareLink:
    return _owned_share_link(database, user, link_id)


def web_owned_share_link(database: DatabaseDep, user: WebUser, link_id: RowId) -> ShareLink:
    return _owned_share_link(database, user, link_id)


ApiOwnedShareLink = Annotated[ShareLink, Depends(api_owned_share_link)]
WebOwnedShareLink = Annotated[ShareLink, Depends(web_owned_share_link)]
