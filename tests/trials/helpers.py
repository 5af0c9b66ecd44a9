"""Running a whole simulated trial through the JSON API, clock moved along by the test."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.clock import freeze_diary_clock
from tests.report.pdfs import text_of


def at(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """The patient's clock at noon on `day`."""
    freeze_diary_clock(monkeypatch, datetime.combine(day, time(12), tzinfo=UTC))


def read_sheet(pdf: bytes) -> tuple[str, dict[int, str]]:
    """The unblinding code and what each period's bottle holds, read back from the PDF."""
    text = text_of(pdf)
    code = re.search(r"\b([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\b", text)
    assert code, text
    holds = {
        int(number): what
        for number, what in re.findall(r"Period (\d+) .*? to .*? \d{4} (LDN|Placebo)", text)
    }
    return code.group(1), holds


def diary_days(
    rng: np.random.Generator, days: list[date], *, level: float, phi: float = 0.5, sd: float = 12
) -> list[dict[str, Any]]:
    """Entries with AR(1) pain and fatigue around `level` (sleep unrelated)."""
    noise = 0.0
    out = []
    for day in days:
        noise = phi * noise + rng.normal(0, sd * np.sqrt(1 - phi * phi))
        pain = int(np.clip(round(level + noise), 0, 100))
        out.append(
            {
                "date": day.isoformat(),
                "pain": pain,
                "fatigue": int(np.clip(pain + rng.normal(0, 5), 0, 100)),
                "sleep_quality": int(rng.integers(30, 70)),
                "dose_taken": True,
            }
        )
    return out


def run_trial(
    api: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    *,
    start: date,
    effect: float = 20.0,
    seed: int = 7,
    stop_after_period: int | None = None,
) -> tuple[dict[str, Any], str, dict[int, str], list[Any]]:
    """Set up, fill the diary period by period with guesses, unblind; every response kept."""
    rng = np.random.default_rng(seed)
    responses: list[Any] = []
    at(monkeypatch, start - timedelta(days=2))
    created = api.post(
        "/api/v1/self-trials",
        json={
            "start_date": start.isoformat(),
            "primary_item": "pain",
            "meaningful_change": 15,
            "ldn_dose_mg": 4.5,
        },
    )
    assert created.status_code == 201, created.text
    responses.append(created)
    trial = created.json()
    sheet = api.get(f"/api/v1/self-trials/{trial['id']}/pharmacy-sheet.pdf")
    assert sheet.status_code == 200 and sheet.headers["cache-control"] == "no-store"
    code, holds = read_sheet(sheet.content)
    for period in trial["periods"]:
        number = period["period"]
        first = date.fromisoformat(period["start_date"])
        last = date.fromisoformat(period["end_date"])
        at(monkeypatch, last)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        level = 50.0 - (effect if holds[number] == "LDN" else 0.0)
        batch = api.post(
            "/api/v1/entries/batch", json={"entries": diary_days(rng, days, level=level)}
        )
        assert batch.status_code == 200, batch.text
        guess = "ldn" if number % 3 else "unsure"
        answered = api.post(
            f"/api/v1/self-trials/{trial['id']}/guesses", json={"period": number, "guess": guess}
        )
        assert answered.status_code == 200, answered.text
        responses += [answered, api.get(f"/api/v1/self-trials/{trial['id']}")]
        if stop_after_period == number:
            break
    else:
        at(monkeypatch, date.fromisoformat(trial["end_date"]) + timedelta(days=1))
    responses.append(api.get("/api/v1/self-trials"))
    wrong = api.post(f"/api/v1/self-trials/{trial['id']}/unblind", json={"code": "0000-0000-0000"})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "code"]
    responses.append(wrong)
    opened = api.post(f"/api/v1/self-trials/{trial['id']}/unblind", json={"code": code.lower()})
    assert opened.status_code == 200, opened.text
    return opened.json(), code, holds, responses
