"""The doctor's PDF, read back with pypdf: the numbers it prints are the comparison's."""

from __future__ import annotations

import re
import urllib.request
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from weasyprint import HTML

from app.models import User
from app.pdf import DOCUMENT_ORIGIN, StaticFilesOnly
from app.services.entries import patient_today
from bench.synthetic import seed_diary
from tests.factories import make_entry, make_step
from tests.report.pdfs import embedded_font_file, fonts, read, text_of

MINUS = "\u2212"


def number(value: float) -> str:
    return f"{value:.1f}".replace("-", MINUS)


def signed(value: float, suffix: str = "") -> str:
    text = f"{value:+.1f}{suffix}"
    return text.replace("-", MINUS) if value else text.lstrip("+")


def seed(session: Session, user: User, *, days: int, steps: int) -> None:
    seed_diary(session, user=user, days=days, steps=steps, end=patient_today(user))


def latest_step(comparison: dict[str, Any]) -> dict[str, Any]:
    later = [step for step in comparison["steps"] if not step["is_baseline"]]
    with_data = [s for s in later if any(item["n"] for item in s["items"].values())]
    return with_data[-1]


def get_pdf(api: TestClient, **params: str) -> bytes:
    response = api.get("/api/v1/report.pdf", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    return response.content


@pytest.mark.parametrize(
    ("key", "label"), [("pain", "Pain"), ("fatigue", "Fatigue"), ("sleep_quality", "Sleep")]
)
def test_key_numbers_equal_the_comparison_api(
    api: TestClient, session: Session, user: User, key: str, label: str
) -> None:
    seed(session, user, days=90, steps=4)
    comparison = api.get("/api/v1/comparison").json()
    baseline = next(step for step in comparison["steps"] if step["is_baseline"])
    latest = latest_step(comparison)

    text = text_of(get_pdf(api))

    base, now = baseline["items"][key]["mean"], latest["items"][key]["mean"]
    stats = latest["items"][key]
    row = re.search(
        rf"{label} higher is (?:worse|better) {re.escape(number(base))} → "
        rf"{re.escape(number(now))} (\d+\.\d) → (\d+\.\d) /10 "
        rf"{re.escape(signed(stats['pct_change_vs_baseline'], '%'))} "
        rf"{re.escape(stats['band'])} {re.escape(stats['verdict'])}",
        text,
    )
    assert row, f"no key-number row for {label} in: {text[:900]}"
    # The 0–10 equivalents are the same means divided by ten.
    assert abs(float(row[1]) - base / 10) <= 0.051
    assert abs(float(row[2]) - now / 10) <= 0.051


def test_each_step_row_prints_its_mean_difference_and_interval(
    api: TestClient, session: Session, user: User
) -> None:
    seed(session, user, days=90, steps=4)
    comparison = api.get("/api/v1/comparison").json()

    text = text_of(get_pdf(api))

    for step in comparison["steps"]:
        pain = step["items"]["pain"]
        if step["is_baseline"]:
            assert f"{number(pain['mean'])}" in text
            continue
        low, high = pain["diff_ci95"]
        printed = (
            f"% {number(pain['mean'])} {signed(pain['diff_vs_baseline'])} "
            f"({signed(low)} to {signed(high)})"
        )
        assert printed in text


def test_a_90_day_diary_fits_one_page_with_numbered_footer(
    api: TestClient, session: Session, user: User
) -> None:
    seed(session, user, days=90, steps=4)

    pdf = get_pdf(api, initials="J. S.", questions="Is 1.5 mg enough?\nWhat about the dreams?")

    assert len(read(pdf).pages) == 1
    text = text_of(pdf)
    assert "Page 1 of 1" in text
    assert f"made {patient_today(user).day} {patient_today(user):%b %Y}" in text
    assert "self-reported" in text.lower()
    assert "How these numbers were computed" in text
    assert "LDN diary summary · J. S." in text
    assert "Is 1.5 mg enough? What about the dreams?" in text


@pytest.mark.parametrize("steps", [8, 12])
def test_a_year_fits_two_pages_at_most(
    api: TestClient, session: Session, user: User, steps: int
) -> None:
    seed(session, user, days=365, steps=steps)

    pdf = get_pdf(api, questions="Should I stay on this dose?")

    pages = len(read(pdf).pages)
    assert pages <= 2
    assert f"Page {pages} of {pages}" in text_of(pdf)


def test_every_font_is_embedded(api: TestClient, session: Session, user: User) -> None:
    seed(session, user, days=90, steps=4)

    used = fonts(get_pdf(api))

    assert used, "the PDF uses no fonts at all"
    assert all(embedded_font_file(font) for font in used), [f.get("/BaseFont") for f in used]
    assert all("DejaVu" in str(font.get("/BaseFont")) for font in used)


def test_an_empty_diary_says_so(api: TestClient) -> None:
    pdf = get_pdf(api)

    text = text_of(pdf)
    assert "No diary entries in this range" in text
    assert "Page 1 of 1" in text


def test_header_counts_completion_and_retrospective_days(
    api: TestClient, session: Session, user: User
) -> None:
    today = patient_today(user)
    start = today - timedelta(days=29)
    make_step(session, user=user, start=start, dose_mg=0)
    for offset in range(0, 30, 3):  # 10 of 30 days
        make_entry(
            session,
            user=user,
            day=start + timedelta(days=offset),
            pain=50,
            retrospective=offset < 9,
        )

    text = text_of(get_pdf(api))

    assert "Diary completion: 33%, 10 of 30 days logged (under 80%" in text
    assert "Filled in later: 3 of 10 days" in text
    assert "LDN started: not yet" in text
    assert "Current dose: none yet (baseline)" in text


def test_header_names_ldn_start_dose_time_and_check_ins(
    api: TestClient, session: Session, user: User
) -> None:
    today = patient_today(user)
    start = today - timedelta(days=27)
    make_step(session, user=user, start=start, dose_mg=0)
    make_step(
        session, user=user, start=start + timedelta(days=14), dose_mg=1.5, dosing_time="bedtime"
    )
    for offset in range(27):
        day = start + timedelta(days=offset)
        dose_time = "21:30" if offset >= 14 else None
        make_entry(session, user=user, day=day, pain=60 - offset, dose_time=dose_time)
    make_entry(session, user=user, day=today, pain=30, tolerability=85, pgic=3, dose_time="22:00")

    text = text_of(get_pdf(api))

    assert f"LDN started: {(start + timedelta(days=14)).day} " in text
    assert "Current dose: 1.5 mg at bedtime, since" in text
    assert "usually at 21:30" in text
    assert "Tolerability, latest: 85/100" in text
    assert "PGIC, latest: 3 of 7, “minimally improved”" in text


def test_a_range_limits_the_summary_to_its_days(
    api: TestClient, session: Session, user: User
) -> None:
    seed(session, user, days=120, steps=4)
    today = patient_today(user)
    start, end = today - timedelta(days=59), today - timedelta(days=10)

    text = text_of(get_pdf(api, start=start.isoformat(), end=end.isoformat()))

    assert f"({(end - start).days + 1} days)" in text
    assert f"{end.day} {end:%b %Y}" in text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-05-02", "end": "2026-05-01"}, "end"),
        ({"start": "2024-01-01", "end": "2025-01-01"}, "start"),
        ({"initials": "ABCDEFGHIJKLM"}, "initials"),
        ({"questions": "?" * 1001}, "questions"),
        ({"start": "not a date"}, "start"),
    ],
)
def test_api_refuses_bad_options_naming_the_field(
    api: TestClient, params: dict[str, str], field: str
) -> None:
    response = api.get("/api/v1/report.pdf", params=params)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


