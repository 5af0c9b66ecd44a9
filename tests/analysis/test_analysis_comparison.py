"""Hand-computed reference diaries: every number of the comparison pinned (SPEC §3, §4)."""

import dataclasses
import json
import math
from datetime import date, timedelta

import pytest

from app.analysis import (
    METHOD_TEXT,
    RESPONDER_RULE_TEXT,
    Comparison,
    DayRecord,
    StepInput,
    band_for,
    compare_steps,
    mean_difference_intervals,
    method_text,
)
from app.items import RATED_KEYS, SIDE_EFFECT_KEYS

D = date.fromisoformat


def days_from(first: str, **series: list[int | None]) -> list[DayRecord]:
    """Consecutive diary days from `first`, one value per day for each named item."""
    length = max(len(values) for values in series.values())
    start = D(first)
    return [
        DayRecord(
            day=start + timedelta(days=offset),
            values={key: values[offset] for key, values in series.items() if offset < len(values)},
        )
        for offset in range(length)
    ]


def with_extras(record: DayRecord, **changes: object) -> DayRecord:
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


# Diary A: two dose-0 steps pooled into the baseline, a first dose, then a pause (dose 0 again).
# Baseline 2024-01-01..01-09 (9 calendar days, 01-05 not logged), 1.5 mg 01-10..01-19 with the
# settling-in days 01-10..01-12, pause 01-20..01-29 (today) with settling-in 01-20..01-22.
STEPS_A = [
    StepInput(step_id=10, start_date=D("2024-01-01"), dose_mg=0.0),
    StepInput(step_id=11, start_date=D("2024-01-05"), dose_mg=0.0, dosing_time="bedtime"),
    StepInput(step_id=12, start_date=D("2024-01-10"), dose_mg=1.5, dosing_time="bedtime"),
    StepInput(step_id=13, start_date=D("2024-01-20"), dose_mg=0.0),
]
TODAY_A = D("2024-01-29")


def diary_a() -> list[DayRecord]:
    baseline = days_from(
        "2024-01-01",
        pain=[60, 62, 58, 64, 56, 60, 61, 59],
        fatigue=[70, 72, 68, 74, 66, 70, 71, 69],
        sleep_quality=[40, 42, 38, 40, 40, 40, 40, 40],
        dream_vividness=[20, 22, 18, 24, 16, 20, 21, 19],
    )
    # Eight logged days on nine calendar days: 01-05 is missing.
    baseline = [
        dataclasses.replace(r, day=r.day + timedelta(days=1)) if r.day >= D("2024-01-05") else r
        for r in baseline
    ]
    baseline[0] = with_extras(baseline[0], side_effects={"nightmares": 0})
    baseline[1] = with_extras(baseline[1], side_effects={"nightmares": 0})

    dose = days_from(
        "2024-01-10",
        # Three settling-in days first (80, 70, 50 left out), then seven counted days.
        pain=[80, 70, 50, 40, 42, 38, 44, 36, 40, 40],
        fatigue=[90, 90, 90, 45, 47, 43, 49, 41, 45, 45],
        sleep_quality=[None, None, None, 60, 62, 58],
        dream_vividness=[90, None, None, 60, 62, 58, 64, 56, 60, 60],
    )
    effects = {0: 2, 1: 3, 5: 0, 6: 1}
    taken = [True, True, True, True, None, True, True, False, True, True]
    dose = [
        with_extras(
            record,
            side_effects={"nightmares": effects.get(i)},
            dose_taken=taken[i],
            retrospective=i in (1, 8),
        )
        for i, record in enumerate(dose)
    ]

    pause = days_from(
        "2024-01-20",
        pain=[70, 70, 70, 58, 62, 60, 61, 59, 60, 60],
        fatigue=[80, 80, 80, 70, 72, 68, 71, 69, 70, 70],
        dream_vividness=[50, 50, 50, 20, 22, 18, 20, 20, 20, 20],
    )
    pause = [with_extras(record, dose_taken=False) for record in pause]
    before_first_step = DayRecord(day=D("2023-12-30"), values={"pain": 99}, dose_taken=True)
    return [before_first_step, *baseline, *dose, *pause]


