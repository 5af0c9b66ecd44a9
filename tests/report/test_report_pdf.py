"""The doctor's PDF, read back with pypdf: the numbers it prints are the comparison's."""

from __future__ import annotations

import math
import re
import urllib.request
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from weasyprint import HTML

from app.models import DiaryEntry, User
from app.pdf import DOCUMENT_ORIGIN, StaticFilesOnly, summary_document
from app.services.entries import patient_today, stored_fields
from app.services.report import ReportData, ReportOptions, build_report
from bench.synthetic import seed_diary
from tests.factories import make_entry, make_step
from tests.report.pdfs import embedded_font_file, fonts, read, text_of

MINUS = "\u2212"


def number(value: float) -> str:
    return f"{value:.1f}".replace("-", MINUS)


def whole_signed(value: int) -> str:
    return f"{value:+d}".replace("-", MINUS) if value else "0"


def signed(value: float, suffix: str = "") -> str:
    text = f"{value:+.1f}{suffix}"
    return text.replace("-", MINUS) if value else text.lstrip("+")


def seed(session: Session, user: User, *, days: int, steps: int) -> None:
    seed_diary(session, user=user, days=days, steps=steps, end=patient_today(user))


def in_default_range(step: dict[str, Any], user: User) -> bool:
    """Whether a step of the whole diary overlaps the default range (the last 366 days at most)."""
    today = patient_today(user)
    return date.fromisoformat(step["end_date"]) >= today - timedelta(days=365)


def latest_step(comparison: dict[str, Any], user: User) -> dict[str, Any]:
    later = [
        step
        for step in comparison["steps"]
        if not step["is_baseline"] and in_default_range(step, user)
    ]
    with_data = [s for s in later if any(item["n"] for item in s["items"].values())]
    return with_data[-1]


