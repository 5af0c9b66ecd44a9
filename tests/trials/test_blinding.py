"""The allocation never leaks before unblinding (SPEC §14).

Two patients keep the very same diary through a trial; the app draws opposite orders for
them. Before unblinding, every response either gives (pages, API, exports, backup, share link
and its PDF, the doctor's summary PDF, the service worker) is searched for the code and for
the allocation written any way the app writes it, and the two patients' responses must be
the same once their own names, ids and random tokens are set aside: nothing the app shows
depends on the order it drew. The sealed bytes in the backup differ, and are shown to say
nothing without the code.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import SelfTrial
from app.trials import blinding, service
from app.trials.design import ldn_periods
from tests.conftest import Browser
from tests.factories import PASSWORD, make_user
from tests.report.pdfs import text_of
from tests.trials.helpers import at, diary_days, read_sheet

START = date(2026, 3, 2)
ORDERS = {"a@example.org": (True, False, True), "b@example.org": (False, True, False)}
API_PATHS = [
    "/api/v1/self-trials",
    "/api/v1/self-trials/{id}",
    "/api/v1/entries",
    "/api/v1/comparison",
    "/api/v1/dose-steps",
    "/api/v1/export",
    "/api/v1/export.csv",
    "/api/v1/export/fhir",
    "/api/v1/report.pdf",
    "/api/v1/share-links",
]
PAGES = [
    "/trial",
    "/today",
    "/history",
    "/doses",
    "/trends",
    "/compare",
    "/report",
    "/report.pdf",
    "/settings",
    "/settings/export",
    "/settings/export/backup.json",
    "/settings/export/diary.csv",
    "/settings/export/fhir.json",
    "/sw.js",
    "/offline",
]


def _text(response: Any) -> str:
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/pdf"):
        return text_of(response.content)
    return str(response.text)


def _trial_run(
    app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch, email: str
) -> tuple[dict[str, str], str, SelfTrial]:
    """One patient's whole blinded trial; every response (by name) before unblinding."""
    make_user(session, email=email)
    monkeypatch.setattr(service, "draw_order", lambda pairs: ORDERS[email])
    api = TestClient(app, base_url="http://testserver")
    token = api.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    web = Browser(TestClient(app, base_url="http://testserver"))
    web.sign_in(email)
    seen: dict[str, str] = {}

    at(monkeypatch, START - timedelta(days=20))
    api.post("/api/v1/dose-steps", json={"start_date": "2026-01-01", "dose_mg": 4.5})
    trial = api.post(
        "/api/v1/self-trials",
        json={"start_date": START.isoformat(), "meaningful_change": 15, "ldn_dose_mg": 4.5},
    ).json()
    seen["created"] = json.dumps(trial)
    sheet = api.get(f"/api/v1/self-trials/{trial['id']}/pharmacy-sheet.pdf")
    code, holds = read_sheet(sheet.content)
    assert sorted(n for n, what in holds.items() if what == "LDN") == list(
        ldn_periods(ORDERS[email])
    )
    seen["trial page in set-up"] = web.get("/trial").text
    seen["sealed"] = json.dumps(api.post(f"/api/v1/self-trials/{trial['id']}/seal").json())

    rng = np.random.default_rng(99)  # the same diary for both patients
    for period in trial["periods"]:
        first = date.fromisoformat(period["start_date"])
        last = date.fromisoformat(period["end_date"])
        at(monkeypatch, last)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        api.post("/api/v1/entries/batch", json={"entries": diary_days(rng, days, level=50)})
        seen[f"today, period {period['period']}"] = web.get("/today").text
        guessed = web.post(
            f"/trial/{trial['id']}/guesses",
            {"period": str(period["period"]), "guess": "ldn", "back": "today"},
        )
        assert guessed.status_code == 303
    at(monkeypatch, date.fromisoformat(trial["end_date"]) + timedelta(days=1))
    for path in API_PATHS:
        seen[path] = _text(api.get(path.format(id=trial["id"])))
    link = api.post("/api/v1/share-links", json={"expires_in_days": 3}).json()
    shared = link["url"].split("testserver", 1)[-1]
    seen["shared page"] = _text(api.get(shared))
    seen["shared pdf"] = _text(api.get(f"{shared}/report.pdf"))
    for path in PAGES:
        seen[path] = _text(web.get(path))
    seen["wrong code"] = web.post(f"/trial/{trial['id']}/unblind", {"code": "0000-0000-0000"}).text
    session.expire_all()
    stored = session.get(SelfTrial, trial["id"])
    assert stored is not None
    return seen, code, stored


def _normalised(text: str, email: str, ids: list[int]) -> str:
    text = text.replace(email, "EMAIL")
    text = re.sub(r'(csrf[_-]token" value="|X-CSRF-Token": "|data-csrf=")[^"]+', r"\1T", text)
    text = re.sub(r"data-account=\"\d+\"", "", text)
    text = re.sub(r"/shared/[A-Za-z0-9_-]+", "/shared/T", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+(\+00:00|Z)?", "TIME", text)
    text = re.sub(r"\b\d\d:\d\d(:\d\d)?\b", "TIME", text)  # share links: made and opened
    text = re.sub(r'"(seal_salt|sealed_allocation|code_check)": ?"[0-9a-f]+"', r'"\1": "H"', text)
    text = re.sub(r'(_id"\s*:\s*)\d+', r"\1N", text)
    text = re.sub(r'(_ids"\s*:\s*\[)[\d, ]+', r"\1N", text)
    text = re.sub(r"/doses/\d+/", "/doses/N/", text)
    text = re.sub(r'(option value="|reference=)\d+', r"\1N", text)  # dose step ids
    # FHIR ids are UUIDs made from the account's id.
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "U", text)
    for number in ids:
        text = re.sub(
            rf"(/self-trials/|/trial/|\"id\": ?|self-trial-|links/|share-link-){number}\b",
            r"\1N",
            text,
        )
    return text