@pytest.fixture(scope="module")
def comparison_a() -> Comparison:
    return compare_steps(diary_a(), STEPS_A, today=TODAY_A)


def test_pooled_baseline_and_step_spans(comparison_a: Comparison) -> None:
    baseline, dose, pause = comparison_a.steps
    assert comparison_a.settle_days == 3
    assert (baseline.step_id, baseline.pooled_step_ids) == (10, (10, 11))
    assert (baseline.start_date, baseline.end_date) == (D("2024-01-01"), D("2024-01-09"))
    assert baseline.is_baseline and baseline.dose_mg == 0.0 and baseline.dosing_time is None
    assert baseline.settle_end_date is None and baseline.settling_days == 0
    assert (dose.step_id, dose.start_date, dose.end_date) == (12, D("2024-01-10"), D("2024-01-19"))
    assert (dose.dose_mg, dose.dosing_time, dose.is_baseline) == (1.5, "bedtime", False)
    assert dose.settle_end_date == D("2024-01-12") and dose.settling_days == 3
    # A dose-0 step after a positive dose is a pause, compared like any other step.
    assert (pause.step_id, pause.is_baseline, pause.dose_mg) == (13, False, 0.0)
    assert (pause.start_date, pause.end_date) == (D("2024-01-20"), TODAY_A)
    assert comparison_a.baseline is baseline


def test_completeness_counts(comparison_a: Comparison) -> None:
    baseline, dose, pause = comparison_a.steps
    # The entry of 2023-12-30 precedes every step and is ignored.
    assert [s.days_logged for s in comparison_a.steps] == [8, 10, 10]
    assert [s.calendar_days for s in comparison_a.steps] == [9, 10, 10]
    assert baseline.adherence_pct is None and baseline.dose_answered_days == 0
    assert dose.adherence_pct == pytest.approx(100 * 8 / 9)
    assert dose.dose_answered_days == 9
    assert pause.adherence_pct == 0.0
    # One retrospective day inside the settling-in window still counts.
    assert [s.retrospective_days for s in comparison_a.steps] == [0, 2, 0]


def test_side_effects(comparison_a: Comparison) -> None:
    baseline, dose, pause = comparison_a.steps
    assert set(dose.side_effects) == set(SIDE_EFFECT_KEYS)
    nightmares = dose.side_effects["nightmares"]
    # Severities 2 and 3 (settling-in days) and 1 count; 0 is answered but not reported.
    assert (nightmares.days, nightmares.worst, nightmares.answered) == (3, 3, 4)
    assert nightmares.pct_of_logged == pytest.approx(30.0)
    headache = dose.side_effects["headache"]
    assert (headache.days, headache.worst, headache.answered, headache.pct_of_logged) == (
        0,
        None,
        0,
        0.0,
    )
    base_nightmares = baseline.side_effects["nightmares"]
    assert (base_nightmares.days, base_nightmares.worst, base_nightmares.answered) == (0, 0, 2)
    assert pause.side_effects["nightmares"].worst is None


def test_baseline_item_statistics(comparison_a: Comparison) -> None:
    pain = comparison_a.steps[0].items["pain"]
    assert pain.n == 8
    assert pain.mean == pytest.approx(60.0)
    assert pain.sd == pytest.approx(math.sqrt(42 / 7))
    assert pain.median == pytest.approx(60.0)
    assert pain.last3_mean == pytest.approx(60.0)  # 60, 61, 59
    assert pain.verdict == "baseline"
    assert (pain.diff_vs_baseline, pain.diff_ci95, pain.pct_change_vs_baseline) == (
        None,
        None,
        None,
    )
    assert (pain.improvement_pct, pain.band) == (None, None)
    assert set(comparison_a.steps[0].items) == set(RATED_KEYS)