def get_pdf(api: TestClient, **params: str) -> bytes:
    response = api.get("/api/v1/report.pdf", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    return response.content


# 500 days: the baseline lies more than a year back, before the default range.
@pytest.mark.parametrize(("days", "steps"), [(90, 4), (500, 8)])
@pytest.mark.parametrize(
    ("key", "label"), [("pain", "Pain"), ("fatigue", "Fatigue"), ("sleep_quality", "Sleep")]
)
def test_key_numbers_equal_the_comparison_api(
    api: TestClient, session: Session, user: User, key: str, label: str, days: int, steps: int
) -> None:
    seed(session, user, days=days, steps=steps)
    comparison = api.get("/api/v1/comparison").json()
    baseline = next(step for step in comparison["steps"] if step["is_baseline"])
    latest = latest_step(comparison, user)

    text = text_of(get_pdf(api))

    base, now = baseline["items"][key]["mean"], latest["items"][key]["mean"]
    stats = latest["items"][key]
    # Means and changes in whole points (the data hold no decimal); a band only beside a
    # clear change, where it cannot contradict the verdict.
    clear = stats["verdict"] in ("improved", "worse", "higher", "lower")
    whole = r"(−?\d+|\+\d+)"
    row = re.search(
        rf"{label} higher is (?:worse|better) (\d+) → (\d+) (\d+\.\d) → (\d+\.\d) /10 "
        rf"{whole}% {whole} \({whole} to {whole}\) "
        rf"{re.escape(stats['band'] if clear else '–')} {re.escape(stats['verdict'])}",
        text,
    )
    assert row, f"no key-number row for {label} in: {text[:900]}"
    assert ("(before this summary’s dates)" in text) is (days > 366)

    def value(group: int) -> float:
        return float(row[group].replace("−", "-"))

    assert abs(value(1) - base) <= 0.51 and abs(value(2) - now) <= 0.51
    # The 0–10 equivalents are the same means divided by ten.
    assert abs(value(3) - base / 10) <= 0.051
    assert abs(value(4) - now / 10) <= 0.051
    # Changes cut toward zero, as on /compare, so no rule threshold is crossed by rounding.
    assert value(5) == int(stats["pct_change_vs_baseline"])
    low, high = stats["diff_ci95"]
    assert value(6) == int(stats["diff_vs_baseline"])
    assert (value(7), value(8)) == (math.floor(low), math.ceil(high))


# 500 days, 8 steps of 62 days: the baseline and the 0.5 mg step lie before the default range.
@pytest.mark.parametrize(("days", "steps", "dose_steps_shown"), [(90, 4, 3), (500, 8, 6)])
def test_each_step_row_prints_its_mean_difference_and_interval(
    api: TestClient, session: Session, user: User, days: int, steps: int, dose_steps_shown: int
) -> None:
    seed(session, user, days=days, steps=steps)
    comparison = api.get("/api/v1/comparison").json()

    text = text_of(get_pdf(api))

    shown = 0
    for step in comparison["steps"]:
        pain = step["items"]["pain"]
        if step["is_baseline"]:
            assert f" {round(pain['mean'])} " in text
            continue
        if not in_default_range(step, user):
            continue
        shown += 1
        low, high = pain["diff_ci95"]
        # Whole points: the mean, the change and the interval rounded outwards.
        printed = re.search(
            rf"% (\d+) (−?\d+|\+\d+) \({re.escape(whole_signed(math.floor(low)))} to "
            rf"{re.escape(whole_signed(math.ceil(high)))}\)",
            text,
        )
        assert printed, f"no pain cell for {step['dose_mg']} mg"
    assert shown == dose_steps_shown
    # The baseline row is there, whatever the range; steps wholly before the range are not.
    assert text.count("Baseline (before LDN)") == 1
    assert ("0.5 mg at bedtime" in text) is (days == 90)


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


# 500 days, 12 steps: about nine steps in the year shown, the baseline before it, and its note.
@pytest.mark.parametrize(("days", "steps"), [(365, 8), (365, 12), (500, 12)])
def test_a_year_fits_two_pages_at_most(
    api: TestClient, session: Session, user: User, days: int, steps: int
) -> None:
    seed(session, user, days=days, steps=steps)

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


def test_blank_dates_take_the_default_range(api: TestClient) -> None:
    # `?start=&end=` as SPEC §8 writes it: the same as leaving both out.
    response = api.get("/api/v1/report.pdf", params={"start": "", "end": ""})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"


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


def add_days(session: Session, user: User, first: date, last: date, **answers: Any) -> None:
    """One entry a day from first to last; pain, fatigue and sleep alternate ±2 around theirs."""
    assert user.id is not None
    day, index = first, 0
    while day <= last:
        wobble = 2 if index % 2 else -2
        rated = {
            key: answers[key] + wobble
            for key in ("pain", "fatigue", "sleep_quality")
            if key in answers
        }
        session.add(DiaryEntry(user_id=user.id, day=day, **stored_fields({**answers, **rated})))
        day, index = day + timedelta(days=1), index + 1
    session.commit()


def span(first: date, last: date) -> str:
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"


def test_a_baseline_more_than_a_year_back_still_gives_the_key_numbers(
    api: TestClient, session: Session, user: User
) -> None:
    today = patient_today(user)
    baseline_start, ldn_start = today - timedelta(days=430), today - timedelta(days=416)
    latest_start = today - timedelta(days=60)
    make_step(session, user=user, start=baseline_start, dose_mg=0)
    make_step(session, user=user, start=ldn_start, dose_mg=1.5, dosing_time="bedtime")
    make_step(session, user=user, start=latest_start, dose_mg=4.5, dosing_time="bedtime")
    # 14 baseline days, means exactly 70 / 60 / 40; the 4.5 mg step's 58 settled days (its
    # first 3 are settling in) exactly 35 / 30 / 50.
    add_days(
        session,
        user,
        baseline_start,
        ldn_start - timedelta(days=1),
        pain=70,
        fatigue=60,
        sleep_quality=40,
    )
    add_days(
        session,
        user,
        ldn_start,
        latest_start - timedelta(days=1),
        pain=55,
        fatigue=50,
        sleep_quality=45,
    )
    add_days(
        session,
        user,
        latest_start,
        today,
        pain=35,
        fatigue=30,
        sleep_quality=50,
    )
    comparison = api.get("/api/v1/comparison").json()
    latest = comparison["steps"][-1]["items"]

    text = text_of(get_pdf(api))

    # The default range is the last year: the baseline lies wholly before it.
    assert "(366 days)" in text
    baseline_end = ldn_start - timedelta(days=1)
    assert f"Baseline: {span(baseline_start, baseline_end)} (before this summary’s dates)" in text
    assert "No baseline" not in text
    assert "Key numbers: baseline → 4.5 mg at bedtime" in text
    assert re.search(
        rf"Pain higher is worse 70 → 35 7\.0 → 3\.5 /10 {MINUS}50% {MINUS}35 \([^)]*\) "
        rf"substantial {latest['pain']['verdict']}",
        text,
    )
    assert re.search(
        rf"Fatigue higher is worse 60 → 30 6\.0 → 3\.0 /10 {MINUS}50% {MINUS}30 \([^)]*\) "
        "substantial",
        text,
    )
    assert re.search(
        r"Sleep higher is better 40 → 50 4\.0 → 5\.0 /10 \+25% \+10 \([^)]*\) minimal", text
    )
    assert latest["pain"]["verdict"] == "improved"
    # The baseline row is the whole baseline, as the comparison counts it.
    assert f"Baseline (before LDN) {span(baseline_start, baseline_end)} 14 of 14" in text


def report_for(session: Session, user: User, start: date, end: date) -> ReportData:
    session.expire_all()
    return build_report(session, user=user, options=ReportOptions(start=start, end=end))


def add_awful_week_before(session: Session, user: User, start: date) -> None:
    """Six extreme days just before `start`: nothing of them may show in the range's summary."""
    add_days(
        session,
        user,
        start - timedelta(days=6),
        start - timedelta(days=1),
        pain=98,
        fatigue=98,
        sleep_quality=2,
        nausea=3,
        other_text="Awful",
        retrospective=True,
    )


def test_days_before_the_range_leave_the_whole_summary_unchanged(
    session: Session, user: User
) -> None:
    today = patient_today(user)
    start = today - timedelta(days=29)
    make_step(session, user=user, start=start, dose_mg=0)
    make_step(session, user=user, start=start + timedelta(days=14), dose_mg=1.5)
    add_days(session, user, start, today, pain=50, fatigue=50, sleep_quality=50, nausea=0)
    before = report_for(session, user, start, today)

    # Six extreme days just before the range (and before the first dose step).
    add_awful_week_before(session, user, start)
    after = report_for(session, user, start, today)

    assert summary_document(after) == summary_document(before)


def test_days_before_the_range_stay_out_of_chart_completion_and_side_effects(
    session: Session, user: User
) -> None:
    today = patient_today(user)
    start = today - timedelta(days=29)
    make_step(session, user=user, start=start - timedelta(days=20), dose_mg=0)
    make_step(session, user=user, start=start + timedelta(days=7), dose_mg=1.5)
    add_days(
        session,
        user,
        start - timedelta(days=20),
        start - timedelta(days=7),
        pain=60,
        fatigue=60,
        sleep_quality=40,
        nausea=0,
    )
    add_days(session, user, start, today, pain=50, fatigue=50, sleep_quality=50, nausea=0)
    before = report_for(session, user, start, today)

    # Six extreme days just before the range, inside the baseline step.
    add_awful_week_before(session, user, start)
    after = report_for(session, user, start, today)

    assert after.chart == before.chart
    assert (after.days_logged, after.completion_pct, after.retrospective_days) == (
        before.days_logged,
        before.completion_pct,
        before.retrospective_days,
    )
    assert after.side_effect_rows == before.side_effect_rows
    assert (after.never_reported, after.other_texts) == (before.never_reported, before.other_texts)
    assert "Nausea" not in summary_document(after)
    # The baseline row is the whole step, as GET /api/v1/comparison counts it, and says so.
    assert after.steps[0] != before.steps[0]
    assert after.steps_outside_range
