"""Done when (issue 12): an ME/CFS patient tracks PEM and brain fog and sees them compared per
dose step — on the compare page, in the comparison API and in the doctor's PDF, read back."""

from __future__ import annotations

import re
from datetime import timedelta

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.models import User
from app.services.entries import patient_today
from tests.conftest import Browser
from tests.report.pdfs import text_of


def _me_cfs_diary(api: TestClient, user: User) -> None:
    """A baseline of 21 days, then 28 days at 1.5 mg where PEM and brain fog ease."""
    today = patient_today(user)
    start = today - timedelta(days=48)
    dose = start + timedelta(days=21)
    assert api.post("/api/v1/item-packs/me_cfs/track").status_code == 200
    api.post("/api/v1/dose-steps", json={"start_date": start.isoformat(), "dose_mg": 0})
    api.post("/api/v1/dose-steps", json={"start_date": dose.isoformat(), "dose_mg": 1.5})
    days = []
    for offset in range(49):
        day = start + timedelta(days=offset)
        on_ldn = day >= dose
        wobble = 3 if offset % 2 else -3
        days.append(
            {
                "date": day.isoformat(),
                "pain": 50 + wobble,
                "ratings": {
                    "pem": (40 if on_ldn else 75) + wobble,
                    "brain_fog": (35 if on_ldn else 70) + wobble,
                },
                "dose_taken": on_ldn or None,
            }
        )
    response = api.post("/api/v1/entries/batch", json={"entries": days})
    assert response.status_code == 200, response.text


def test_pem_and_brain_fog_are_compared_per_dose_step_and_printed(
    api: TestClient, user: User, browser: Browser
) -> None:
    _me_cfs_diary(api, user)

    comparison = api.get("/api/v1/comparison").json()
    baseline, latest = comparison["steps"][0], comparison["steps"][-1]
    assert baseline["is_baseline"] and latest["dose_mg"] == 1.5
    for key in ("pem", "brain_fog"):
        assert baseline["items"][key]["n"] == 21
        assert latest["items"][key]["diff_vs_baseline"] < -25
    assert latest["items"]["pem"]["verdict"] == "improved"

    page = BeautifulSoup(browser.get("/compare").text, "html.parser")
    words = " ".join(page.get_text(" ").split())
    assert "PEM (crash)" in words and "Brain fog" in words

    pdf = api.get("/api/v1/report.pdf")
    assert pdf.status_code == 200
    text = text_of(pdf.content)
    for label, key in (("PEM (crash)", "pem"), ("Brain fog", "brain_fog")):
        base = baseline["items"][key]["mean"]
        now = latest["items"][key]["mean"]
        row = re.search(
            # Means in whole points (SPEC §4.1 pages: the data hold no decimal).
            rf"{re.escape(label)} higher is worse {round(base)} → {round(now)}",
            text,
        )
        assert row, f"no key-number row for {label} in: {text[:1500]}"