def test_dose_step_excludes_settling_in_and_compares(comparison_a: Comparison) -> None:
    pain = comparison_a.steps[1].items["pain"]
    assert pain.n == 7
    assert (pain.settle_n, pain.settle_mean) == (3, pytest.approx(200 / 3))
    assert pain.mean == pytest.approx(40.0)
    assert pain.sd == pytest.approx(math.sqrt(40 / 6))
    assert pain.median == pytest.approx(40.0)
    assert pain.last3_mean == pytest.approx((36 + 40 + 40) / 3)
    assert pain.diff_vs_baseline == pytest.approx(-20.0)
    assert pain.pct_change_vs_baseline == pytest.approx(-100 / 3)
    assert pain.improvement_pct == pytest.approx(100 / 3)
    assert pain.band == "moderate"
    assert pain.verdict == "improved"
    low, high = pain.diff_ci95  # type: ignore[misc]
    assert low < high < 0
    # Centred on the plain difference, up to the outward rounding of each end to 0.1.
    assert (low + high) / 2 == pytest.approx(pain.diff_vs_baseline, abs=0.05)

    fatigue = comparison_a.steps[1].items["fatigue"]
    assert fatigue.mean == pytest.approx(45.0)
    assert fatigue.diff_vs_baseline == pytest.approx(-25.0)
    assert fatigue.improvement_pct == pytest.approx(2500 / 70)
    assert (fatigue.band, fatigue.verdict) == ("moderate", "improved")


def test_not_enough_days_still_gives_the_difference(comparison_a: Comparison) -> None:
    sleep = comparison_a.steps[1].items["sleep_quality"]
    assert sleep.n == 3
    assert sleep.mean == pytest.approx(60.0)
    assert sleep.diff_vs_baseline == pytest.approx(20.0)
    # Higher is better for sleep, so the improvement keeps the sign of the change.
    assert sleep.pct_change_vs_baseline == pytest.approx(50.0)
    assert sleep.improvement_pct == pytest.approx(50.0)
    assert sleep.band == "substantial"
    assert sleep.verdict == "not enough data"
    assert sleep.diff_ci95 is not None
    assert sum(sleep.diff_ci95) / 2 == pytest.approx(20.0, abs=0.05)

    paused_sleep = comparison_a.steps[2].items["sleep_quality"]
    assert paused_sleep.n == 0 and paused_sleep.mean is None and paused_sleep.sd is None
    assert paused_sleep.median is None and paused_sleep.last3_mean is None
    assert paused_sleep.diff_vs_baseline is None and paused_sleep.diff_ci95 is None
    assert paused_sleep.verdict == "not enough data"

    never_rated = comparison_a.steps[1].items["mood"]
    assert (never_rated.n, never_rated.mean, never_rated.verdict) == (0, None, "not enough data")
    assert comparison_a.steps[0].items["mood"].verdict == "baseline"


def test_dream_vividness_has_no_better_direction(comparison_a: Comparison) -> None:
    dose_dreams = comparison_a.steps[1].items["dream_vividness"]
    assert (dose_dreams.n, dose_dreams.settle_n) == (7, 1)
    assert dose_dreams.diff_vs_baseline == pytest.approx(40.0)
    assert dose_dreams.pct_change_vs_baseline == pytest.approx(200.0)
    assert (dose_dreams.improvement_pct, dose_dreams.band) == (None, None)
    assert dose_dreams.verdict == "higher"

    pause_dreams = comparison_a.steps[2].items["dream_vividness"]
    assert pause_dreams.diff_vs_baseline == pytest.approx(0.0)
    assert pause_dreams.verdict == "no clear change"


def test_pause_returns_to_baseline(comparison_a: Comparison) -> None:
    pain = comparison_a.steps[2].items["pain"]
    assert (pain.n, pain.settle_n) == (7, 3)
    assert pain.mean == pytest.approx(60.0)
    assert pain.diff_vs_baseline == pytest.approx(0.0)
    assert pain.improvement_pct == pytest.approx(0.0)
    assert pain.band == "no meaningful change"
    assert pain.verdict == "no clear change"
    low, high = pain.diff_ci95  # type: ignore[misc]
    assert low < 0 < high and low == pytest.approx(-high)


def test_responder(comparison_a: Comparison) -> None:
    baseline, dose, pause = comparison_a.steps
    assert baseline.responder is None
    # Pain 33% better and fatigue improved.
    assert dose.responder is True
    # Pain unchanged.
    assert pause.responder is False


