"""Benchmark (SPEC §11): the write path under load, on SQLite and on PostgreSQL.

Serves the app with uvicorn (one process, as `make run` does) on a fresh database, with one
extra route for comparison: a bare FastAPI JSON endpoint (`PUT /__bench__/bare/{day}`, the
same body parsed and echoed, through the same middleware, without database or sign-in; matched
before the app's own routes). Then:

1. Throughput: wrk, 20 connections for 10 s, against the bare endpoint (written `def`, as the
   app's routes mostly are, and `async def`) and against diary saves (`PUT
   /api/v1/entries/{day}`, 20 patients, each save a new pain score for one of 300 days, so it
   keeps the replaced version as a patient's edit does). Prints requests/s, p50 and p99 and
   the ratios (budget: saves >= 0.5 x bare). Then the saves again with each of the 20 clients
   pausing 100 ms between saves, like phones rather than a load generator, for their latency
   (budget p99 <= 25 ms at 20 clients): without pauses, 20 requests are always waiting in the
   server, and Little's law makes the median 20 / throughput even for the bare endpoint.
   For the paced saves it also prints their time in the app itself (`SaveTimes`), apart
   from their wait for the event loop.
2. Interference: one patient saves about every 50 ms (wrk, one connection) while one client
   imports a 9 MB backup (into a fresh account each time) and four clients pull a shared PDF,
   over and over. Prints that patient's save p50/p99 (budget p99 <= 100 ms).
3. Overload: 500 connections of mixed anonymous and signed-in writes for 10 s
   (tests/robustness/storm.py) while /login is asked every 250 ms. Prints the answers by
   status and the slowest /login (budget: within 2 s during and after; never a hang).

Run: .venv/bin/python bench/write_path.py   (SQLite; with BENCH_POSTGRES_URL set to a
     PostgreSQL database the bench may empty, PostgreSQL too). Needs wrk (Debian package).
     BENCH_PARTS=throughput,interference,overload picks the parts (all by default).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from app.config import Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from tests.conftest import migrate, reset_postgres_schema  # noqa: E402

PASSWORD = "a long bench passphrase"
# Between one phone's saves in the paced run: 20 phones then offer about 200 saves a second.
PAUSE_MS = 100
DAYS = [(date(2026, 1, 1) + timedelta(days=offset)).isoformat() for offset in range(300)]
WRK_SCRIPT = """
local tokens, days, counter = {}, {}, 0
for token in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do
  tokens[#tokens + 1] = token
end
for day in string.gmatch(os.getenv("BENCH_DAYS"), "[^,]+") do days[#days + 1] = day end
local path = os.getenv("BENCH_PATH")
-- A new pain score each time: a save that changes the day (a revision is kept), not a
-- repeat of the same answers, which changes nothing and writes nothing.
local body = '{"pain": %d, "fatigue": 55, "side_effects": {"nausea": 1}}'
request = function()
  counter = counter + 1
  local headers = {["Content-Type"] = "application/json"}
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1] end
  local day = days[(counter % #days) + 1]
  return wrk.format("PUT", path .. day, headers, string.format(body, math.random(0, 100)))
end
local pause = tonumber(os.getenv("BENCH_PAUSE_MS") or "")
if pause then
  -- Each connection is one phone: between its saves it waits a random time, on average
  -- `pause` ms, so 20 phones do not all send at the same instant forever after.
  delay = function() return math.random(0, 2 * pause) end
end
"""


def serve(url: str, folder: str, port: int) -> None:
    """The server process: the app plus the bare endpoint, on its own interpreter."""
    settings = Settings(
        database_url=url,
        secret_key="bench",
        data_dir=Path(folder),
        registrations_per_address=1_000_000,
        login_failures_per_address=1_000_000,
    )
    app = create_app(settings)

    @app.put("/__bench__/bare/{day}")
    def bare(day: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"date": day, **body}

    @app.put("/__bench__/bare-async/{day}")
    async def bare_async(day: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"date": day, **body}

    # Matched first, as in an app of one route. Added last, they were matched only after the
    # app's 129 routes had been tried: about 1 ms a request on this machine, which made the
    # bare endpoints look twice as slow and the ratios too kind. The save pays only for the
    # routes tried before its own (about 15).
    routes = app.router.routes
    routes[:0] = [routes.pop(), routes.pop()]

    uvicorn.run(SaveTimes(app), host="127.0.0.1", port=port, log_level="warning")


class SaveTimes:
    """Times each diary save from the moment uvicorn hands it to the app to the app's return.
    `GET /__bench__/save-times` answers the times so far (and forgets them)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.times: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if path == "/__bench__/save-times":
            body = json.dumps(self.times).encode()
            self.times = []
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        if not path.startswith("/api/v1/entries/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        await self.app(scope, receive, send)
        self.times.append(time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wrk(
    base: str,
    path: str,
    tokens: list[str],
    folder: str,
    pause_ms: int | None = None,
    *,
    connections: int = 20,
    seconds: int = 10,
) -> dict[str, float]:
    """wrk with `connections` connections for `seconds`: as fast as they can, or each pausing
    a random 0 to 2 x `pause_ms` between requests. wrk times each request from its sending to
    its answer, in its own process (no Python thread of this script shares its clock)."""
    script = Path(folder) / "put.lua"
    script.write_text(WRK_SCRIPT)
    env = {
        **os.environ,
        "BENCH_TOKENS": ",".join(tokens),
        "BENCH_DAYS": ",".join(DAYS),
        "BENCH_PATH": path,
    }
    if pause_ms is not None:
        env["BENCH_PAUSE_MS"] = str(pause_ms)
    output = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            base,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout

    def millis(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        assert found, output
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    assert rate, output
    return {
        "rate": float(rate.group(1)),
        "p50": millis("50"),
        "p99": millis("99"),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def loop_seconds(pid: int) -> float:
    """CPU time so far of the server's main thread, which runs its event loop (Linux)."""
    return int(Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[0]) / 1e9


def in_app_summary(times: list[float]) -> str:
    """The paced saves' time in the app: what wrk sees beyond it is the wait for the event
    loop (busy with other requests) before uvicorn hands a save over, and the network."""
    if not times:
        return "  (no saves timed in the app)"
    walls = sorted(seconds * 1000 for seconds in times)
    return (
        f"  of which in the app (from uvicorn handing a save over to its answer; on PostgreSQL "
        f"with the database's round trips and the waits for the event loop between them): "
        f"p50 {walls[len(walls) // 2]:.1f} ms   p99 {walls[int(len(walls) * 0.99)]:.1f} ms   "
        f"max {walls[-1]:.1f} ms"
    )


def sign_up(base: str, email: str) -> str:
    account = {"email": email, "password": PASSWORD}
    httpx.post(f"{base}/api/v1/auth/register", json=account, timeout=30).raise_for_status()
    response = httpx.post(f"{base}/api/v1/auth/token", json=account, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


def nine_megabyte_backup() -> bytes:
    """Five years of daily entries with long notes, each with two earlier versions: 9 MB."""
    note = "Slept badly, walked to the shop, rested after lunch. " * 30
    entries, revisions = [], []
    first = date(2021, 1, 1)
    for offset in range(1826):
        day = (first + timedelta(days=offset)).isoformat()
        answers = {"pain": offset % 101, "fatigue": (offset * 7) % 101, "notes": note}
        entries.append({"date": day, **answers})
        for hour in (19, 20):
            revisions.append(
                {
                    "date": day,
                    "data": {"date": day, "pain": (offset + hour) % 101, "notes": note},
                    "source": "web",
                    "saved_at": f"{day}T{hour}:00:00Z",
                    "replaced_at": f"{day}T{hour + 1}:00:00Z",
                    "reason": "edited",
                }
            )
    document = {
        "format": "ldn-diary-backup",
        "version": 1,
        "dose_steps": [{"start_date": "2021-01-01", "dose_mg": 0}],
        "entries": entries,
        "revisions": revisions,
    }
    return json.dumps(document).encode()


def interference(base: str, folder: str, seconds: float = 15.0) -> dict[str, Any]:
    saver = sign_up(base, "saver@example.org")
    owner = sign_up(base, "owner@example.org")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {owner}"}) as api:
        for day in DAYS[:120]:
            api.put(f"/api/v1/entries/{day}", json={"pain": 30, "fatigue": 40}, timeout=30)
        shared = api.post("/api/v1/share-links", json={"expires_in_days": 7}, timeout=30)
        shared.raise_for_status()
    pdf_url = base + "/shared/" + shared.json()["url"].rsplit("/shared/", 1)[1] + "/report.pdf"
    backup = nine_megabyte_backup()
    stop = threading.Event()
    counts = {"imports": 0, "pdfs": 0, "import_failures": 0, "pdf_failures": 0}
    pdf_statuses: dict[int, int] = {}  # of the PDF pulls that did not get a PDF

    # Fresh accounts to import into, made beforehand: signing up (a slow password hash) is
    # not part of what is measured.
    importers = int(os.environ.get("BENCH_IMPORTERS", "1"))
    accounts = [sign_up(base, f"importer{number}@example.org") for number in range(60 * importers)]

    def importing() -> None:
        while not stop.is_set() and accounts:
            token = accounts.pop()
            response = httpx.post(
                f"{base}/api/v1/import",
                content=backup,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                timeout=120,
            )
            counts["imports" if response.status_code == 200 else "import_failures"] += 1

    def pulling() -> None:
        with httpx.Client(timeout=120) as client:
            while not stop.is_set():
                response = client.get(pdf_url)
                ok = response.status_code == 200 and response.content.startswith(b"%PDF")
                counts["pdfs" if ok else "pdf_failures"] += 1
                if not ok:
                    pdf_statuses[response.status_code] = (
                        pdf_statuses.get(response.status_code, 0) + 1
                    )

    pullers = int(os.environ.get("BENCH_PDF_PULLERS", "4"))
    load = [threading.Thread(target=importing) for _ in range(importers)] + [
        threading.Thread(target=pulling) for _ in range(pullers)
    ]
    for thread in load:
        thread.start()
    time.sleep(2)  # let the import and the PDFs get going
    # The saving patient is wrk with one connection, a random 0-100 ms between saves: timed
    # in its own process, not by a Python thread that waits for this script's busy threads.
    saves = wrk(
        base, "/api/v1/entries/", [saver], folder, pause_ms=50, connections=1, seconds=int(seconds)
    )
    stop.set()
    for thread in load:
        thread.join(timeout=180)
    return {**saves, **counts, "pdf_statuses": pdf_statuses}


def overload(base: str, tokens: list[str], seconds: int = 10) -> dict[str, Any]:
    times: list[float] = []
    failures: list[str] = []
    stop = threading.Event()

    def probe() -> None:
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    if client.get(f"{base}/login").status_code != 200:
                        failures.append("status")
                except httpx.HTTPError as error:
                    failures.append(type(error).__name__)
                times.append(time.monotonic() - started)
                stop.wait(0.25)

    prober = threading.Thread(target=probe)
    prober.start()
    storm = subprocess.run(
        [sys.executable, "-m", "tests.robustness.storm", base, str(seconds), "500", *tokens],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=True,
    )
    time.sleep(2)
    stop.set()
    prober.join(timeout=30)
    return {
        "answers": json.loads(storm.stdout.strip().splitlines()[-1]),
        "slowest_login_s": max(times),
        "login_failures": failures,
    }


def run(label: str, url: str, folder: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(url, folder, port))
    server.start()
    try:
        for _ in range(600):
            try:
                httpx.get(f"{base}/login", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        tokens = [sign_up(base, f"bench{index}@example.org") for index in range(20)]
        parts = os.environ.get("BENCH_PARTS", "throughput,interference,overload").split(",")
        print(f"\n== {label} ==")
        if "throughput" in parts:
            bare = wrk(base, "/__bench__/bare/", [], folder)
            bare_async = wrk(base, "/__bench__/bare-async/", [], folder)
            saves = wrk(base, "/api/v1/entries/", tokens, folder)
            assert server.pid is not None
            httpx.get(f"{base}/__bench__/save-times", timeout=30)  # forget the earlier ones
            cpu, wall = loop_seconds(server.pid), time.monotonic()
            paced = wrk(base, "/api/v1/entries/", tokens, folder, pause_ms=PAUSE_MS)
            cpu, wall = loop_seconds(server.pid) - cpu, time.monotonic() - wall
            in_app = httpx.get(f"{base}/__bench__/save-times", timeout=30).json()
            busy, cpu_per_save = cpu / wall, cpu * 1000 / (paced["rate"] * wall)
            paced_bare = wrk(base, "/__bench__/bare-async/", [], folder, pause_ms=PAUSE_MS)
            for name, figures in (("bare (def)", bare), ("bare (async def)", bare_async)):
                print(
                    f"{name:17} {figures['rate']:6.0f} req/s   p50 {figures['p50']:5.1f} ms   "
                    f"p99 {figures['p99']:5.1f} ms"
                )
            print(
                f"diary saves:      {saves['rate']:6.0f} req/s   p50 {saves['p50']:5.1f} ms   "
                f"p99 {saves['p99']:5.1f} ms   non-2xx {saves['non_2xx']:.0f}   "
                "(20 clients, each as fast as it can)"
            )
            print(
                f"saves / bare:  {saves['rate'] / bare['rate']:.2f}x the def endpoint, "
                f"{saves['rate'] / bare_async['rate']:.2f}x the async def one   (budget >= 0.5x)"
            )
            print(
                f"diary saves, 20 clients each pausing {PAUSE_MS} ms between saves: "
                f"{paced['rate']:.0f} saves/s   p50 {paced['p50']:.1f} ms   "
                f"p99 {paced['p99']:.1f} ms   (budget p99 <= 25 ms)"
            )
            print(
                f"  the server's event-loop thread was busy {busy:.0%} of that time, "
                f"{cpu_per_save:.1f} ms of CPU a save: the slow saves are those that arrive "
                "while others are being served"
            )
            print(in_app_summary(in_app))
            print(
                f"  the bare async def endpoint, paced the same way: {paced_bare['rate']:.0f} "
                f"req/s   p50 {paced_bare['p50']:.1f} ms   p99 {paced_bare['p99']:.1f} ms   "
                "(this machine's floor)"
            )
            print(
                "  (20 clients without pauses keep 20 requests in the server at all times, so each "
                "waits for the others: p50 = 20 / rate by Little's law, whatever the endpoint)"
            )
        if "interference" in parts:
            mixed = interference(base, folder)
            print(
                f"another patient's save while a 9 MB import and 4 shared-PDF pulls run: "
                f"p50 {mixed['p50']:.1f} ms, p99 {mixed['p99']:.1f} ms, "
                f"{mixed['rate']:.1f} saves/s, non-2xx {mixed['non_2xx']:.0f} "
                f"(budget p99 <= 100 ms); {mixed['imports']} imports, {mixed['pdfs']} PDFs, "
                f"failures {mixed['import_failures']} import / "
                f"{mixed['pdf_failures']} PDF {mixed['pdf_statuses']}"
            )
        if "overload" in parts:
            storm = overload(base, tokens[:4])
            print(
                f"500 connections of mixed writes for 10 s: answers {storm['answers']}; slowest "
                f"/login {storm['slowest_login_s']:.2f} s (budget 2 s), /login failures "
                f"{len(storm['login_failures'])}"
            )
    finally:
        server.terminate()
        server.join(timeout=30)


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        migrate(url)
        run("SQLite", url, folder)
    url = os.environ.get("BENCH_POSTGRES_URL", "")
    if url:
        reset_postgres_schema(url)  # the bench's own database: emptied first
        migrate(url)
        with tempfile.TemporaryDirectory() as folder:
            run("PostgreSQL", url, folder)
    else:
        print("\n(set BENCH_POSTGRES_URL to an empty PostgreSQL database to measure it too)")


if __name__ == "__main__":
    main()
