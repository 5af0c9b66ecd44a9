"""The /report page: range, initials and questions, the HTML preview and the PDF download."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import User
from app.services.entries import patient_today
from bench.synthetic import seed_diary
from tests.conftest import Browser
from tests.factories import make_entry, make_step
from tests.pages import error_beside, one, parse, text_of
from tests.report.pdfs import read
from tests.report.pdfs import text_of as pdf_text


def test_report_needs_a_signed_in_patient(client: TestClient) -> None:
    response = client.get("/report", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/report"
    assert client.get("/report.pdf", follow_redirects=False).status_code == 303


def test_nav_leads_to_the_report(browser: Browser) -> None:
    page = parse(browser.get("/report"))

    link = one(page, 'nav a[href="/report"]')
    assert link.get("aria-current") == "page"
    assert text_of(link) == "Report"


def test_default_range_starts_at_the_first_entry(
    browser: Browser, session: Session, user: User
) -> None:
    today = patient_today(user)
    make_entry(session, user=user, day=today - timedelta(days=40), pain=30)

    page = parse(browser.get("/report"))

    assert one(page, "#start")["value"] == (today - timedelta(days=40)).isoformat()
    assert one(page, "#end")["value"] == today.isoformat()


def test_preview_shows_the_summary_with_initials_and_questions(
    browser: Browser, session: Session, user: User
) -> None:
    seed_diary(session, user=user, days=60, steps=3, end=patient_today(user))

    response = browser.get("/report", params={"initials": "A. B.", "questions": "Why so tired?"})

    assert response.status_code == 200
    page = parse(response)
    summary = one(page, "article.summary")
    assert text_of(one(summary, ".summary-title")) == "LDN diary summary · A. B."
    assert "Why so tired?" in text_of(one(summary, ".questions-text"))
    assert one(summary, "svg.chart-multi")
    headers = [text_of(th) for th in summary.select("table.step-table thead th")]
    assert headers[:3] == ["Dose step", "Days logged", "Dose taken"]
    # The download link carries the same choices.
    href = one(page, ".report-preview a[download]")["href"]
    assert "initials=A.+B." in href and "questions=Why+so+tired%3F" in href


def test_preview_page_keeps_the_content_security_policy(
    browser: Browser, session: Session, user: User
) -> None:
    seed_diary(session, user=user, days=30, steps=2, end=patient_today(user))

    page = parse(browser.get("/report"))

    assert not page.select("[style]"), "inline style attributes break the CSP"
    assert all(script.get("src") for script in page.select("script"))
    assert page.select('link[rel=stylesheet][href^="/static/css/report.css"]')


def test_pdf_download_from_the_page(browser: Browser, session: Session, user: User) -> None:
    seed_diary(session, user=user, days=30, steps=2, end=patient_today(user))

    response = browser.get("/report.pdf", params={"initials": "Z. Y."})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert len(read(response.content).pages) == 1
    assert "LDN diary summary · Z. Y." in pdf_text(response.content)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "2026-05-02", "end": "2026-05-01"}, "end", "before the start"),
        ({"start": "2024-01-01", "end": "2025-06-01"}, "start", "at most 366 days"),
        ({"start": "soon"}, "start", "Enter a date"),
        ({"initials": "ABCDEFGHIJKLM"}, "initials", "at most 12 characters"),
        ({"questions": "x" * 1001}, "questions", "1000 characters"),
    ],
)
def test_bad_choices_get_a_message_beside_the_field(
    browser: Browser, params: dict[str, str], field: str, message: str
) -> None:
    for url in ("/report", "/report.pdf"):
        response = browser.get(url, params=params)

        assert response.status_code == 422
        page = parse(response)
        assert message in error_beside(page, field)
        assert one(page, f"#{field}")["aria-invalid"] == "true"
        assert not page.select("article.summary")
    # What the patient typed stays in the field.
    kept = parse(browser.get("/report", params=params))
    typed = one(kept, f"#{field}")
    value = typed.get_text() if typed.name == "textarea" else typed["value"]
    assert value == params[field]


def test_questions_are_printed_as_text_never_as_markup(browser: Browser) -> None:
    typed = '<img src="https://tracker.example/x.png"> <script>alert(1)</script>'

    page = parse(browser.get("/report", params={"questions": typed}))

    box = one(page, ".questions-text")
    assert text_of(box) == typed
    assert not box.select("img, script")


def test_a_step_with_one_day_says_one_day(browser: Browser, session: Session, user: User) -> None:
    today = patient_today(user)
    make_step(session, user=user, start=today - timedelta(days=10), dose_mg=0)
    make_step(session, user=user, start=today - timedelta(days=3), dose_mg=1.5)
    for offset in range(10, -1, -1):
        make_entry(session, user=user, day=today - timedelta(days=offset), pain=40)

    summary = text_of(one(parse(browser.get("/report")), "article.summary"))

    # Four days of 1.5 mg, the first three settling in: one day counts.
    assert "not enough data (1 day)" in summary
