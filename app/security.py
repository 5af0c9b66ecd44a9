"""Security headers and CSRF protection for the browser side of the app.

CSRF uses a signed double-submit token: the browser holds a random nonce in an HttpOnly
cookie, every page embeds HMAC(SECRET_KEY, nonce), and every state-changing request must
send that token back (form field `csrf_token` or header `X-CSRF-Token`, which htmx adds).
A page on another site can neither read the token nor forge it without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from http.cookies import SimpleCookie
from typing import Any

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "ldn_session"
# A browser that signed in to an account before: "<nonce>.<HMAC(key, account, nonce)>".
DEVICE_COOKIE = "ldn_device"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600
CSRF_COOKIE = "ldn_csrf"
# The nonce behind every form's token. Lax and long-lived, like the session: a visit that
# arrives from a link elsewhere (Strict would withhold the cookie) or after the browser
# restarts must not replace it, or every open tab and every day waiting offline would carry
# a token that no longer matches. It protects nothing by itself: the token is signed.
CSRF_COOKIE_MAX_AGE = 400 * 24 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is treated as no cookies
                return {}
            return {key: morsel.value for key, morsel in jar.items()}
    return {}


def is_https(scope: Scope) -> bool:
    return scope.get("scheme") == "https"


def cookie_header(name: str, value: str, *, max_age: int | None, secure: bool) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


class SecurityMiddleware:
    """Adds the security headers to every response and gives each browser a CSRF nonce."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = _cookies(scope).get(CSRF_COOKIE, "")
        new_nonce = None
        if len(nonce) < 20:
            new_nonce = nonce = secrets.token_urlsafe(24)
        scope.setdefault("state", {})["csrf_nonce"] = nonce
        https = is_https(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                defaults = {
                    b"content-security-policy": CONTENT_SECURITY_POLICY,
                    b"x-content-type-options": "nosniff",
                    b"referrer-policy": "no-referrer",
                    b"x-frame-options": "DENY",
                    b"permissions-policy": "camera=(), microphone=(), geolocation=()",
                    b"cross-origin-opener-policy": "same-origin",
                }
                if https:
                    defaults[b"strict-transport-security"] = "max-age=31536000; includeSubDomains"
                for name, value in defaults.items():
                    if name not in present:
                        headers.append((name, value.encode()))
                rotated = scope["state"].get("csrf_nonce")
                if new_nonce is not None or rotated != nonce:
                    cookie = cookie_header(
                        CSRF_COOKIE, rotated, max_age=CSRF_COOKIE_MAX_AGE, secure=https
                    )
                    headers.append((b"set-cookie", cookie.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# The largest body any route takes: a backup (services/backup.MAX_IMPORT_BYTES, 10 MB) with
# the upload form around it. Only the import routes take that much; every other body is at
# most MAX_FORM_BYTES (an offline outbox of many days, a batch of entries).
MAX_BODY_BYTES = 11 * 1024 * 1024
MAX_FORM_BYTES = 2 * 1024 * 1024
IMPORT_PATHS = frozenset({"/api/v1/import", "/settings/import", "/settings/import/confirm"})


def body_limit(path: str) -> int:
    return MAX_BODY_BYTES if path in IMPORT_PATHS else MAX_FORM_BYTES


class BufferedBodyMiddleware:
    """Receives a request's whole body before the app sees the request, refusing (413) one
    larger than its route takes (`body_limit`) as soon as it says so or grows past it.

    A handler then never waits on the network, and the admission middleware around this one
    bounds how many bodies are held at once (app.admission).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send, limit)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: there is no request to answer
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await _too_large(scope, send, limit)
                return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # after the body: wait for the disconnect, as before
            delivered = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


async def _too_large(scope: Scope, send: Send, limit_bytes: int) -> None:
    limit = limit_bytes // (1024 * 1024)
    detail = f"This is larger than LDN Diary takes at once (at most {limit} MB)."
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps({"detail": detail}).encode()})


def _sign(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token this browser's forms must send back."""
    return _sign(request.app.state.secret_key, request.state.csrf_nonce)


def rotate_csrf(request: Request) -> None:
    """Give the browser a fresh nonce (at sign-in and sign-out)."""
    request.state.csrf_nonce = secrets.token_urlsafe(24)


async def require_csrf(request: Request) -> None:
    """Dependency for browser routers: refuse a state change without the page's token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, csrf_token(request)):
        raise HTTPException(
            status_code=403,
            detail="This form has expired. Go back, reload the page and try again.",
        )


def _device_signature(secret: str, email: str, nonce: str) -> str:
    message = f"device:{email.strip().lower()}:{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def device_cookie_value(request: Request, email: str) -> str:
    """The device key a browser or script gets when it signs in to the account `email`."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_device_signature(request.app.state.secret_key, email, nonce)}"


def known_device(request: Request, email: str) -> str | None:
    """This client's device key for the account `email`, when it signed in to it before.

    Only a key signed for that very account counts: a guesser cannot make one, and a key from
    one account says nothing about another.
    """
    value = request.cookies.get(DEVICE_COOKIE, "")
    nonce, _, signature = value.partition(".")
    if not nonce or not signature or len(value) > 100:
        return None
    expected = _device_signature(request.app.state.secret_key, email, nonce)
    if not hmac.compare_digest(signature, expected):
        return None
    return "device:" + hashlib.sha256(nonce.encode()).hexdigest()[:40]


def signed_in_device(request: Request) -> str:
    """The signed-in browser session or API token making this request, as a throttle key."""
    secret = request.cookies.get(SESSION_COOKIE, "")
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        secret = authorization[7:].strip()
    return "session:" + hashlib.sha256(secret.encode()).hexdigest()[:40]
