"""Benchmark (SPEC §11): the doctor's PDF for one year of daily entries, budget <= 1.5 s.

Seeds 365 daily entries with 8 dose steps into a temporary SQLite database (migrated with
Alembic), then prints the median of repeated runs of building the summary and rendering the
PDF (what GET /api/v1/report.pdf does, without HTTP), its size and its page count. The first
run, which loads fonts and warms WeasyPrint's caches, is printed apart.
Run: .venv/bin/python bench/report.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.config import Settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.models import User  # noqa: E402
from app.pdf import summary_pdf  # noqa: E402
from app.services import report  # noqa: E402
from app.services.entries import patient_today  # noqa: E402
from bench.synthetic import seed_diary  # noqa: E402
from tests.conftest import migrate  # noqa: E402
from tests.factories import make_user  # noqa: E402

RUNS = 9
BUDGET_S = 1.5


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        migrate(url)
        engine = make_engine(Settings(database_url=url, secret_key="bench", data_dir=Path(folder)))
        with Session(engine) as session:
            user = make_user(session, email="bench@example.org")
            seed_diary(session, user=user, days=365, steps=8, end=patient_today(user))
            loaded = session.get(User, user.id)
            assert loaded is not None
            start, end = report.default_range(session, user=loaded)
            options = report.ReportOptions(
                start=start,
                end=end,
                initials="B. M.",
                questions="Is this the right dose for me?\nShould I take it in the morning?",
            )

            def build() -> bytes:
                return summary_pdf(report.build_report(session, user=loaded, options=options))

            started = time.perf_counter()
            pdf = build()
            first = time.perf_counter() - started
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                build()
                times.append(time.perf_counter() - started)
            data_times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                report.build_report(session, user=loaded, options=options)
                data_times.append(time.perf_counter() - started)
        engine.dispose()

    median = statistics.median(times)
    pages = len(PdfReader(BytesIO(pdf)).pages)
    print(
        f"doctor PDF, one year ({start} to {end}), 8 dose steps: {pages} page(s), "
        f"{len(pdf) / 1024:.0f} KB"
    )
    print(
        f"  summary data only (comparison, chart): {statistics.median(data_times) * 1000:7.1f} ms"
    )
    print(f"  first PDF (cold caches):               {first * 1000:7.1f} ms")
    print(
        f"  PDF, median of {RUNS}:                    {median * 1000:7.1f} ms   "
        f"(budget {BUDGET_S * 1000:.0f} ms) {'ok' if median <= BUDGET_S else 'OVER BUDGET'}"
    )


if __name__ == "__main__":
    main()
