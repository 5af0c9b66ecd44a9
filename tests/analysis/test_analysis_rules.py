"""SPEC §4.1 rules on small hand-made diaries: bands, responders, the reference step, the JSON."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.analysis import DayRecord, StepInput, band_for, compare_steps

FIRST = date(2024, 1, 1)


def diary(
    base: dict[str, list[int]], *steps: dict[str, list[int]]
) -> tuple[list[DayRecord], list[StepInput], date]:
    """A baseline then dose steps, each segment a run of consecutive days."""
    records: list[DayRecord] = []
    inputs: list[StepInput] = []
    offset = 0
    for index, segment in enumerate((base, *steps)):
        inputs.append(
            StepInput(index + 1, FIRST + timedelta(days=offset), 0.0 if index == 0 else 1.5 * index)
        )
        length = max(len(values) for values in segment.values())
        for day in range(length):
            records.append(
                DayRecord(
                    day=FIRST + timedelta(days=offset + day),
                    values={key: values[day] for key, values in segment.items()},
                )
            )
        offset += length
    return records, inputs, records[-1].day


def wobble(level: int, days: int) -> list[int]:
    return [level + (-1, 0, 1)[day % 3] for day in range(days)]


def test_a_change_under_five_points_is_no_meaningful_change() -> None:
    # 4 → 2 is 50% less pain, clearly and consistently, but only two points.
    records, steps, today = diary({"pain": wobble(4, 14)}, {"pain": wobble(2, 14)})
    pain = compare_steps(records, steps, today=today, settle_days=0).steps[1].items["pain"]
    assert pain.verdict == "improved"
    assert pain.improvement_pct == pytest.approx(50.0, abs=2.0)
    assert pain.band == "no meaningful change"
    assert band_for(50.0, -2.0) == "no meaningful change"
    assert band_for(50.0, -20.0) == "substantial"
    assert band_for(50.0) == "substantial"


def test_responder_needs_pain_improved_by_thirty_percent_and_ten_points() -> None:
    improved = {"fatigue": wobble(70, 14), "sleep_quality": wobble(30, 14)}
    better = {"fatigue": wobble(50, 14), "sleep_quality": wobble(50, 14)}
    # Near the floor: 50% less pain but only 3 points: not a responder.
    records, steps, today = diary(
        {"pain": wobble(6, 14), **improved}, {"pain": wobble(3, 14), **better}
    )
    step = compare_steps(records, steps, today=today, settle_days=0).steps[1]
    assert step.items["pain"].verdict == "improved"
    assert step.responder is False
    # 60 → 30 with fatigue better: a responder.
    records, steps, today = diary(
        {"pain": wobble(60, 14), **improved}, {"pain": wobble(30, 14), **better}
    )
    assert compare_steps(records, steps, today=today, settle_days=0).steps[1].responder is True


def test_responder_is_not_judged_on_pain_whose_interval_spans_no_change() -> None:
    noisy_base = [60, 20, 90, 10, 70, 30, 95, 5, 50, 40, 80, 15, 65, 35]
    noisy_step = [30, 5, 60, 0, 40, 10, 70, 0, 20, 15, 50, 5, 35, 10]
    records, steps, today = diary(
        {"pain": noisy_base, "fatigue": wobble(70, 14)},
        {"pain": noisy_step, "fatigue": wobble(40, 14)},
    )
    step = compare_steps(records, steps, today=today, settle_days=0).steps[1]
    pain = step.items["pain"]
    assert pain.improvement_pct is not None and pain.improvement_pct >= 30
    assert pain.verdict == "no clear change"
    assert step.responder is False


def test_any_step_can_be_the_reference() -> None:
    records, steps, today = diary(
        {"pain": wobble(60, 14)}, {"pain": wobble(40, 14)}, {"pain": wobble(50, 14)}
    )
    comparison = compare_steps(records, steps, today=today, settle_days=0, reference=2)
    assert comparison.reference_step_id == 2
    baseline, reference, later = comparison.steps
    assert reference.is_reference and reference.items["pain"].verdict == "reference"
    assert baseline.items["pain"].diff_vs_baseline == pytest.approx(20.0)
    assert baseline.items["pain"].verdict == "worse"
    assert later.items["pain"].diff_vs_baseline == pytest.approx(10.0)
    assert later.responder is None
    data = comparison.to_dict()
    assert data["reference_step_id"] == 2 and data["steps"][1]["is_reference"]
    with pytest.raises(KeyError):
        compare_steps(records, steps, today=today, reference=99)


def test_json_carries_the_new_fields() -> None:
    records, steps, today = diary(
        {"pain": wobble(60, 21), "fatigue": wobble(50, 21)},
        {"pain": wobble(40, 21), "fatigue": wobble(50, 21)},
    )
    data = compare_steps(records, steps, today=today).to_dict()
    assert data["primary_item"] == "pain"
    step = data["steps"][1]
    assert step["headline"] == ["pain"] and step["comparisons"] == 2
    pain = step["items"]["pain"]
    assert pain["cautions"] == []
    assert set(pain["days_to_detect"]) == {"10", "15", "20"}
    assert all(isinstance(days, int) for days in pain["days_to_detect"].values())
    assert pain["more_days"] is None


def test_not_enough_days_says_how_many_more_would_help() -> None:
    records, steps, today = diary({"pain": wobble(60, 21)}, {"pain": wobble(50, 7)})
    pain = compare_steps(records, steps, today=today).steps[1].items["pain"]
    assert pain.n == 4 and pain.verdict == "not enough data"
    assert pain.more_days is not None and pain.more_days >= 3
