"""A demo account with 90 days of diary, for Lighthouse and screenshots.

python bench/demo_account.py DATABASE_URL     create demo@example.org with a diary
python bench/demo_account.py --cookie BASE    sign in at BASE and print the session cookie
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlmodel import Session, create_engine  # noqa: E402

from app.models import User  # noqa: E402
from app.services.accounts import _hasher  # noqa: E402
from bench.synthetic import seed_diary  # noqa: E402

EMAIL = "demo@example.org"
PASSWORD = "demo diary passphrase"


def create(database_url: str) -> None:
    engine = create_engine(database_url)
    with Session(engine) as session:
        user = User(email=EMAIL, password_hash=_hasher.hash(PASSWORD))
        session.add(user)
        session.commit()
        session.refresh(user)
        seed_diary(session, user=user, days=90, steps=4, end=date.today())
    engine.dispose()


def cookie(base: str) -> str:
    with httpx.Client(base_url=base) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token
        client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token[1]})
        return str(client.cookies["ldn_session"])


if __name__ == "__main__":
    if sys.argv[1] == "--cookie":
        print(cookie(sys.argv[2]))
    else:
        create(sys.argv[1])
