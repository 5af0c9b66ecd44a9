"""Any rated item the patient tracks (built-in, pack or own) can be a trial's primary item."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from tests.conftest import Browser
from tests.trials.helpers import at, read_sheet

START = date(2026, 3, 2)
OWN = {"label": "Tinnitus", "low_anchor": "silent", "high_anchor": "unbearable"}


def _items(api: TestClient) -> None:
    assert api.post("/api/v1/item-packs/me_cfs/track").status_code == 200
    created = api.post("/api/v1/items", json=OWN)
    assert created.status_code == 201 and created.json()["key"] == "custom_tinnitus"


def _create(api: TestClient, primary: str) -> object:
    return api.post(
        "/api/v1/self-trials",
        json={
            "start_date": START.isoformat(),
            "primary_item": primary,
            "meaningful_change": 15,
            "pairs": 2,
            "period_days": 14,
        },
    )


def test_pack_and_own_items_can_be_primary_and_others_are_refused_by_name(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, START - timedelta(days=3))
    not_tracked = _create(api, "brain_fog")
    assert not_tracked.status_code == 422  # type: ignore[attr-defined]
    detail = not_tracked.json()["detail"][0]  # type: ignore[attr-defined]
    assert detail["loc"] == ["body", "primary_item"] and "not tracking brain fog" in detail["msg"]
    _items(api)
    for unknown in ("mojo", "nausea", "custom_nobody"):  # never had it; a side effect
        refused = _create(api, unknown)
        assert refused.status_code == 422  # type: ignore[attr-defined]
        assert refused.json()["detail"][0]["loc"] == ["body", "primary_item"]  # type: ignore[attr-defined]
    created = _create(api, "brain_fog")
    assert created.status_code == 201, created.text  # type: ignore[attr-defined]
    url = f"/api/v1/self-trials/{created.json()['id']}"  # type: ignore[attr-defined]
    own = api.patch(url, json={"primary_item": "custom_tinnitus"})
    assert own.status_code == 200 and own.json()["primary_item"] == "custom_tinnitus"
    assert api.patch("/api/v1/items/pem", json={"tracked": False}).status_code == 200
    dropped = api.patch(url, json={"primary_item": "pem"})
    assert dropped.status_code == 422
    assert dropped.json()["detail"][0]["loc"] == ["body", "primary_item"]
    assert api.get(url).json()["primary_item"] == "custom_tinnitus"  # nothing written


def test_a_trial_on_a_pack_item_is_analysed_with_the_own_item_beside_it(
    api: TestClient, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, START - timedelta(days=3))
    _items(api)
    page = BeautifulSoup(browser.get("/trial").text, "html.parser")
    offered = {option["value"] for option in page.select("#primary_item option")}
    assert {"pain", "brain_fog", "pem", "custom_tinnitus"} <= offered
    assert "joint_stiffness" not in offered and "nausea" not in offered
    untracked = browser.post(
        "/trial",
        {
            "already_on_ldn": "yes",
            "start_date": START.isoformat(),
            "pairs": "2",
            "period_days": "14",
            "settle_days": "3",
            "primary_item": "joint_stiffness",
            "meaningful_change": "15",
            "ldn_dose_mg": "",
        },
    )
    assert untracked.status_code == 422
    error = BeautifulSoup(untracked.text, "html.parser").select_one("#primary_item-error")
    assert error is not None and "not tracking stiffness" in error.get_text()

    created = _create(api, "brain_fog")
    assert created.status_code == 201
    trial = created.json()  # type: ignore[attr-defined]
    code, holds = read_sheet(
        api.get(f"/api/v1/self-trials/{trial['id']}/pharmacy-sheet.pdf").content
    )
    rng = np.random.default_rng(3)
    for period in trial["periods"]:
        first = date.fromisoformat(period["start_date"])
        ldn = holds[period["period"]] == "LDN"
        entries = [
            {
                "date": (first + timedelta(days=i)).isoformat(),
                "ratings": {
                    "brain_fog": int(np.clip((30 if ldn else 60) + rng.normal(0, 6), 0, 100)),
                    "custom_tinnitus": int(np.clip(50 + rng.normal(0, 6), 0, 100)),
                },
            }
            for i in range(14)
        ]
        at(monkeypatch, first + timedelta(days=13))
        assert api.post("/api/v1/entries/batch", json={"entries": entries}).status_code == 200
    at(monkeypatch, date.fromisoformat(trial["end_date"]) + timedelta(days=1))
    opened = api.post(f"/api/v1/self-trials/{trial['id']}/unblind", json={"code": code})
    assert opened.status_code == 200, opened.text

    result = opened.json()["result"]
    fog = result["items"]["brain_fog"]
    assert fog["verdict"] == "better on LDN" and -40 < fog["diff_ldn_minus_placebo"] < -20
    assert fog["p_sided"] == "one-sided" and fog["orders_weighed"] == 4
    assert "custom_tinnitus" in result["items"]
    assert result["summary"][0].startswith("Brain fog was")
    text = " ".join(BeautifulSoup(browser.get("/trial").text, "html.parser").get_text(" ").split())
    assert "Brain fog (primary)" in text and "Tinnitus" in text


def test_an_item_untracked_after_set_up_stays_the_primary_until_changed(
    api: TestClient, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, START - timedelta(days=3))
    _items(api)
    created = _create(api, "pem")
    assert created.status_code == 201
    trial_id = created.json()["id"]  # type: ignore[attr-defined]
    assert api.patch("/api/v1/items/pem", json={"tracked": False}).status_code == 200

    page = BeautifulSoup(browser.get("/trial").text, "html.parser")
    chosen = page.select_one("#pre-primary option[selected]")
    assert chosen is not None and chosen["value"] == "pem"  # still offered, still chosen
    changed = browser.post(
        f"/trial/{trial_id}/preregistration", {"primary_item": "pem", "meaningful_change": "20"}
    )
    assert changed.status_code == 303
    trial = api.get(f"/api/v1/self-trials/{trial_id}").json()
    assert (trial["primary_item"], trial["meaningful_change"]) == ("pem", 20)