def test_nothing_reveals_the_allocation_before_unblinding(
    app: FastAPI,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    runs = {email: _trial_run(app, session, monkeypatch, email) for email in ORDERS}

    for email, (seen, code, stored) in runs.items():
        assert stored.unblinded_at is None and stored.ldn_periods is None
        assert stored.sheet_code is None  # sealed: the server holds no way to the code
        allocation = ldn_periods(ORDERS[email])
        forbidden = [
            code,
            blinding.normalise_code(code),
            ",".join(map(str, allocation)),
            json.dumps(list(allocation)),
            json.dumps(list(allocation)).replace(" ", ""),
            "Placebo (identical",
        ]
        for name, text in seen.items():
            for needle in forbidden:
                assert needle not in text, f"{needle!r} in {name}"
            assert not re.search(r'ldn_periods"\s*:\s*(?!null)', text), name
        for record in caplog.records:
            message = record.getMessage()
            assert code not in message and blinding.normalise_code(code) not in message

    (seen_a, _, trial_a), (seen_b, _, trial_b) = runs.values()
    ids = sorted({trial_a.id or 0, trial_b.id or 0})
    assert set(seen_a) == set(seen_b)
    for name in seen_a:
        a = _normalised(seen_a[name], "a@example.org", ids)
        b = _normalised(seen_b[name], "b@example.org", ids)
        assert a == b, f"{name} differs between the two orders"


def test_sealed_bytes_say_nothing_without_the_code() -> None:
    # With the mask uniform, a sealed allocation is as likely under either order: over many
    # seals of the same order, each sealed byte's low bit is a fair coin.
    order = (True, True, True)
    bits = [int(blinding.seal(order, blinding.new_code()).sealed[:2], 16) & 1 for _ in range(200)]
    assert 60 < sum(bits) < 140
    code = blinding.new_code()
    sealed = blinding.seal(order, code)
    assert blinding.unseal(sealed, code.lower().replace("-", " ")) == order
    with pytest.raises(blinding.WrongCode):
        blinding.unseal(sealed, blinding.new_code())


def test_backup_keeps_the_trial_sealed_and_restores_it(
    api: TestClient, client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.trials.helpers import run_trial

    result, _code, _, _ = run_trial(api, monkeypatch, start=START, stop_after_period=2)
    del result
    # A second trial, set up and blinded, then a backup.
    at(monkeypatch, START + timedelta(days=60))
    blind = api.post(
        "/api/v1/self-trials",
        json={"start_date": (START + timedelta(days=61)).isoformat(), "meaningful_change": 9},
    ).json()
    sheet_code, _ = read_sheet(
        api.get(f"/api/v1/self-trials/{blind['id']}/pharmacy-sheet.pdf").content
    )
    backup = api.get("/api/v1/export").json()
    rows = backup["self_trials"]
    assert len(rows) == 2
    assert rows[0]["ldn_periods"] is not None and rows[1]["ldn_periods"] is None
    text = json.dumps(backup)
    assert sheet_code not in text and blinding.normalise_code(sheet_code) not in text
    assert "sheet_code" not in text

    other = make_user(session, email="restore@example.org")
    token = client.post("/api/v1/auth/token", json={"email": other.email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    imported = client.post("/api/v1/import", json=backup, headers=headers)
    assert imported.status_code == 200, imported.text
    assert imported.json()["self_trials_added"] == 2
    again = client.post("/api/v1/import", json=backup, headers=headers)
    assert again.status_code == 200
    assert again.json()["self_trials_added"] == 0  # the same sealed trials are not added twice
    restored = client.get("/api/v1/self-trials", headers=headers).json()
    assert len(restored) == 2
    unblinded = next(t for t in restored if t["status"] == "unblinded")
    assert unblinded["result"]["items"]["pain"]["n_ldn"] > 0
    still_blind = next(t for t in restored if t["status"] != "unblinded")
    assert still_blind["pharmacy_sheet_available"] is False
    at(monkeypatch, START + timedelta(days=200))
    opened = client.post(
        f"/api/v1/self-trials/{still_blind['id']}/unblind",
        json={"code": sheet_code},
        headers=headers,
    )
    assert opened.status_code == 200, opened.text
    assert opened.json()["result"] is not None


def test_a_backup_trial_in_year_9999_is_refused_by_name(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its last period ended past the calendar's end: the import took it, and /today, /trial
    and the API answered 500 from then on."""
    at(monkeypatch, START - timedelta(days=2))
    created = api.post(
        "/api/v1/self-trials", json={"start_date": START.isoformat(), "meaningful_change": 9}
    )
    assert created.status_code == 201
    backup = api.get("/api/v1/export").json()
    assert api.delete(f"/api/v1/self-trials/{created.json()['id']}").status_code == 204
    row = backup["self_trials"][0]
    for field, day in (("start_date", "9999-12-01"), ("start_date", "1999-12-31")):
        crafted = {**backup, "self_trials": [{**row, field: day, "pairs": 8, "period_days": 42}]}
        crafted["self_trials"][0]["sealed_allocation"] = "ab" * 8
        response = api.post("/api/v1/import", json=crafted)
        assert response.status_code == 422, response.text
        fields = {item["field"] for item in response.json()["detail"]}
        assert fields == {f"self_trials[0].{field}"}
    assert api.get("/api/v1/self-trials").json() == []
    assert api.get("/api/v1/self-trials").status_code == 200