def baseline_and_dose(
    baseline: dict[str, list[int | None]], dose: dict[str, list[int | None]]
) -> tuple[list[DayRecord], list[StepInput], date]:
    """Ten baseline days from 2024-03-01, then a 1.5 mg step from 03-11 (no settling-in used)."""
    days = days_from("2024-03-01", **baseline) + days_from("2024-03-11", **dose)
    steps = [
        StepInput(step_id=1, start_date=D("2024-03-01"), dose_mg=0.0),
        StepInput(step_id=2, start_date=D("2024-03-11"), dose_mg=1.5),
    ]
    return days, steps, days[-1].day


NOISY = [50, 52, 48, 51, 49, 50, 53, 47, 50, 50]  # mean 50


def test_not_enough_baseline_days() -> None:
    days, steps, today = baseline_and_dose(
        {"pain": [60, 62, 58, 61, 59, 60]}, {"pain": [30, 32, 28, 31, 29, 30, 30, 30]}
    )
    comparison = compare_steps(days, steps, today=today, settle_days=0)
    pain = comparison.steps[1].items["pain"]
    assert (comparison.steps[0].items["pain"].n, pain.n) == (6, 8)
    assert pain.verdict == "not enough data"
    assert pain.diff_vs_baseline == pytest.approx(-30.0)
    assert pain.improvement_pct == pytest.approx(50.0)
    assert pain.band == "substantial"
    assert pain.diff_ci95 is not None
    # Pain lacks data, so whether this is a responder cannot be judged.
    assert comparison.steps[1].responder is None


def test_no_baseline() -> None:
    days = days_from("2024-05-01", pain=[50, 40, 30, 30, 30, 31, 29, 30, 30, 30])
    steps = [StepInput(step_id=7, start_date=D("2024-05-01"), dose_mg=1.5)]
    comparison = compare_steps(days, steps, today=D("2024-05-10"))
    (only,) = comparison.steps
    assert comparison.baseline is None
    assert not only.is_baseline and only.responder is None
    pain = only.items["pain"]
    # Per-step statistics are still there, after the settling-in days.
    assert (pain.n, pain.settle_n, pain.mean) == (7, 3, pytest.approx(30.0))
    assert pain.verdict == "no baseline"
    assert pain.diff_vs_baseline is None and pain.diff_ci95 is None
    assert pain.pct_change_vs_baseline is None and pain.improvement_pct is None
    assert pain.band is None


def test_percentages_are_null_when_baseline_mean_is_zero() -> None:
    days, steps, today = baseline_and_dose(
        {"pain": [0] * 10, "fatigue": NOISY, "stress": [0] * 10},
        {"pain": [20] * 10, "fatigue": NOISY, "stress": [30, 32, 28, 31, 29, 30, 33, 27, 30, 30]},
    )
    comparison = compare_steps(days, steps, today=today, settle_days=0)
    stress = comparison.steps[1].items["stress"]
    assert stress.diff_vs_baseline == pytest.approx(30.0)
    assert stress.pct_change_vs_baseline is None
    assert stress.improvement_pct is None and stress.band is None
    # Lower is better for stress: a clear rise is "worse".
    assert stress.verdict == "worse"
    # Pain never varies within a step: only the rounding of whole scores is uncertain, so the
    # interval is narrow but never the bare point.
    pain = comparison.steps[1].items["pain"]
    assert pain.diff_ci95 == (19.7, 20.3)
    assert pain.verdict == "worse"
    assert pain.pct_change_vs_baseline is None
    # Without a pain percentage there is no responder judgement.
    assert comparison.steps[1].responder is None


def test_identical_scores_are_not_known_exactly() -> None:
    # Baseline 50 every day, then 49 every day: once a zero-width [−1, −1] and "improved".
    days = days_from("2024-03-01", pain=[50] * 14) + days_from("2024-03-15", pain=[49] * 14)
    steps = [
        StepInput(step_id=1, start_date=D("2024-03-01"), dose_mg=0.0),
        StepInput(step_id=2, start_date=D("2024-03-15"), dose_mg=1.5),
    ]
    comparison = compare_steps(days, steps, today=D("2024-03-28"), settle_days=0)
    pain = comparison.steps[1].items["pain"]
    assert pain.diff_vs_baseline == pytest.approx(-1.0)
    assert pain.diff_ci95 is not None
    low, high = pain.diff_ci95
    assert low < -1.0 < high and high - low >= 0.4
    # The change really was recorded every day, so it is clear, and the band says it is small.
    assert (pain.verdict, pain.band) == ("improved", "no meaningful change")


