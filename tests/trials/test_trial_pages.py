"""/trial, /today's trial partial and the doctor's summary section, through plain forms."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from tests.conftest import Browser
from tests.report.pdfs import text_of
from tests.trials.helpers import at, read_sheet

START = date(2026, 3, 2)


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def _set_up(browser: Browser, **fields: str) -> object:
    form = {
        "already_on_ldn": "no",
        "start_date": START.isoformat(),
        "pairs": "3",
        "period_days": "21",
        "settle_days": "3",
        "primary_item": "pain",
        "meaningful_change": "15",
        "ldn_dose_mg": "4,5",
        **fields,
    }
    return browser.post("/trial", form)


def test_set_up_page_says_what_the_trial_can_show(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, START - timedelta(days=7))
    page = _soup(browser.get("/trial").text)
    text = " ".join(page.get_text(" ").split())
    assert "1/8 = 0.125" in text
    assert "needs at least 5 pairs" in text or "at least 5 pairs" in text
    assert "prescriber" in text and "compounding pharmacy" in text
    assert page.select_one("form[action='/trial'] input[name=csrf_token]")


def test_bad_set_up_is_refused_beside_each_field(
    browser: Browser, monkeypatch: pytest.MonkeyPatch, api: TestClient
) -> None:
    at(monkeypatch, START - timedelta(days=7))
    refused = _set_up(browser, pairs="one", meaningful_change="0", start_date="2026-01-01")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    page = _soup(refused.text)  # type: ignore[attr-defined]
    assert "Choose between 2 and 8 pairs" in page.select_one("#pairs-error").get_text()
    assert page.select_one("#meaningful_change-error").get_text().strip()
    assert page.select_one("#pairs")["value"] == "one"  # what was typed stays
    assert api.get("/api/v1/self-trials").json() == []
    too_soon = _set_up(browser, start_date=(START - timedelta(days=7)).isoformat())
    assert (
        "tomorrow at the earliest"
        in _soup(too_soon.text).select_one("#start_date-error").get_text()
    )  # type: ignore[attr-defined]


def test_pages_from_set_up_to_result_and_the_summary(
    browser: Browser, api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, START - timedelta(days=14))
    for offset in range(14):  # a baseline before the trial
        day = START - timedelta(days=14 - offset)
        api.put(f"/api/v1/entries/{day.isoformat()}", json={"pain": 60})
    created = _set_up(browser)
    assert created.status_code == 303  # type: ignore[attr-defined]
    page = _soup(browser.get("/trial?message=created").text)
    sheet_link = page.select_one("a[href$='pharmacy-sheet.pdf']")
    assert sheet_link is not None
    sheet = browser.get(sheet_link["href"])
    assert sheet.headers["cache-control"] == "no-store"
    code, holds = read_sheet(sheet.content)
    assert "LDN 4.5 mg" in text_of(sheet.content)
    trial_id = sheet_link["href"].split("/")[2]
    assert browser.post(f"/trial/{trial_id}/seal").status_code == 303
    assert browser.get(sheet_link["href"]).status_code == 410

    at(monkeypatch, START + timedelta(days=1))
    today = _soup(browser.get("/today").text)
    partial = today.select_one(".trial-today")
    assert partial is not None
    assert "Period 1" in partial.get_text() and "settling in" in partial.get_text()

    for number in range(1, 7):
        last = START + timedelta(days=21 * number - 1)
        at(monkeypatch, last)
        days = [last - timedelta(days=i) for i in range(21)]
        api.post(
            "/api/v1/entries/batch",
            json={
                "entries": [
                    {
                        "date": d.isoformat(),
                        "pain": 35 if holds[number] == "LDN" else 55 + d.day % 5,
                    }
                    for d in days
                ]
            },
        )
        today = _soup(browser.get("/today").text)
        legend = today.select_one(".trial-today legend")
        assert legend is not None and f"Period {number} has ended" in legend.get_text()
        guess = "ldn" if holds[number] == "LDN" else "placebo"
        answered = browser.post(
            f"/trial/{trial_id}/guesses", {"period": str(number), "guess": guess, "back": "today"}
        )
        assert answered.headers["location"].startswith("/today")  # type: ignore[attr-defined]

    at(monkeypatch, START + timedelta(days=126))
    wrong = browser.post(f"/trial/{trial_id}/unblind", {"code": "nonsense"})
    assert wrong.status_code == 422  # type: ignore[attr-defined]
    assert "12 letters and digits" in _soup(wrong.text).select_one("#code-error").get_text()  # type: ignore[attr-defined]
    opened = browser.post(f"/trial/{trial_id}/unblind", {"code": code})
    assert opened.status_code == 303  # type: ignore[attr-defined]
    result = " ".join(_soup(browser.get("/trial").text).get_text(" ").split())
    assert "Pain was" in result and "lower on LDN than on placebo" in result
    assert "smallest possible with 3 pairs" in result
    assert "You guessed right in 6 of the 6 periods" in result
    assert "baseline, before LDN" in result

    pdf = browser.get(
        f"/report.pdf?start={START.isoformat()}&end={(START + timedelta(days=125)).isoformat()}"
    )
    assert pdf.status_code == 200
    pdf_text = text_of(pdf.content)
    assert "Blinded self-trial: LDN against placebo" in pdf_text
    assert "lower on LDN than on placebo" in pdf_text
    report_page = " ".join(_soup(browser.get("/report").text).get_text(" ").split())
    assert "Blinded self-trial" in report_page


def test_refusals_come_back_as_the_trial_page_with_the_reason(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, START - timedelta(days=7))
    assert _set_up(browser).status_code == 303  # type: ignore[attr-defined]
    again = _set_up(browser)
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert "already set up" in _soup(again.text).select_one("p.error[role=alert]").get_text()  # type: ignore[attr-defined]
    link = _soup(browser.get("/trial").text).select_one("a[href$='pharmacy-sheet.pdf']")
    trial_id = link["href"].split("/")[2]

    at(monkeypatch, START + timedelta(days=1))
    for response, words in (
        (browser.post(f"/trial/{trial_id}/cancel"), "cannot be deleted"),
        (browser.get(link["href"]), "can no longer be printed"),
    ):
        assert response.status_code in (409, 410)
        alert = _soup(response.text).select_one("p.error[role=alert]")
        assert alert is not None and words in alert.get_text()
