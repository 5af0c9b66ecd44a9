"""Share links (SPEC §6, §8): a doctor opens the patient's summary without an account.

The link carries a random token (32 bytes, URL-safe); the database keeps only its SHA-256,
so a copy of the database cannot open anyone's summary. A link expires (default 14 days),
can be revoked, shows the summary and its PDF and nothing else, and every opening is
logged for the patient to see.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session, col, select

from app.models import MAX_ROW_ID, ShareLink, ShareLinkOpening, utcnow
from app.services.accounts import hash_secret
from app.services.report import ReportOptions

DEFAULT_EXPIRES_IN_DAYS = 14
MAX_EXPIRES_IN_DAYS = 90
USER_AGENT_MAX = 200
# What secrets.token_urlsafe(32) produces: anything else cannot be a link, so it is not looked up.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}\Z")

LinkStatus = Literal["active", "expired", "revoked"]
Opened = Literal["html", "pdf"]


def new_link(
    session: Session, *, user_id: int, options: ReportOptions, expires_in_days: int
) -> tuple[ShareLink, str]:
    """A new link to the summary of `options`; returns the row and the token (shown once)."""
    if not 1 <= expires_in_days <= MAX_EXPIRES_IN_DAYS:
        raise ValueError(f"expires_in_days must be 1 to {MAX_EXPIRES_IN_DAYS}")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    link = ShareLink(
        user_id=user_id,
        token_hash=hash_secret(token),
        start_date=options.start,
        end_date=options.end,
        initials=options.initials or None,
        questions=options.questions or None,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days),
    )
    session.add(link)
    session.commit()
    session.refresh(link)
    return link, token


def share_url(base_url: str, token: str) -> str:
    """The address a doctor opens: this server's base URL (ending in /) and the token."""
    return f"{base_url}shared/{token}"


def link_options(link: ShareLink) -> ReportOptions:
    """The summary the patient chose to share with this link."""
    return ReportOptions(
        start=link.start_date, end=link.end_date, initials=link.initials, questions=link.questions
    )


def status(link: ShareLink, *, now: datetime | None = None) -> LinkStatus:
    """Revoked wins over expired: a revoked link answers 404, an expired one 410."""
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def list_links(session: Session, *, user_id: int) -> list[ShareLink]:
    """The patient's links, newest first."""
    statement = (
        select(ShareLink)
        .where(ShareLink.user_id == user_id)
        .order_by(col(ShareLink.created_at).desc(), col(ShareLink.id).desc())
    )
    return list(session.exec(statement))


def openings(session: Session, *, links: Sequence[ShareLink]) -> dict[int, list[ShareLinkOpening]]:
    """Every opening of these links, newest first, by link id."""
    ids = [link.id for link in links if link.id is not None]
    found: dict[int, list[ShareLinkOpening]] = {link_id: [] for link_id in ids}
    if not ids:
        return found
    statement = (
        select(ShareLinkOpening)
        .where(col(ShareLinkOpening.share_link_id).in_(ids))
        .order_by(col(ShareLinkOpening.opened_at).desc(), col(ShareLinkOpening.id).desc())
    )
    for opening in session.exec(statement):
        found[opening.share_link_id].append(opening)
    return found


def get_link(session: Session, *, user_id: int, link_id: int) -> ShareLink | None:
    """One of the patient's links; another patient's link is as good as missing."""
    if not 0 < link_id <= MAX_ROW_ID:
        return None  # no such row, and the database's integer key cannot even be asked
    statement = select(ShareLink).where(ShareLink.id == link_id, ShareLink.user_id == user_id)
    return session.exec(statement).first()


def revoke(session: Session, *, link: ShareLink) -> None:
    """Stop the link working at once; its openings stay listed."""
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.add(link)
        session.commit()


def find_by_token(session: Session, *, token: str) -> ShareLink | None:
    """The link a token opens (whatever its status), or None for a token that opens nothing."""
    if not _TOKEN_SHAPE.match(token):
        return None
    statement = select(ShareLink).where(ShareLink.token_hash == hash_secret(token))
    return session.exec(statement).first()


def record_opening(
    session: Session, *, link: ShareLink, what: Opened, user_agent: str | None
) -> None:
    """Log one opening for the patient to see."""
    assert link.id is not None
    session.add(
        ShareLinkOpening(
            share_link_id=link.id,
            what=what,
            user_agent=(user_agent or "")[:USER_AGENT_MAX] or None,
        )
    )
    session.commit()


@dataclass
class GuessLimiter:
    """Slows down anyone guessing tokens: after `max_misses` unknown tokens from one client
    within `window_seconds`, that client gets 429 until the oldest miss leaves the window.

    It lives in the memory of one process: each worker counts on its own, and a restart
    forgets. With 2^256 possible tokens guessing is hopeless anyway; this keeps the log clean
    and the database quiet. Several instances behind a load balancer would each allow the
    limit, which still leaves guessing hopeless.
    """

    max_misses: int = 10
    window_seconds: float = 600.0
    max_clients: int = 10_000

    def __post_init__(self) -> None:
        self._misses: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str, *, now: float | None = None) -> int | None:
        """Seconds this client must wait, or None when it may try."""
        now = time.monotonic() if now is None else now
        with self._lock:
            misses = self._misses.get(client)
            if misses is None:
                return None
            self._forget_old(misses, now)
            if not misses:
                del self._misses[client]
                return None
            if len(misses) < self.max_misses:
                return None
            return max(1, int(misses[0] + self.window_seconds - now + 0.999))

    def miss(self, client: str, *, now: float | None = None) -> None:
        """Count one unknown token from this client."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if client not in self._misses and len(self._misses) >= self.max_clients:
                self._prune(now)
            misses = self._misses.setdefault(client, deque())
            self._forget_old(misses, now)
            misses.append(now)
            while len(misses) > self.max_misses:
                misses.popleft()

    def _forget_old(self, misses: deque[float], now: float) -> None:
        while misses and misses[0] <= now - self.window_seconds:
            misses.popleft()

    def _prune(self, now: float) -> None:
        for client in list(self._misses):
            self._forget_old(self._misses[client], now)
            if not self._misses[client]:
                del self._misses[client]
        if len(self._misses) >= self.max_clients:
            # Still full: forget the clients whose latest miss is oldest.
            by_latest = sorted(self._misses, key=lambda client: self._misses[client][-1])
            for client in by_latest[: len(by_latest) // 2]:
                del self._misses[client]
