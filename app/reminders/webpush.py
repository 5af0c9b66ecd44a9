"""Web Push: VAPID (RFC 8292) and aes128gcm encryption (RFC 8291) through pywebpush.

A push endpoint is a URL a browser sends us. Posting to any URL a client names would let it
make the server reach into its own network (request forgery), so only HTTPS endpoints of the
known push services, or origins listed in PUSH_ALLOWED_ORIGINS, are accepted and ever posted
to; redirects are not followed.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from urllib3.util import parse_url

# What a host name (or an IPv4 address) can hold, lower-cased.
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")
# The push services of Chrome/Android (FCM), Firefox (Mozilla autopush), Safari and iOS
# (Apple) and Edge (WNS): an endpoint's host must be one of these or end with "." + one.
PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "push.services.mozilla.com",
    "push.apple.com",
    "notify.windows.com",
)
# How long a push service may take to answer; a sender never waits longer.
TIMEOUT_SECONDS = 10
# A push service keeps an undelivered reminder this long for a phone that is offline.
TTL_SECONDS = 4 * 60 * 60


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_private_key() -> str:
    """A new VAPID private key: the raw 32-byte P-256 scalar, base64url."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return _b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def public_key(private_key: str) -> str:
    """The application server key a browser subscribes with (uncompressed point, base64url)."""
    from cryptography.hazmat.primitives import serialization
    from py_vapid import Vapid

    vapid = Vapid.from_string(private_key=private_key)
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(raw)


def endpoint_problem(endpoint: str, allowed_origins: frozenset[str]) -> str | None:
    """Why this endpoint is refused, or None when the server may post to it.

    The host is checked as the HTTP client that posts will read it, not only as urlsplit
    does: `https://169.254.169.254\\.fcm.googleapis.com/` is a push service's host to
    urlsplit and the cloud's metadata address to urllib3, which takes the backslash for the
    start of the path. So the host may hold only what a host name can, and both must agree."""
    not_a_url = "must be the push address your browser gave (a URL)"
    try:
        parts = urlsplit(endpoint)
        port = parts.port
        posted_to = (parse_url(endpoint).host or "").lower()
    except ValueError:
        return not_a_url
    host = (parts.hostname or "").lower()
    if not _HOST_NAME.fullmatch(host) or posted_to != host or parts.username or parts.password:
        return not_a_url
    scheme = parts.scheme.lower()
    origin = f"{scheme}://{host}"
    if port is not None:
        origin += f":{port}"
    if origin in allowed_origins:
        return None
    known = any(host == name or host.endswith("." + name) for name in PUSH_SERVICE_HOSTS)
    if known and scheme == "https" and port in (None, 443):
        return None
    return "must be an HTTPS address of a known push service (your browser's)"


def keys_problem(p256dh: str, auth: str) -> str | None:
    """Why the subscription's keys cannot be used to encrypt, or None."""
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        point = _b64url_decode(p256dh)
        secret = _b64url_decode(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return "keys must be the browser's subscription keys (p256dh and auth)"
    if len(secret) != 16:
        return "keys.auth must be the browser's 16-byte authentication secret"
    return None


@dataclass(frozen=True)
class Outcome:
    """What the push service answered: `status` (0 when it could not be reached)."""

    status: int

    @property
    def delivered(self) -> bool:
        return 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        """The subscription no longer exists (404 or 410): drop it."""
        return self.status in (404, 410)


@dataclass(frozen=True)
class PushTarget:
    endpoint: str
    p256dh: str
    auth: str


def send(
    target: PushTarget,
    message: dict[str, str],
    *,
    private_key: str,
    subject: str,
    allowed_origins: frozenset[str],
) -> Outcome:
    """Encrypt `message` (JSON) for one subscription and post it; never raises for the network."""
    # Imported here: pywebpush brings requests and aiohttp, which the web server never needs.
    import requests
    from py_vapid import Vapid
    from pywebpush import WebPusher

    class NoRedirects(requests.Session):
        """A push service answers; it never sends us on to another address."""

        def request(self, *args: Any, **kwargs: Any) -> requests.Response:
            kwargs["allow_redirects"] = False
            return super().request(*args, **kwargs)

    if endpoint_problem(target.endpoint, allowed_origins) is not None:
        return Outcome(status=404)  # an address we would not post to is as good as gone
    parts = urlsplit(target.endpoint)
    claims = {"sub": subject, "aud": f"{parts.scheme}://{parts.netloc}"}
    try:
        vapid = Vapid.from_string(private_key=private_key)
        headers = vapid.sign(claims)
        headers["Urgency"] = "normal"
        subscription = {
            "endpoint": target.endpoint,
            "keys": {"p256dh": target.p256dh, "auth": target.auth},
        }
        with NoRedirects() as http:
            response = WebPusher(subscription, requests_session=http).send(
                json.dumps(message),
                headers,
                ttl=TTL_SECONDS,
                content_encoding="aes128gcm",
                timeout=TIMEOUT_SECONDS,
            )
        assert isinstance(response, requests.Response)
        return Outcome(status=response.status_code)
    except requests.RequestException:
        return Outcome(status=0)
