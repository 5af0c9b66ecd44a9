"""/api/v1/comparison, /compare and /trends over a small diary with known numbers."""

from __future__ import annotations

from datetime import date, timedelta
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import User
from app.services.entries import patient_today
from tests.conftest import Browser
from tests.factories import make_entry, make_step, make_user


@pytest.fixture
def diary(session: Session, user: User) -> date:
    """14 baseline days with pain 60, then 14 days of 1.5 mg with pain 30 (first 3 at 50)."""
    today = patient_today(user)
    start = today - timedelta(days=27)
    make_step(session, user=user, start=start, dose_mg=0)
    make_step(
        session, user=user, start=start + timedelta(days=14), dose_mg=1.5, dosing_time="bedtime"
    )
    for offset in range(28):
        day = start + timedelta(days=offset)
        if offset < 14:
            pain = 60 + (offset % 3) - 1  # 59, 60, 61: mean 60 over 14 days... nearly
        elif offset < 17:
            pain = 50  # settling in
        else:
            pain = 30 + (offset % 3) - 1
        make_entry(session, user=user, day=day, pain=pain, fatigue=50, dose_taken=offset >= 14)
    return start


def test_comparison_api_has_the_spec_shape_and_the_numbers(api: TestClient, diary: date):
    body = api.get("/api/v1/comparison").json()
    assert body["settle_days"] == 3
    baseline, step = body["steps"]
    assert baseline["is_baseline"] is True
    assert baseline["items"]["pain"]["verdict"] == "baseline"
    assert step["dose_mg"] == 1.5
    assert step["days_logged"] == 14
    assert step["adherence_pct"] == 100.0
    pain = step["items"]["pain"]
    assert pain["n"] == 11  # 14 days less the 3 settling-in days
    expected_step = sum(30 + ((offset % 3) - 1) for offset in range(17, 28)) / 11
    expected_base = sum(60 + ((offset % 3) - 1) for offset in range(14)) / 14
    assert pain["mean"] == round(expected_step, 1)
    assert pain["diff_vs_baseline"] == round(expected_step - expected_base, 1)
    low, high = pain["diff_ci95"]
    assert low < pain["diff_vs_baseline"] < high
    improvement = round(100 * (expected_base - expected_step) / expected_base, 1)
    assert pain["improvement_pct"] == improvement == 49.9
    assert pain["verdict"] == "improved"
    assert pain["band"] == "moderate"  # 49.9% is under the 50% of "substantial"
    assert step["items"]["fatigue"]["verdict"] == "no clear change"
    for key in ("n", "mean", "sd", "median", "last3_mean", "pct_change_vs_baseline"):
        assert key in pain


def test_settle_days_is_a_bounded_query_parameter(api: TestClient, diary: date):
    assert (
        api.get("/api/v1/comparison?settle_days=0").json()["steps"][1]["items"]["pain"]["n"] == 14
    )
    assert api.get("/api/v1/comparison?settle_days=15").status_code == 422
    assert api.get("/api/v1/comparison?settle_days=-1").status_code == 422


def test_comparison_needs_a_token(client: TestClient):
    assert client.get("/api/v1/comparison").status_code == 401


def test_compare_page_says_it_in_words(browser: Browser, diary: date):
    page = BeautifulSoup(browser.get("/compare").text, "html.parser")
    text = " ".join(page.get_text(" ").split())
    assert "1.5 mg at bedtime" in text
    assert "Pain 30 (was 60 at baseline)" in text
    assert "49.9% better · moderate" in text
    assert "improved" in text
    assert "The first 3 days of each new dose are left out" in text
    assert "Responder" in text and "30%" in text
    assert "not advice to change a dose" in text
    bars = page.select("svg.interval-bar")
    assert bars and all(bar.get("aria-label") for bar in bars)


def test_compare_page_without_enough_days_says_how_many(
    browser: Browser, session: Session, user: User
):
    today = patient_today(user)
    make_step(session, user=user, start=today - timedelta(days=10), dose_mg=0)
    make_step(session, user=user, start=today - timedelta(days=3), dose_mg=1.5)
    for offset in range(10, -1, -1):
        make_entry(session, user=user, day=today - timedelta(days=offset), pain=40)
    text = " ".join(
        BeautifulSoup(browser.get("/compare?settle_days=0").text, "html.parser")
        .get_text(" ")
        .split()
    )
    assert "not enough data yet — 4 of 7 days" in text


def test_compare_htmx_swaps_only_the_comparison(browser: Browser, diary: date):
    response = browser.client.get("/compare?settle_days=0", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="comparison">')
    assert "HX-Request" in response.headers["vary"]


def test_trends_page_has_a_chart_and_a_table_per_item(browser: Browser, diary: date):
    page = BeautifulSoup(browser.get("/trends?range=30").text, "html.parser")
    charts = page.select("svg.chart-trend")
    assert len(charts) == 8
    first = charts[0]
    assert first.find("title") is not None and "Pain" in first.find("title").get_text()
    assert "higher is worse" in str(first)
    tables = page.select("table")
    assert len(tables) == 8
    rows = tables[0].select("tbody tr")
    assert len(rows) == 30
    assert rows[0].select_one("a")["href"].startswith("/entries/")
    ElementTree.fromstring(str(first).replace("&nbsp;", " "))  # well-formed SVG


def test_trends_range_switches_with_htmx_and_without(browser: Browser, diary: date):
    full = browser.get("/trends?range=365")
    assert "<html" in full.text
    fragment = browser.client.get("/trends?range=all", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="charts">')
    links = BeautifulSoup(full.text, "html.parser").select(".range-switch a")
    assert [link.get_text(strip=True) for link in links] == ["30 days", "90 days", "1 year", "All"]
    assert all(link["href"].startswith("/trends?range=") for link in links)


def test_another_patients_comparison_is_not_shown(
    client: TestClient, session: Session, diary: date
):
    other = make_user(session, email="other@example.org")
    browser = Browser(client)
    browser.sign_in(other.email)
    text = browser.get("/compare").text
    assert "1.5 mg" not in text
    assert "Nothing to compare yet" in text