# Ten rated days each side whose computed 95% interval ends just short of no change: pain's high
# end at −0.013 and sleep's low end at +0.003, both within 0.05 of 0, so ordinary rounding would
# print 0.0 beside "improved".
PAIN_EDGE = {
    "baseline": [64, 55, 56, 59, 61, 59, 57, 64, 65, 56],
    "step": [60, 59, 51, 54, 57, 59, 53, 51, 58, 50],
}
SLEEP_EDGE = {
    "baseline": [56, 50, 59, 60, 52, 60, 56, 51, 59, 52],
    "step": [55, 65, 60, 60, 62, 63, 56, 63, 60, 64],
}


def test_interval_ends_round_outwards_and_the_verdict_agrees() -> None:
    def raw(edge: dict[str, list[int]]) -> tuple[float, float]:
        fitted = mean_difference_intervals(
            list(range(20)), edge["baseline"] + edge["step"], [0] * 10 + [1] * 10, reference=0
        )[1]
        return fitted.low, fitted.high

    pain_low, pain_high = raw(PAIN_EDGE)
    assert -0.05 < pain_high < 0.0 and -8.8 < pain_low < -8.75
    sleep_low, sleep_high = raw(SLEEP_EDGE)
    assert 0.0 < sleep_low < 0.05 and 10.55 < sleep_high < 10.6

    # One item per diary, so the diary's shared φ is that item's own.
    days, steps, today = baseline_and_dose(
        {"pain": PAIN_EDGE["baseline"]}, {"pain": PAIN_EDGE["step"]}
    )
    comparison = compare_steps(days, steps, today=today, settle_days=0)
    pain = comparison.steps[1].items["pain"]
    # Low end down (−8.79 → −8.8), high end up (−0.013 → 0.0): the shown interval touches no
    # change, so pain is not called improved.
    assert pain.diff_ci95 == (-8.8, 0.0)
    assert pain.verdict == "no clear change"
    # Higher is better for sleep: its low end +0.003 goes down to 0.0.
    days, steps, today = baseline_and_dose(
        {"sleep_quality": SLEEP_EDGE["baseline"]}, {"sleep_quality": SLEEP_EDGE["step"]}
    )
    sleep = compare_steps(days, steps, today=today, settle_days=0).steps[1].items["sleep_quality"]
    assert sleep.diff_ci95 == (0.0, 10.6)
    assert sleep.verdict == "no clear change"
    days, steps, today = baseline_and_dose(
        {"pain": PAIN_EDGE["baseline"]}, {"pain": PAIN_EDGE["step"]}
    )
    comparison = compare_steps(days, steps, today=today, settle_days=0)
    assert comparison.to_dict()["steps"][1]["items"]["pain"]["diff_ci95"] == [-8.8, 0.0]


def test_responder_three_valued() -> None:
    pain = {"pain": [60, 62, 58, 61, 59, 60, 63, 57, 60, 60]}
    better_pain = {"pain": [30, 32, 28, 31, 29, 30, 33, 27, 30, 30]}
    # Pain 50% better, fatigue unchanged, sleep only 3 days: undecided.
    days, steps, today = baseline_and_dose(
        {**pain, "fatigue": NOISY, "sleep_quality": NOISY},
        {**better_pain, "fatigue": NOISY, "sleep_quality": [50, 52, 48]},
    )
    step = compare_steps(days, steps, today=today, settle_days=0).steps[1]
    assert step.items["pain"].verdict == "improved"
    assert step.items["fatigue"].verdict == "no clear change"
    assert step.items["sleep_quality"].verdict == "not enough data"
    assert step.responder is None
    # Same with enough sleep days, also unchanged: not a responder.
    days, steps, today = baseline_and_dose(
        {**pain, "fatigue": NOISY, "sleep_quality": NOISY},
        {**better_pain, "fatigue": NOISY, "sleep_quality": NOISY},
    )
    step = compare_steps(days, steps, today=today, settle_days=0).steps[1]
    assert step.responder is False
    # Sleep clearly better: a responder even though fatigue did not change.
    days, steps, today = baseline_and_dose(
        {**pain, "fatigue": NOISY, "sleep_quality": NOISY},
        {**better_pain, "fatigue": NOISY, "sleep_quality": [v + 30 for v in NOISY]},
    )
    step = compare_steps(days, steps, today=today, settle_days=0).steps[1]
    assert step.items["sleep_quality"].verdict == "improved"
    assert step.responder is True


