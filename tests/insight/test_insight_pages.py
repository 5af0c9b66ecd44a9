"""/api/v1/comparison, /compare and /trends over a small diary with known numbers."""

from __future__ import annotations

import re
from datetime import date, timedelta
from xml.etree import ElementTree

import numpy as np
import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.analysis import RESPONDER_RULE_TEXT
from app.charts import whole_interval
from app.models import User
from app.services.entries import patient_today
from tests.conftest import Browser
from tests.factories import make_entry, make_step, make_user
from tests.report.pdfs import text_of as text_of_pdf


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
    assert "49% better · a clear, moderate improvement" in text
    # The page leads with one plain sentence about the current dose, from the headline.
    lead = page.select_one(".compare-summary")
    assert lead is not None
    assert words(lead) == (
        "At 1.5 mg: pain clearly lower (better), by about 30 points; nothing else clearly "
        "changed (1 of 2 items)."
    )
    assert "The first 3 days of each new dose are left out" in text
    assert "Responder" in text and "30%" in text
    assert "not advice to change a dose" in text
    bars = page.select("svg.interval-bar")
    assert bars and all(bar.get("aria-label") for bar in bars)


def words(element: Tag) -> str:
    return " ".join(element.get_text(" ").split())


def compare_text(browser: Browser) -> str:
    """The compare page's words (settling-in days counted), spaces collapsed."""
    page = BeautifulSoup(browser.get("/compare?settle_days=0").text, "html.parser")
    return " ".join(page.get_text(" ").split())


def step_sections(browser: Browser, url: str = "/compare") -> list[Tag]:
    page = BeautifulSoup(browser.get(url).text, "html.parser")
    return page.select("section.step-block")


def test_current_dose_first_and_the_baseline_last(browser: Browser, diary: date):
    step, baseline = step_sections(browser)
    assert words(step.h2).startswith("1.5 mg at bedtime (now)")
    text = words(baseline)
    assert "Pain 60 (14 days rated)" in text
    assert "(was" not in text and "took the dose" not in text
    assert "Sleep not rated" in text and "(0 days" not in text
    assert "took the dose on 100% of the days answered" in words(step)


@pytest.fixture
def mixed_diary(session: Session, user: User) -> date:
    """Pain noisy and 15% worse, fatigue 50 → 49 every day, stress clearly 25% worse."""
    today = patient_today(user)
    start = today - timedelta(days=27)
    make_step(session, user=user, start=start, dose_mg=0)
    make_step(session, user=user, start=start + timedelta(days=14), dose_mg=1.5)
    pain_base = [31, 91, 61, 46, 76, 56, 66, 36, 86, 61, 51, 71, 61, 61]
    for offset in range(28):
        on_dose = offset >= 14
        make_entry(
            session,
            user=user,
            day=start + timedelta(days=offset),
            pain=pain_base[offset % 14] + (9 if on_dose else 0),
            fatigue=49 if on_dose else 50,
            stress=(50 if on_dose else 40) + (offset % 3) - 1,
            dose_taken=on_dose,
        )
    return start


def test_compare_words_never_contradict_band_and_verdict(
    browser: Browser, api: TestClient, mixed_diary: date
):
    items = api.get("/api/v1/comparison?settle_days=0").json()["steps"][1]["items"]
    # The §4 names stay as they were in the API: only the page's words changed.
    assert (items["pain"]["band"], items["pain"]["verdict"]) == ("worse", "no clear change")
    assert (items["fatigue"]["band"], items["fatigue"]["verdict"]) == (
        "no meaningful change",
        "improved",
    )
    assert (items["stress"]["band"], items["stress"]["verdict"]) == ("worse", "worse")

    rows = {
        words(row.th).split()[0]: words(row.th)
        for row in step_sections(browser, "/compare?settle_days=0")[0].select("tbody tr")
    }
    # No percentage and no band beside "no clear change": they read as a contradiction.
    assert rows["Pain"] == "Pain 70 (was 61 at baseline) · no clear change"
    assert rows["Fatigue"] == (
        "Fatigue 49 (was 50 at baseline) · 2% better · "
        "a small but clear change — no meaningful change"
    )
    assert rows["Stress"] == "Stress 50 (was 40 at baseline) · 25% worse · a clear change"
    for row in rows.values():
        assert "worse · worse" not in row and row.count("worse") <= 1
        assert not re.search(r"\bimproved\b", row)


