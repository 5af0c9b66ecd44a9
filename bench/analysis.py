"""Benchmark (SPEC §11): the comparison and the /trends and /compare pages on five years of data.

Builds 1826 daily entries with 12 dose steps in a temporary SQLite database (migrated with
Alembic), then prints the median of repeated runs:
    comparison (service, from the database)   budget <= 50 ms
    /trends?range=all and /compare (whole request through the app)   budget <= 100 ms
Run: .venv/bin/python bench/analysis.py
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.analysis import compare_steps  # noqa: E402
from app.config import Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import User  # noqa: E402
from app.services import insight  # noqa: E402
from bench.synthetic import seed_diary  # noqa: E402
from tests.conftest import migrate  # noqa: E402
from tests.factories import PASSWORD, make_user  # noqa: E402

RUNS = 15


def median_ms(work: Callable[[], object], runs: int = RUNS) -> float:
    work()  # warm up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        migrate(url)
        app = create_app(Settings(database_url=url, secret_key="bench", data_dir=Path(folder)))
        today = date.today()
        with Session(app.state.engine) as session:
            user = make_user(session, email="bench@example.org")
            seed_diary(session, user=user, days=1826, steps=12, end=today)
            user = session.get(User, user.id)
            assert user is not None and user.id is not None
            records = insight.day_records(session, user_id=user.id)
            steps = insight.step_inputs(insight.list_steps(session, user_id=user.id))
            pure = median_ms(lambda: compare_steps(records, steps, today=today, settle_days=3))
            loaded = median_ms(lambda: insight.comparison_for(session, user=user, settle_days=3))
            # SPEC §4.1: every step against one in the middle instead of the baseline.
            middle = steps[len(steps) // 2].step_id
            against = median_ms(
                lambda: compare_steps(records, steps, today=today, settle_days=3, reference=middle)
            )

        client = TestClient(app)
        login = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login)
        assert token
        client.post(
            "/login",
            data={"email": "bench@example.org", "password": PASSWORD, "csrf_token": token[1]},
        )
        pages = {
            path: median_ms(lambda path=path: client.get(path).raise_for_status(), runs=9)
            for path in (
                "/compare",
                f"/compare?reference={middle}",
                "/trends?range=all",
                "/trends?range=365",
                "/trends",
            )
        }
        app.state.database.dispose()

    print(f"entries: {len(records)} over 1826 days, dose steps: {len(steps)}")
    print(f"comparison, pure analysis:           {pure:7.1f} ms   (budget 50 ms)")
    print(f"comparison, loaded from the database: {loaded:7.1f} ms   (budget 50 ms)")
    print(f"comparison against a middle step:     {against:7.1f} ms   (budget 50 ms)")
    for path, ms in pages.items():
        print(f"page {path:<32} {ms:7.1f} ms   (budget 100 ms)")


if __name__ == "__main__":
    main()
