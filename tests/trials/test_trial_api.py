"""The self-trial through /api/v1/self-trials, from set-up to result (SPEC §14)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.trials.helpers import at, run_trial

START = date(2026, 3, 2)


def test_simulated_trial_goes_from_set_up_to_result(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    result_trial, _code, holds, _ = run_trial(api, monkeypatch, start=START, effect=20.0)

    assert result_trial["status"] == "unblinded" and result_trial["ended_early"] is False
    result = result_trial["result"]
    assert sorted(result["ldn_periods"]) == sorted(n for n, what in holds.items() if what == "LDN")
    # Counterbalanced: one LDN period in every pair.
    assert sorted((n + 1) // 2 for n in result["ldn_periods"]) == [1, 2, 3]
    pain = result["items"]["pain"]
    assert pain["pairs_used"] == 3 and pain["orders_weighed"] == 8
    assert pain["diff_ci95"][1] < 0  # LDN lowered pain and the interval says so
    assert -30 < pain["diff_ldn_minus_placebo"] < -10
    assert pain["verdict"] == "better on LDN"
    assert pain["randomisation_p"] == pytest.approx(1 / 8)
    assert result["smallest_possible_p"] == 0.125
    assert any("smallest possible with 3 pairs" in line for line in result["summary"])
    truth = {row["period"]: row["truth"] for row in result["guesses"]["periods"]}
    assert truth == {n: what.lower() for n, what in holds.items()}


def test_set_up_rules(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, START - timedelta(days=1))
    too_soon = api.post(
        "/api/v1/self-trials",
        json={"start_date": (START - timedelta(days=1)).isoformat(), "meaningful_change": 10},
    )
    assert too_soon.status_code == 422
    assert too_soon.json()["detail"][0]["loc"] == ["body", "start_date"]
    one_pair = api.post(
        "/api/v1/self-trials",
        json={"start_date": START.isoformat(), "meaningful_change": 10, "pairs": 1},
    )
    assert one_pair.status_code == 422 and "pairs" in one_pair.json()["detail"][0]["loc"]
    unknown = api.post(
        "/api/v1/self-trials",
        json={"start_date": START.isoformat(), "meaningful_change": 10, "primary_item": "mojo"},
    )
    assert unknown.status_code == 422
    created = api.post(
        "/api/v1/self-trials", json={"start_date": START.isoformat(), "meaningful_change": 10}
    )
    assert created.status_code == 201
    trial = created.json()
    assert (trial["pairs"], trial["period_days"], trial["settle_days"]) == (3, 21, 3)
    assert trial["smallest_possible_p"] == 0.125 and trial["pairs_needed_for_p_005"] == 5
    again = api.post(
        "/api/v1/self-trials", json={"start_date": START.isoformat(), "meaningful_change": 10}
    )
    assert again.status_code == 409
    url = f"/api/v1/self-trials/{trial['id']}"
    changed = api.patch(url, json={"primary_item": "fatigue", "meaningful_change": 20})
    assert changed.status_code == 200 and changed.json()["primary_item"] == "fatigue"
    # An item where neither way is better is tested both ways: its floor doubles.
    either_way = api.patch(url, json={"primary_item": "dream_vividness"}).json()
    assert either_way["smallest_possible_p"] == 0.25
    assert either_way["pairs_needed_for_p_005"] == 6
    api.patch(url, json={"primary_item": "fatigue"})
    early_guess = api.post(f"{url}/guesses", json={"period": 1, "guess": "ldn"})
    assert early_guess.status_code == 422
    not_started = api.post(f"{url}/unblind", json={"code": "0000-0000-0000"})
    assert not_started.status_code == 409

    at(monkeypatch, START)  # the first period starts: the preregistration locks
    locked = api.patch(url, json={"meaningful_change": 5})
    assert locked.status_code == 409
    assert api.get(url).json()["preregistration_locked"] is True
    assert api.get(f"{url}/pharmacy-sheet.pdf").status_code == 410
    assert api.delete(url).status_code == 409
    assert api.get(url).json()["current_period"] == 1


def test_another_patients_trial_is_not_found(
    api: TestClient, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, START - timedelta(days=1))
    trial = api.post(
        "/api/v1/self-trials", json={"start_date": START.isoformat(), "meaningful_change": 10}
    ).json()
    client.post(
        "/api/v1/auth/register",
        json={"email": "other@example.org", "password": "another long password 42"},
    )
    token = client.post(
        "/api/v1/auth/token",
        json={"email": "other@example.org", "password": "another long password 42"},
    )
    other = {"Authorization": f"Bearer {token.json()['access_token']}"}
    for path in ("", "/pharmacy-sheet.pdf"):
        assert (
            client.get(f"/api/v1/self-trials/{trial['id']}{path}", headers=other).status_code == 404
        )
    assert (
        client.post(
            f"/api/v1/self-trials/{trial['id']}/unblind",
            headers=other,
            json={"code": "0000-0000-0000"},
        ).status_code
        == 404
    )


def test_early_unblinding_is_recorded(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    trial, _, _, _ = run_trial(api, monkeypatch, start=START, stop_after_period=4, seed=3)
    assert trial["ended_early"] is True and trial["status"] == "unblinded"
    assert trial["result"]["pairs_used"] == 2
    assert trial["result"]["summary"][0].startswith("The trial was unblinded early")
    again = api.post(f"/api/v1/self-trials/{trial['id']}/unblind", json={"code": "x"})
    assert again.status_code == 409