def test_compare_page_prints_whole_points_only(browser: Browser, mixed_diary: date):
    """Means, changes, percentages and intervals in whole numbers: the data carry no tenths.
    But for an interval's end that leaves 0 out and would round out to 0: fatigue's
    −1.3 to −0.7 is "0.7 to 2 lower", never "0 to 2 lower" beside a clear change."""
    page = BeautifulSoup(browser.get("/compare?settle_days=0").text, "html.parser")
    for block in page.select("section.step-block, section.compare-lead"):
        text = words(block)
        svg_words = " ".join(bar["aria-label"] for bar in block.select("svg.interval-bar"))
        for said in (text, svg_words):
            # Doses keep their decimals ("1.5 mg").
            decimals = re.findall(r"(?<![\d.])\d+\.\d+(?! ?mg)", said)
            assert decimals in ([], ["0.7"]), said
    fatigue = "1 point lower (0.7 to 2 lower)"
    assert fatigue in words(page.select("section.step-block")[0])


def test_each_bar_prints_its_numbers_on_one_scale_per_step(
    browser: Browser, api: TestClient, mixed_diary: date
):
    items = api.get("/api/v1/comparison?settle_days=0").json()["steps"][1]["items"]
    step = step_sections(browser, "/compare?settle_days=0")[0]
    cells = {words(row.th).split()[0]: row.td for row in step.select("tbody tr")}
    for label, key in (("Pain", "pain"), ("Fatigue", "fatigue"), ("Stress", "stress")):
        low, high = items[key]["diff_ci95"]
        numbers = words(cells[label].select_one(".interval-numbers"))
        diff = items[key]["diff_vs_baseline"]
        side = "higher" if diff > 0 else "lower"
        # Whole points (SPEC §4.1: the data carry no tenths), the interval rounded outward,
        # but for an end that would round out to 0 from an interval that leaves 0 out.
        assert numbers.startswith(f"{abs(int(diff))} point")
        assert f" {side} (" in numbers
        low_end, high_end = whole_interval(low, high)
        assert str(abs(low_end)) in numbers and str(abs(high_end)) in numbers
        assert cells[label].select_one("svg.interval-bar")["aria-label"]
    # Said as lower or higher than baseline, never a bare minus beside "better"; fatigue's
    # −1.3 to −0.7 ("improved") is never said to reach 0.
    assert words(cells["Fatigue"].select_one(".interval-numbers")) == (
        "1 point lower (0.7 to 2 lower)"
    )
    # One scale for every bar of the step, labelled at both ends, right is better.
    scales = {
        tuple(words(end) for end in bar.select("text.scale-end"))
        for bar in step.select("svg.interval-bar")
    }
    assert len(scales) == 1
    left, right = scales.pop()
    assert re.fullmatch(r"\d+ points worse", left) and re.fullmatch(r"\d+ points better", right)
    # Pain's interval reaches beyond ±50, so the shared scale is at least that wide.
    assert int(left.split()[0]) >= max(abs(end) for end in items["pain"]["diff_ci95"])


def test_responder_rule_is_said_once(browser: Browser, mixed_diary: date):
    page = BeautifulSoup(browser.get("/compare?settle_days=0").text, "html.parser")
    lead = page.select_one(".compare-lead p.responder")
    assert lead is not None
    assert words(lead) == "Responder by the trial rule: no what this means"
    assert lead.a["href"] == "#responder-rule"
    baseline = step_sections(browser, "/compare?settle_days=0")[-1]
    assert words(baseline.select_one("p.responder")) == (
        "Responder by the trial rule: not judged — this is the baseline the doses are compared with"
    )
    rules = page.select(".responder-rule")
    assert len(rules) == 1 and words(rules[0]) == RESPONDER_RULE_TEXT
    assert "after Younger's trials, against your baseline" in RESPONDER_RULE_TEXT


def test_compare_page_without_enough_days_says_how_many(
    browser: Browser, session: Session, user: User
):
    today = patient_today(user)
    make_step(session, user=user, start=today - timedelta(days=10), dose_mg=0)
    make_step(session, user=user, start=today - timedelta(days=3), dose_mg=1.5)
    for offset in range(10, -1, -1):
        make_entry(session, user=user, day=today - timedelta(days=offset), pain=40)
    text = compare_text(browser)
    assert "not enough data yet — 4 of 7 days" in text
    assert (
        "Responder by the trial rule: not judged yet — not enough data: pain rated on 4 of the "
        "7 days needed in this step" in text
    )