@pytest.mark.parametrize(
    ("improvement", "band"),
    [
        (None, None),
        (-50.0, "worse"),
        (-10.0, "worse"),
        (-9.96, "worse"),  # shown as -10.0
        (-9.94, "no meaningful change"),
        (0.0, "no meaningful change"),
        (9.94, "no meaningful change"),
        (10.0, "minimal"),
        (29.94, "minimal"),
        # Judged as shown, one decimal: a printed 30.0 is never called "minimal".
        (29.96, "moderate"),
        (49.9, "moderate"),
        (50.0, "substantial"),
        (250.0, "substantial"),
    ],
)
def test_band_thresholds(improvement: float | None, band: str | None) -> None:
    assert band_for(improvement) == band


def test_settle_days_zero_and_longer_than_the_step(comparison_a: Comparison) -> None:
    everything = compare_steps(diary_a(), STEPS_A, today=TODAY_A, settle_days=0)
    dose = everything.steps[1]
    assert (dose.settling_days, dose.settle_end_date) == (0, None)
    assert dose.items["pain"].n == 10 and dose.items["pain"].settle_n == 0
    assert dose.items["pain"].mean == pytest.approx(480 / 10)

    all_settling = compare_steps(diary_a(), STEPS_A, today=TODAY_A, settle_days=14)
    dose = all_settling.steps[1]
    assert dose.settle_end_date == dose.end_date and dose.settling_days == 10
    assert dose.items["pain"].n == 0 and dose.items["pain"].verdict == "not enough data"
    # Settling-in days still count as logged, for adherence and for side effects.
    assert dose.days_logged == 10 and dose.side_effects["nightmares"].days == 3
    assert dose.adherence_pct == pytest.approx(100 * 8 / 9)

    with pytest.raises(ValueError, match="settle_days"):
        compare_steps(diary_a(), STEPS_A, today=TODAY_A, settle_days=-1)


def test_last_step_runs_to_the_later_of_today_and_the_last_entry() -> None:
    steps = [
        StepInput(step_id=1, start_date=D("2024-01-01"), dose_mg=0.0),
        StepInput(step_id=2, start_date=D("2024-01-15"), dose_mg=1.0),
        # Planned for later: not begun, so not in the comparison.
        StepInput(step_id=3, start_date=D("2024-03-01"), dose_mg=1.5),
    ]
    days = days_from("2024-01-01", pain=[50] * 20)
    until_today = compare_steps(days, steps, today=D("2024-02-01"))
    assert [s.step_id for s in until_today.steps] == [1, 2]
    assert until_today.steps[1].end_date == D("2024-02-01")
    # An entry for tomorrow (allowed by SPEC §2) extends the last step.
    tomorrow = [*days, DayRecord(day=D("2024-02-02"), values={"pain": 40})]
    extended = compare_steps(tomorrow, steps, today=D("2024-02-01"))
    assert extended.steps[1].end_date == D("2024-02-02")
    assert extended.steps[1].days_logged == 7
    # Once that step has begun it ends the one before, the day before it starts.
    later = compare_steps(days, steps, today=D("2024-03-05"))
    assert [s.end_date for s in later.steps] == [D("2024-01-14"), D("2024-02-29"), D("2024-03-05")]


