"""The result's sentences agree with its verdict and its test (SPEC §14), whichever way the
primary item counts as better."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.items.patient import Catalogue
from app.models import SelfTrial, User
from app.services.entries import patient_today
from app.trials import service
from app.trials.analysis import Better, TrialResult, trial_result
from app.trials.design import pairs_for_alpha, periods, smallest_p
from app.trials.summary import _before_trial
from tests.factories import make_entry, make_step

START = date(2026, 3, 1)


def _result(key: str, better: Better, *, raised: float) -> TrialResult:
    """Three pairs of 21 days; the item is `raised` points higher in every LDN period."""
    shape = periods(START, pairs=3, period_days=21, settle_days=3)
    ldn_first = (True, False, True)
    ldn = {1, 4, 5}
    rng = np.random.default_rng(0)
    scores = [
        (
            period.start + timedelta(days=d),
            int(60 + raised * (period.number in ldn) + rng.normal(0, 5)),
        )
        for period in shape
        for d in range(21)
    ]
    return trial_result(
        item_scores={key: scores},
        better={key: better},
        periods=shape,
        ldn_first=ldn_first,
        primary_item=key,
        meaningful_change=10,
        guesses={},
    )


def _words(result: TrialResult) -> list[str]:
    trial: Any = SimpleNamespace(
        ended_early=False, unblinded_on=None, start_date=START, meaningful_change=10
    )
    return service.result_words(result, trial, Catalogue(()))


def test_an_item_without_a_better_direction_is_worded_as_its_verdict() -> None:
    result = _result("dream_vividness", "neither", raised=20)
    primary = result.primary
    assert primary.verdict == "higher on LDN" and primary.ci95 is not None and primary.ci95[0] > 0
    # Two-sided: the order drawn and its mirror image are equally extreme.
    assert primary.p_value == 2 / 8 and result.smallest_p == 0.25
    text = " ".join(_words(result))
    assert "was higher on LDN." in text
    assert "includes no difference" not in text
    assert "favour" not in text
    assert (
        "the smallest possible with 3 pairs for an item without a better direction (2 in 8)" in text
    )
    assert "p can never go below 0.250" in text and "(6 pairs are needed)" in text


def test_an_item_with_a_better_direction_keeps_its_one_sided_words() -> None:
    result = _result("pain", "higher", raised=20)
    assert result.primary.verdict == "better on LDN" and result.smallest_p == 0.125
    text = " ".join(_words(result))
    assert "was better on LDN." in text
    assert "the smallest possible with 3 pairs (1 in 8)" in text
    assert "p can never go below 0.125" in text and "(5 pairs are needed)" in text


def test_smallest_p_either_way_is_twice_as_large() -> None:
    assert smallest_p(3, two_sided=True) == 2 / 8
    assert pairs_for_alpha(0.05, two_sided=True) == 6


def test_the_weeks_before_the_trial_are_said_as_the_dose_steps_have_them(
    api: TestClient, session: Session, user: User
) -> None:
    """Set up "already on LDN", the line said "open-label LDN" even for the baseline days."""
    today = patient_today(user)
    make_step(session, user=user, start=today - timedelta(days=40), dose_mg=0)
    make_step(session, user=user, start=today - timedelta(days=14), dose_mg=1.5)
    for offset in range(28):
        make_entry(session, user=user, day=today - timedelta(days=offset), pain=50)
    created = api.post(
        "/api/v1/self-trials",
        json={
            "start_date": (today + timedelta(days=1)).isoformat(),
            "meaningful_change": 10,
            "already_on_ldn": True,
        },
    )
    assert created.status_code == 201, created.text
    trial = session.get(SelfTrial, created.json()["id"])
    assert trial is not None

    line = _before_trial(session, trial, service.items_of(session, user_id=user.id))

    assert line is not None
    assert line.startswith("Before the trial (open-label LDN on 15 of these days, no LDN on")