def test_a_diary_that_drifts_slowly_is_promised_no_days(
    browser: Browser, api: TestClient, session: Session, user: User
):
    # Pain as a random walk: φ sits at its bound, so no step gets an interval however long
    # it runs, and "2 more days would help" would be a promise the app cannot keep.
    today = patient_today(user)
    rng = np.random.default_rng(5)
    walk = np.clip(np.round(50 + np.cumsum(rng.normal(0, 4, 60))), 0, 100).astype(int)
    first = today - timedelta(days=59)
    make_step(session, user=user, start=first, dose_mg=0)
    make_step(session, user=user, start=first + timedelta(days=14), dose_mg=1.5)
    for offset, pain in enumerate(walk):
        make_entry(session, user=user, day=first + timedelta(days=offset), pain=int(pain))

    comparison = api.get("/api/v1/comparison?settle_days=0").json()
    assert comparison["phi"] >= 0.945
    pain = comparison["steps"][-1]["items"]["pain"]
    assert pain["verdict"] == "not enough data" and pain["more_days"] is None
    # Nor how long a change would take to show: with no interval, none would.
    assert set(pain["days_to_detect"].values()) == {None}
    text = compare_text(browser)
    assert "the ratings drift slowly up and down, so more days on this dose may not" in text
    assert "would help" not in text


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
    tables = page.select("table:not(.weeks-table)")
    assert len(tables) == 8
    rows = tables[0].select("tbody tr")
    assert len(rows) == 30
    assert rows[0].select_one("a")["href"].startswith("/entries/")
    ElementTree.fromstring(str(first).replace("&nbsp;", " "))  # well-formed SVG


def test_trends_tables_over_ninety_days_are_weekly_averages(browser: Browser, diary: date):
    """Eight tables of 90 daily rows weighed on phones; a week a row reads better anyway."""
    page = BeautifulSoup(browser.get("/trends?range=90").text, "html.parser")
    tables = page.select("table:not(.weeks-table)")
    assert len(tables) == 8
    pain = tables[0]
    assert "weekly averages" in pain.caption.get_text()
    rows = [
        [cell.get_text(strip=True) for cell in row.select("th, td")]
        for row in pain.select("tbody tr")
    ]
    assert len(rows) == 13  # 12 weeks of 7 days and the 6 oldest days
    # The newest week: pain 29, 30, 31, 29, 30, 31, 29 → 29.9.
    assert rows[0][1:] == ["7 of 7 days", "30"]
    assert rows[-1][1:] == ["0 of 6 days", "–"]