def test_the_pdf_needs_a_bearer_token(client: TestClient) -> None:
    assert client.get("/api/v1/report.pdf").status_code == 401


def test_the_fetcher_serves_static_files_and_refuses_everything_else() -> None:
    fetcher = StaticFilesOnly()

    css = fetcher.fetch(f"{DOCUMENT_ORIGIN}/static/css/report.css?v=1")
    assert css.content_type == "text/css"
    assert b"@page" in css.read()
    for url in (
        "https://example.org/font.woff2",
        "http://127.0.0.1:8000/static/css/report.css",
        "file:///etc/passwd",
        "file:///usr/share/fonts/../../../etc/passwd",
        f"{DOCUMENT_ORIGIN}/static/../app/config.py",
        f"{DOCUMENT_ORIGIN}/static/%2e%2e/alembic.ini",
        f"{DOCUMENT_ORIGIN}/api/v1/export",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_weasyprint_never_reaches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []

    def record(self: object, url: object, *args: object, **kwargs: object) -> None:
        opened.append(url)
        raise OSError("no network in this test")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", record)
    html = (
        '<link rel="stylesheet" href="https://fonts.example.org/css">'
        '<img src="http://127.0.0.1:9/tracker.png"><img src="file:///etc/hostname">'
        "<p>Text</p>"
    )

    pdf = HTML(string=html, base_url=f"{DOCUMENT_ORIGIN}/", url_fetcher=StaticFilesOnly())
    assert pdf.write_pdf()

    assert opened == []


def test_the_summary_starts_at_the_first_entry_and_spans_at_most_a_year(
    api: TestClient, session: Session, user: User
) -> None:
    today = patient_today(user)
    make_entry(session, user=user, day=today - timedelta(days=500), pain=10)
    make_entry(session, user=user, day=today - timedelta(days=3), pain=10)

    text = text_of(get_pdf(api))

    start = today - timedelta(days=365)
    assert f"{start.day} {start:%b %Y} to {today.day} {today:%b %Y} (366 days)" in text


def test_dates_are_inclusive(api: TestClient, session: Session, user: User) -> None:
    make_entry(session, user=user, day=date(2026, 3, 1), pain=10)
    make_entry(session, user=user, day=date(2026, 3, 2), pain=20)

    text = text_of(get_pdf(api, start="2026-03-01", end="2026-03-02"))

    assert "1 Mar 2026 to 2 Mar 2026 (2 days)" in text
    assert "100%, 2 of 2 days logged" in text