def test_only_dose_zero_steps_are_all_baseline() -> None:
    steps = [
        StepInput(step_id=4, start_date=D("2024-01-01"), dose_mg=0.0),
        StepInput(step_id=5, start_date=D("2024-01-08"), dose_mg=0.0),
    ]
    comparison = compare_steps(
        days_from("2024-01-01", pain=[50] * 10), steps, today=D("2024-01-20")
    )
    (baseline,) = comparison.steps
    assert baseline.is_baseline and baseline.pooled_step_ids == (4, 5)
    assert (baseline.end_date, baseline.days_logged) == (D("2024-01-20"), 10)


def test_no_steps_and_invalid_input() -> None:
    assert compare_steps(days_from("2024-01-01", pain=[1]), [], today=D("2024-01-02")).steps == ()
    clash = [
        StepInput(step_id=1, start_date=D("2024-01-01"), dose_mg=0.0),
        StepInput(step_id=2, start_date=D("2024-01-01"), dose_mg=1.0),
    ]
    with pytest.raises(ValueError, match="two dose steps"):
        compare_steps([], clash, today=D("2024-01-02"))
    twice = days_from("2024-01-01", pain=[1]) * 2
    with pytest.raises(ValueError, match="two diary entries"):
        compare_steps(twice, clash[:1], today=D("2024-01-02"))


def test_input_order_does_not_matter() -> None:
    shuffled = list(reversed(diary_a()))
    assert (
        compare_steps(shuffled, list(reversed(STEPS_A)), today=TODAY_A).to_dict()
        == compare_steps(diary_a(), STEPS_A, today=TODAY_A).to_dict()
    )


def test_to_dict_shape(comparison_a: Comparison) -> None:
    data = comparison_a.to_dict()
    json.dumps(data)  # plain JSON types only
    assert data["settle_days"] == 3
    baseline, dose, _ = data["steps"]
    required = {
        "step_id",
        "start_date",
        "end_date",
        "dose_mg",
        "is_baseline",
        "days_logged",
        "adherence_pct",
        "retrospective_days",
        "settling_days",
        "items",
        "side_effects",
        "responder",
    }
    assert required <= set(dose)
    assert (dose["start_date"], dose["end_date"]) == ("2024-01-10", "2024-01-19")
    assert (dose["dose_mg"], dose["adherence_pct"], dose["settling_days"]) == (1.5, 88.9, 3)
    assert dose["responder"] is True and baseline["responder"] is None
    assert set(dose["items"]) == set(RATED_KEYS)
    pain = dose["items"]["pain"]
    assert {
        "n",
        "mean",
        "sd",
        "median",
        "last3_mean",
        "diff_vs_baseline",
        "diff_ci95",
        "pct_change_vs_baseline",
        "improvement_pct",
        "band",
        "verdict",
    } <= set(pain)
    assert (pain["n"], pain["mean"], pain["sd"], pain["last3_mean"]) == (7, 40.0, 2.6, 38.7)
    assert (pain["diff_vs_baseline"], pain["pct_change_vs_baseline"]) == (-20.0, -33.3)
    assert (pain["improvement_pct"], pain["band"], pain["verdict"]) == (
        33.3,
        "moderate",
        "improved",
    )
    low, high = pain["diff_ci95"]
    assert low < high < 0 and isinstance(low, float)
    assert baseline["items"]["pain"]["diff_ci95"] is None
    assert dose["side_effects"]["nightmares"] == {
        "days": 3,
        "pct_of_logged": 30.0,
        "worst": 3,
        "answered": 4,
    }
    # Rounding never leaves a "-0.0" on a report.
    assert math.copysign(1.0, data["steps"][2]["items"]["pain"]["diff_vs_baseline"]) == 1.0


def test_results_are_frozen(comparison_a: Comparison) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        comparison_a.steps[0].days_logged = 1  # type: ignore[misc]


def test_plain_words() -> None:
    assert "30%" in RESPONDER_RULE_TEXT and "fatigue" in RESPONDER_RULE_TEXT
    assert method_text(3) == METHOD_TEXT
    assert "first 3 days" in METHOD_TEXT
    assert "All days" in method_text(0) and "first 1 day " in method_text(1)
