"""A storm of concurrent writing requests against a live server (run in its own process).

`python -m tests.robustness.storm URL SECONDS CONNECTIONS TOKEN...` keeps CONNECTIONS
connections busy for SECONDS with a mix of anonymous and signed-in writes: registrations,
guessed share links, wrong passwords and diary saves. It prints one JSON line: the count of
each status code, and of errors (timeouts, refused connections) by name.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import sys
import time
from collections import Counter
from datetime import date, timedelta

import httpx


async def one_connection(
    client: httpx.AsyncClient, index: int, deadline: float, tokens: list[str], tally: Counter[str]
) -> None:
    rng = random.Random(index)
    kind = index % 4
    sent = 0
    while time.monotonic() < deadline:
        sent += 1
        try:
            if kind == 0:
                response = await client.post(
                    "/api/v1/auth/register",
                    json={"email": f"storm{index}-{sent}@example.org", "password": "x" * 12},
                )
            elif kind == 1:
                response = await client.get(f"/shared/{secrets.token_urlsafe(32)}")
            elif kind == 2:
                response = await client.post(
                    "/api/v1/auth/token",
                    json={"email": f"nobody{index}@example.org", "password": "wrong password"},
                )
            else:
                token = tokens[index % len(tokens)]
                day = date(2026, 1, 1) + timedelta(days=rng.randrange(300))
                response = await client.put(
                    f"/api/v1/entries/{day.isoformat()}",
                    json={"pain": rng.randrange(101)},
                    headers={"Authorization": f"Bearer {token}"},
                )
            tally[str(response.status_code)] += 1
            if response.status_code in (429, 503):
                await asyncio.sleep(0.05)
        except httpx.HTTPError as error:
            tally[type(error).__name__] += 1


async def storm(url: str, seconds: float, connections: int, tokens: list[str]) -> Counter[str]:
    tally: Counter[str] = Counter()
    # A new connection per request: a kept-alive one that sat idle on a starved client could
    # meet the server closing it (its keep-alive timeout), a client-side race, not a failure.
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=15) as client:
        deadline = time.monotonic() + seconds
        await asyncio.gather(
            *(
                one_connection(client, index, deadline, tokens, tally)
                for index in range(connections)
            )
        )
    return tally


if __name__ == "__main__":
    url, seconds, connections, *tokens = sys.argv[1:]
    result = asyncio.run(storm(url, float(seconds), int(connections), tokens))
    print(json.dumps(dict(result)))
