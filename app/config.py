"""Settings from environment variables (and an optional .env file)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path("data")


class Settings(BaseSettings):
    """Everything the app reads from its environment; nothing secret has a default."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["local", "test", "production"] = "local"
    database_url: str = f"sqlite:///./{DATA_DIR}/ldn-diary.db"
    secret_key: str = ""
    data_dir: Path = DATA_DIR
    # SQLite's durability: NORMAL survives a killed process, FULL a power cut too (slower).
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    # Seconds a browser session lasts without use, and at most however much it is used.
    session_idle_seconds: int = 60 * 60 * 24 * 30
    session_max_age_seconds: int = 60 * 60 * 24 * 90
    # Seconds an API token works from the sign-in that made it.
    api_token_max_age_seconds: int = 60 * 60 * 24 * 90
    # Failed sign-ins allowed per account and per address within the window, then 429.
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20
    login_window_seconds: int = 15 * 60
    # Accounts one network address may create within a day (then 429).
    registrations_per_address: int = 10

    # Overload (app.admission): requests handled at once, by kind; more wait at most
    # `queue_seconds` for a turn, then get 503 with Retry-After. Keep reads + writes + password
    # checks under the worker threads (40), so no admitted request ever waits for a thread.
    max_concurrent_reads: int = 20
    max_concurrent_writes: int = 10
    # Argon2 uses about 64 MB and 100 ms of one core per check: a few at a time.
    max_concurrent_password_checks: int = 4
    queue_seconds: float = 1.0
    # A SQLite write waits at most this long for the write lock (then 503).
    write_wait_seconds: float = 5.0

    # PostgreSQL: one connection per admitted request, and timeouts so a sick database
    # answers with an error page instead of hanging requests.
    database_pool_size: int = 36
    database_pool_timeout_seconds: float = 5.0
    database_connect_timeout_seconds: int = 5
    database_statement_timeout_ms: int = 15000

    # Web Push (SPEC §13): the VAPID key (base64url, raw 32 bytes or DER; generated into the
    # data folder in local use) and the contact push services see.
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:reminders@ldn-diary.invalid"
    # Origins besides the known push services that may receive pushes ("http://127.0.0.1:9000"),
    # comma-separated: a push endpoint is a URL a browser sends, so nothing else is trusted.
    push_allowed_origins: str = ""

    @model_validator(mode="after")
    def _secret_key_present(self) -> Settings:
        if not self.secret_key and self.environment == "production":
            raise ValueError("SECRET_KEY must be set when ENVIRONMENT=production")
        return self

    @property
    def allowed_push_origins(self) -> frozenset[str]:
        """PUSH_ALLOWED_ORIGINS as a set of 'scheme://host:port' strings (lower case)."""
        return frozenset(
            origin.strip().rstrip("/").lower()
            for origin in self.push_allowed_origins.split(",")
            if origin.strip()
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key

    def resolved_vapid_private_key(self) -> str:
        """The configured VAPID key, or one generated once and kept in the data folder."""
        if self.vapid_private_key:
            return self.vapid_private_key
        key_file = self.data_dir / "vapid_private_key"
        if key_file.exists():
            return key_file.read_text().strip()
        from app.reminders.webpush import new_private_key

        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The web server and the sender may start together: the first link wins, both read it.
        draft = self.data_dir / f".vapid_private_key.{secrets.token_hex(8)}"
        draft.write_text(new_private_key())
        draft.chmod(0o600)
        try:
            os.link(draft, key_file)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
        return key_file.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