def test_trends_range_switches_with_htmx_and_without(browser: Browser, diary: date):
    full = browser.get("/trends?range=365")
    assert "<html" in full.text
    fragment = browser.client.get("/trends?range=all", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="charts">')
    links = BeautifulSoup(full.text, "html.parser").select(".range-switch a")
    assert [link.get_text(strip=True) for link in links] == ["30 days", "90 days", "1 year", "All"]
    assert all(link["href"].startswith("/trends?range=") for link in links)


def test_trends_htmx_switch_moves_aria_current(browser: Browser, diary: date):
    fragment = browser.client.get("/trends?range=30", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="charts">')
    links = BeautifulSoup(fragment.text, "html.parser").select(".range-switch a")
    current = [link.get_text(strip=True) for link in links if link.get("aria-current")]
    assert current == ["30 days"]
    # The same ids as before the swap, so htmx gives the pressed link its focus back.
    assert [link["id"] for link in links] == ["range-30", "range-90", "range-365", "range-all"]


def test_trends_chart_links_are_out_of_the_tab_order_but_table_links_are_not(
    browser: Browser, diary: date
):
    page = BeautifulSoup(browser.get("/trends?range=30").text, "html.parser")
    svg_links = page.select("svg a")
    assert len(svg_links) > 30
    assert all(link.get("tabindex") == "-1" for link in svg_links)
    table_links = page.select("table a")
    assert len(table_links) == 8 * 30
    assert all(link.get("tabindex") is None for link in table_links)
    assert all("day-link" in link["class"] for link in table_links)


def test_another_patients_comparison_is_not_shown(
    client: TestClient, session: Session, diary: date
):
    other = make_user(session, email="other@example.org")
    browser = Browser(client)
    browser.sign_in(other.email)
    text = browser.get("/compare").text
    assert "1.5 mg" not in text
    assert "Nothing to compare yet" in text


def test_compare_with_another_step(browser: Browser, api: TestClient, diary: date):
    dose_id = api.get("/api/v1/comparison").json()["steps"][1]["step_id"]
    page = BeautifulSoup(browser.get(f"/compare?reference={dose_id}").text, "html.parser")
    assert page.select_one("#reference option[selected]")["value"] == str(dose_id)
    lead = words(page.select_one(".compare-summary"))
    assert lead.startswith("At baseline, against 1.5 mg: pain clearly higher (worse)")
    # A stale or foreign step id falls back to the baseline instead of failing.
    fallback = BeautifulSoup(browser.get("/compare?reference=999999").text, "html.parser")
    assert words(fallback.select_one(".compare-summary")).startswith("At 1.5 mg: pain clearly")


def test_compare_says_how_long_a_change_takes_to_show(browser: Browser, diary: date):
    page = BeautifulSoup(browser.get("/compare").text, "html.parser")
    detect = page.select_one(".compare-lead .detect")
    assert detect is not None
    assert re.fullmatch(
        r"At your day-to-day variation, a 15-point change in pain usually shows after "
        r"(\d+ days|about \d+ weeks|about \d+ months) on a dose\.",
        words(detect),
    )


def test_trends_opens_on_the_range_that_fits(browser: Browser, session: Session, user: User):
    """A six-week diary opens on all of it, not on 90 days with half of each chart empty."""
    today = patient_today(user)
    start = today - timedelta(days=41)
    make_step(session, user=user, start=start, dose_mg=0)
    make_step(session, user=user, start=start + timedelta(days=14), dose_mg=1.5)
    for offset in range(42):
        on_dose = offset >= 14
        make_entry(
            session,
            user=user,
            day=start + timedelta(days=offset),
            pain=40 if on_dose else 60,
            fatigue=50,
            sleep_quality=55 if on_dose else 45,
        )
    page = BeautifulSoup(browser.get("/trends").text, "html.parser")
    current = [link["id"] for link in page.select(".range-switch a[aria-current]")]
    assert current == ["range-all"]
    assert f"{start.day} {start:%b %Y}" in words(page)
    # The three items of the doctor's summary on one chart.
    combined = page.select_one("#h-combined")
    assert combined is not None and words(combined) == "Pain, Fatigue and Sleep together"
    assert page.select_one("svg#trend-combined, #trend-combined") is not None
    # Week by week since the first dose, against the baseline, in whole points.
    rows = [
        [words(cell) for cell in row.select("th, td")]
        for row in page.select("table.weeks-table tbody tr")
    ]
    assert rows[0] == ["Baseline", "60", "50", "45"]
    assert rows[1][0].startswith("Week 1") and rows[1][1:] == ["40 (−20)", "50 (0)", "55 (+10)"]
    assert len(rows) == 1 + 4  # 28 days on LDN: four weeks


def test_trends_opens_on_thirty_days_for_a_new_diary(browser: Browser, diary: date):
    page = BeautifulSoup(browser.get("/trends").text, "html.parser")
    assert [link["id"] for link in page.select(".range-switch a[aria-current]")] == ["range-30"]


def test_an_own_item_is_named_in_its_own_words_in_the_sentences(
    browser: Browser, api: TestClient, session: Session, user: User
):
    """Its name was rebuilt from its key: "Brain zaps = bad; +1" read "brain zaps bad 1"."""
    made = api.post(
        "/api/v1/items",
        json={"label": "Brain zaps = bad; +1", "low_anchor": "none", "high_anchor": "constant"},
    )
    assert made.status_code == 201
    key = made.json()["key"]
    today = patient_today(user)
    start = today - timedelta(days=27)
    make_step(session, user=user, start=start, dose_mg=0)
    make_step(session, user=user, start=start + timedelta(days=14), dose_mg=1.5)
    for offset in range(28):
        level = 70 if offset < 14 else 30
        day = (start + timedelta(days=offset)).isoformat()
        saved = api.put(f"/api/v1/entries/{day}", json={"ratings": {key: level + offset % 3}})
        assert saved.status_code in (200, 201)

    text = compare_text(browser)
    assert "brain zaps = bad; +1 clearly lower (better)" in text
    assert "brain zaps bad 1" not in text
    report = api.get("/api/v1/report.pdf").content
    assert "brain zaps = bad; +1 clearly lower" in " ".join(text_of_pdf(report).split())
