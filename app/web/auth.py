"""/register, /login and /logout for browsers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlmodel import Session

from app.db import DatabaseDep
from app.deps import SESSION_COOKIE, optional_web_user, registering, signing_in
from app.models import User
from app.security import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_MAX_AGE,
    device_cookie_value,
    rotate_csrf,
)
from app.services import accounts, login_throttle
from app.web.templating import render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never send a patient off to another origin after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/today"


def sign_in(request: Request, session: Session, user: User, target: str) -> Response:
    """Start a fresh browser session (never reuse one from before sign-in) and redirect.
    The browser also gets a device key: later guesses at the account from other devices do
    not lock this one out (services.login_throttle)."""
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        accounts.end_browser_session(session, token=old)
    token = accounts.start_browser_session(session, user=user)
    rotate_csrf(request)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=request.app.state.settings.session_idle_seconds,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.set_cookie(
        DEVICE_COOKIE,
        device_cookie_value(request, user.email),
        max_age=DEVICE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


_EMAIL = TypeAdapter(EmailStr)


def _email_error(email: str) -> str | None:
    try:
        _EMAIL.validate_python(email)
    except ValidationError:
        return "Enter an email address like name@example.com"
    return None


@router.get("/register", response_class=HTMLResponse)
def register_page(
    request: Request, user: Annotated[User | None, Depends(optional_web_user)]
) -> Response:
    if user is not None:
        return RedirectResponse("/today", status_code=303)
    return render(request, "auth/register.html", {"values": {}, "errors": {}})


@router.post("/register", response_class=HTMLResponse)
def register(
    request: Request,
    database: DatabaseDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "UTC",
) -> Response:
    status_code, retry_after = 422, 0
    errors: dict[str, str] = {}
    email_problem = _email_error(email)
    if email_problem:
        errors["email"] = email_problem
    password_problem = accounts.password_problem(password, email=email)
    if password_problem:
        errors["password"] = password_problem
    if not errors:
        try:
            user = registering(request, database, email=email, password=password, timezone=timezone)
        except login_throttle.TooManyAttempts as wait:
            errors["email"] = "Too many new accounts from this network today. Try again later."
            status_code, retry_after = 429, wait.retry_after
        except accounts.WeakPassword as problem:
            errors["password"] = str(problem)
        except accounts.EmailTaken:
            errors["email"] = "There is already an account with this email. Sign in instead."
        else:
            with database.write() as session:
                return sign_in(request, session, user, "/welcome")
    response = render(
        request,
        "auth/register.html",
        {"values": {"email": email}, "errors": errors},
        status_code=status_code,
    )
    if status_code == 429:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    user: Annotated[User | None, Depends(optional_web_user)],
    next: str | None = None,
) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"values": {}, "errors": {}, "next": next or ""})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    database: DatabaseDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    context = {"values": {"email": email}, "next": next}
    try:
        user = signing_in(request, database, email=email, password=password)
    except login_throttle.TooManyAttempts as wait:
        response = render(
            request,
            "auth/login.html",
            {**context, "errors": {"password": str(wait)}},
            status_code=429,
        )
        response.headers["Retry-After"] = str(wait.retry_after)
        return response
    if user is None:
        message = "That email and password do not match an account."
        return render(
            request,
            "auth/login.html",
            {**context, "errors": {"password": message}},
            status_code=401,
        )
    with database.write() as session:
        return sign_in(request, session, user, _safe_next(next))


@router.post("/logout")
def logout(request: Request, database: DatabaseDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with database.write() as session:
            accounts.end_browser_session(session, token=token)
    rotate_csrf(request)
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    # Cached pages of this account go; the offline outbox stays, so no unsynced day is lost.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response
