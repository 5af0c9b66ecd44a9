"""/trends (charts of every item over a range) and /compare (each dose step against baseline)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from numpy.typing import NDArray

from app.analysis import (
    DEFAULT_SETTLE_DAYS,
    MIN_DAYS_FOR_VERDICT,
    RESPONDER_RULE_TEXT,
    ItemStats,
    StepComparison,
    method_text,
)
from app.charts import (
    change_words,
    interval_bar,
    interval_reach,
    multi_item_chart,
    rolling_mean,
    side_effect_strip,
    trend_chart,
    whole_points,
)
from app.db import Database, DatabaseDep
from app.deps import WebUser
from app.items import RatedItem
from app.models import User
from app.services import insight, primary_item
from app.services.report import step_label
from app.web import form_numbers
from app.web.templating import render

router = APIRouter()
# The table under each chart: daily rows up to a month, weekly averages up to a year, then
# monthly. Eight tables of 90 daily rows made /trends heavy on phones (3,600 more elements,
# Lighthouse's blocking time doubled); the 30-day range and History keep every day.
WEEKLY_TABLE_AFTER_DAYS = 35
MONTHLY_TABLE_AFTER_DAYS = 366
# Drawn narrow so the chart's text stays legible when a phone scales it to 360 px.
PAGE_CHART_WIDTH = 420
# The combined chart and the weeks-on-LDN table: the three items of the doctor's summary.
COMBINED_KEYS = ("pain", "fatigue", "sleep_quality")


def points_change(value: float | None) -> str:
    """A change from baseline in whole points: '−17', '+3', '0'; '–' without one."""
    if value is None:
        return "–"
    whole = round(value)
    return f"+{whole}" if whole > 0 else f"−{-whole}" if whole < 0 else "0"


def _day_href(day: date) -> str:
    return f"/entries/{day.isoformat()}"


@dataclass(frozen=True)
class TableRow:
    label: str
    href: str | None
    value: str
    mean: str


def _table_rows(
    series: Sequence[tuple[date, int | None]],
    start: date,
    end: date,
    ordinals: NDArray[np.int64],
) -> tuple[str, list[TableRow]]:
    """Daily values (short ranges) or weekly means (long ranges), newest first.

    `series` is one item's (day, value) per diary day, `ordinals` those days' ordinals.
    """
    if (end - start).days < WEEKLY_TABLE_AFTER_DAYS:
        means = dict(rolling_mean(series, start=start, end=end))
        values = {day: value for day, value in series}
        rows = []
        for offset in range((end - start).days, -1, -1):
            day = start + timedelta(days=offset)
            value = values.get(day)
            mean = means.get(day)
            rows.append(
                TableRow(
                    label=f"{day:%a} {day.day} {day:%b}",
                    href=_day_href(day),
                    value="not recorded" if value is None else str(value),
                    mean="–" if mean is None else f"{mean:.0f}",
                )
            )
        return "Daily values", rows
    # None becomes NaN: a day without a value is left out of its period.
    scores = np.array([value for _, value in series], dtype=np.float64)
    answered = ~np.isnan(scores) & (ordinals >= start.toordinal())
    if (end - start).days < MONTHLY_TABLE_AFTER_DAYS:
        periods, caption = _weeks(start, end), "Weekly averages"
    else:
        periods, caption = _months(start, end), "Monthly averages"
    return caption, _period_rows(ordinals[answered], scores[answered], periods)


def _weeks(start: date, end: date) -> list[tuple[date, date]]:
    periods = []
    period_end = end
    while period_end >= start:
        period_start = max(start, period_end - timedelta(days=6))
        periods.append((period_start, period_end))
        period_end = period_start - timedelta(days=1)
    return periods


def _months(start: date, end: date) -> list[tuple[date, date]]:
    periods = []
    period_end = end
    while period_end >= start:
        period_start = max(start, period_end.replace(day=1))
        periods.append((period_start, period_end))
        period_end = period_start - timedelta(days=1)
    return periods


def _period_rows(
    ordinals: NDArray[np.int64], scores: NDArray[np.float64], periods: list[tuple[date, date]]
) -> list[TableRow]:
    """One row per period, newest first: how many days were rated and their average."""
    starts = sorted(period_start.toordinal() for period_start, _ in periods)
    position = {ordinal: index for index, ordinal in enumerate(starts)}
    # Years of days in one array pass: each day's period is the last start on or before it.
    index = np.searchsorted(np.asarray(starts, dtype=np.int64), ordinals, side="right") - 1
    inside = index >= 0
    counts = np.bincount(index[inside], minlength=len(starts)).tolist()
    sums = np.bincount(index[inside], weights=scores[inside], minlength=len(starts)).tolist()
    rows = []
    for period_start, period_end in periods:
        at = position[period_start.toordinal()]
        count = counts[at]
        length = (period_end - period_start).days + 1
        rows.append(
            TableRow(
                label=f"{period_start.day} {period_start:%b %Y} – {period_end.day} {period_end:%b}",
                href=None,
                value=f"{count} of {length} days",
                mean="–" if not count else f"{sums[at] / count:.0f}",
            )
        )
    return rows


@router.get("/trends", response_class=HTMLResponse)
def trends_page(
    request: Request,
    database: DatabaseDep,
    user: WebUser,
    range_key: Annotated[str | None, Query(alias="range")] = None,
) -> Response:
    if range_key not in insight.RANGES:
        # Open on the range that fits the diary: a six-week diary is not half an empty chart.
        with database.read() as session:
            range_key = insight.fitting_range(session, user=user)
    with database.read() as session:
        data = insight.trend_data(session, user=user, range_key=range_key)
        # The patient's own items among the doctor's summary three, in that order.
        tracked = {item.key: item for item in data.items}
        combined_items = [tracked[key] for key in COMBINED_KEYS if key in tracked]
        weeks = insight.weeks_since_first_dose(
            session, user=user, keys=[item.key for item in combined_items], data=data
        )
    # Each item's (day, value) pairs, built once for its chart, its table and the combined one.
    days = [record.day for record in data.days]
    ordinals = np.fromiter((day.toordinal() for day in days), dtype=np.int64, count=len(days))
    series_of = {
        item.key: list(
            zip(days, [record.values.get(item.key) for record in data.days], strict=True)
        )
        for item in data.items
    }
    combined = multi_item_chart(
        items=combined_items,
        series={item.key: series_of[item.key] for item in combined_items},
        bands=data.bands,
        start=data.start,
        end=data.end,
        width=PAGE_CHART_WIDTH,
        height=260,
        chart_id="trend-combined",
    )
    charts = []
    for item in data.items:
        series = series_of[item.key]
        caption, rows = _table_rows(series, data.start, data.end, ordinals)
        charts.append(
            {
                "item": item,
                "svg": trend_chart(
                    item=item,
                    days=series,
                    bands=data.bands,
                    start=data.start,
                    end=data.end,
                    day_href=_day_href,
                    chart_id=f"trend-{item.key}",
                    width=PAGE_CHART_WIDTH,
                    height=240,
                ),
                "table_caption": caption,
                "rows": rows,
            }
        )
    strip = side_effect_strip(
        days=[(record.day, record.side_effects) for record in data.days],
        start=data.start,
        end=data.end,
        day_href=_day_href,
        chart_id="side-effects",
        width=PAGE_CHART_WIDTH,
        effects=data.side_effects,
    )
    return render(
        request,
        "insight/trends.html",
        {
            "range_key": range_key,
            "ranges": insight.RANGE_LABELS,
            "start": data.start,
            "end": data.end,
            "charts": charts,
            "combined": combined,
            "combined_items": combined_items,
            "weeks": weeks,
            "points_change": points_change,
            "strip": strip,
            "logged": sum(1 for record in data.days if record.day >= data.start),
        },
        block="charts",
    )


@dataclass(frozen=True)
class ItemLine:
    """One item of one step, in the words of the compare page."""

    item: RatedItem
    stats: ItemStats
    summary: str
    change: str
    caution: str | None
    judgement: str
    # CSS hook: the verdict, or "small" for a clear change under 10% (not coloured as news).
    tone: str
    interval: str | None
    bar: Markup | None


def _size(value: float, unit: str) -> str:
    """A change in whole percent or points, cut toward zero like every number on the page."""
    whole = abs(whole_points(value))
    if whole == 0:
        return f"under 1{unit}" if unit == "%" else "under 1 point"
    if unit == "%":
        return f"{whole}%"
    return f"{whole} point{'' if whole == 1 else 's'}"


def _change_words(item: RatedItem, stats: ItemStats) -> str:
    """How far the step moved from baseline and which way: "14% worse", "3% higher"."""
    pct = stats.pct_change_vs_baseline if item.better == "neither" else stats.improvement_pct
    diff = stats.diff_vs_baseline
    if pct is None:
        # No percentage (a baseline mean of 0): say it in points instead.
        if diff is None:
            return ""
        if diff == 0:
            return "no change"
        size = _size(diff, " points")
        if item.better == "neither":
            return f"{size} {'higher' if diff > 0 else 'lower'}"
        return f"{size} {'better' if (diff > 0) == (item.better == 'higher') else 'worse'}"
    if pct == 0:
        return "no change"
    if item.better == "neither":
        return f"{_size(pct, '%')} {'higher' if pct > 0 else 'lower'}"
    return f"{_size(pct, '%')} {'better' if pct > 0 else 'worse'}"


def _judgement(stats: ItemStats, baseline: ItemStats | None) -> str:
    """The band and the verdict in one phrase that never contradicts the change words.

    The change words already say which way ("14.2% worse"), so this says only how sure and,
    for an improvement, how big; a clear change under 10% (or under 5 points) is called what
    it is. A band is only said when the change is clear.
    """
    if stats.verdict == "not enough data":
        more = insight.more_days_words(stats)
        if stats.n < MIN_DAYS_FOR_VERDICT:
            said = f"not enough data yet — {stats.n} of {MIN_DAYS_FOR_VERDICT} days"
        elif baseline is not None and baseline.n < MIN_DAYS_FOR_VERDICT:
            return f"not enough baseline data — {baseline.n} of {MIN_DAYS_FOR_VERDICT} days"
        elif stats.drifts:
            said = (
                "not enough data — the ratings drift slowly up and down, so more days on "
                "this dose may not settle it"
            )
        else:
            said = "not enough data yet — the days so far vary too much to tell"
        return f"{said}; {more}" if more else said
    if stats.verdict in ("no clear change", "no baseline", "baseline", "reference"):
        return stats.verdict
    # Improved, worse, higher or lower: the interval leaves out no change.
    if stats.band == "no meaningful change":
        return "a small but clear change — no meaningful change"
    if stats.band in ("minimal", "moderate", "substantial"):
        return f"a clear, {stats.band} improvement"
    return "a clear change"


def _interval_words(stats: ItemStats) -> str | None:
    """The difference and its 95% interval in points, as the bar draws them."""
    if stats.diff_vs_baseline is None or stats.diff_ci95 is None:
        return None
    return change_words(stats.diff_vs_baseline, *stats.diff_ci95)


def _item_line(
    item: RatedItem,
    stats: ItemStats,
    baseline: ItemStats | None,
    *,
    is_baseline: bool,
    reference_name: str = "baseline",
) -> ItemLine:
    summary = (
        f"{item.label} {stats.mean:.0f}" if stats.mean is not None else f"{item.label} not rated"
    )
    if not is_baseline and baseline is not None and baseline.mean is not None:
        summary += f" (was {baseline.mean:.0f} at {reference_name})"
    clear = stats.verdict in ("improved", "worse", "higher", "lower")
    return ItemLine(
        item=item,
        stats=stats,
        summary=summary,
        # A percentage beside "no clear change" reads as a contradiction: only when clear.
        change=_change_words(item, stats) if clear else "",
        caution=insight.caution_words(item.key, stats, labels={item.key: item.label}),
        judgement=_judgement(stats, baseline),
        tone="small"
        if stats.band == "no meaningful change" and stats.verdict in ("improved", "worse")
        else stats.verdict.replace(" ", "-"),
        interval=_interval_words(stats),
        bar=None,
    )


def _with_bars(lines: list[ItemLine]) -> list[ItemLine]:
    """Draw every interval of one step on one scale, so the bars' lengths compare."""
    ends = [end for line in lines if line.stats.diff_ci95 for end in line.stats.diff_ci95]
    reach = interval_reach(ends)
    drawn = []
    for line in lines:
        stats = line.stats
        bar = None
        if stats.diff_vs_baseline is not None and stats.diff_ci95 is not None:
            low, high = stats.diff_ci95
            bar = interval_bar(
                diff=stats.diff_vs_baseline, low=low, high=high, item=line.item, reach=reach
            )
        drawn.append(replace(line, bar=bar))
    return drawn


def _responder_words(step: StepComparison, baseline: StepComparison | None) -> str:
    """Yes, no, or why the responder rule could not be applied to this step."""
    if step.responder is not None:
        return "yes" if step.responder else "no"
    if step.is_baseline:
        return "not judged — this is the baseline the doses are compared with"
    if baseline is None:
        return "not judged — there is no baseline to compare with"
    pain, base_pain = step.items.get("pain"), baseline.items.get("pain")
    if pain is None or base_pain is None:
        return "not judged — pain is not rated"
    if pain.n < MIN_DAYS_FOR_VERDICT:
        return (
            f"not judged yet — not enough data: pain rated on {pain.n} of the "
            f"{MIN_DAYS_FOR_VERDICT} days needed in this step"
        )
    if base_pain.n < MIN_DAYS_FOR_VERDICT:
        return (
            f"not judged yet — not enough data: pain rated on {base_pain.n} of the "
            f"{MIN_DAYS_FOR_VERDICT} days needed in the baseline"
        )
    if pain.verdict == "not enough data":
        return "not judged yet — not enough data"
    if pain.improvement_pct is None:
        return "not judged — baseline pain was 0, so there is no percentage to compare"
    unjudged = [
        insight.item_label(key).lower()
        for key in ("fatigue", "sleep_quality")
        if key not in step.items or step.items[key].verdict == "not enough data"
    ]
    which = " and ".join(unjudged) or "fatigue or sleep"
    verb = "have" if len(unjudged) == 2 else "has"
    return (
        f"not judged yet — not enough data: pain is clearly 30% and 10 points or more better, "
        f"but {which} {verb} fewer than {MIN_DAYS_FOR_VERDICT} rated days in this step or the "
        "baseline"
    )


def _main_item_page(
    request: Request,
    database: Database,
    user: User,
    *,
    error: str | None = None,
    asked: str | None = None,
    status_code: int = 200,
) -> Response:
    with database.read() as session:
        choices = primary_item.primary_choices(session, user=user)
        current = primary_item.primary_item_of(session, user=user)
    labels = {item.key: item.label for item in choices}
    return render(
        request,
        "insight/main_item.html",
        {
            "choices": choices,
            "selected": asked if asked in labels else current,
            "current_label": labels.get(current, insight.item_label(current)),
            "chosen": user.primary_item is not None,
            "saved": request.query_params.get("saved") == "1",
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/compare/main-item", response_class=HTMLResponse)
def main_item_page(request: Request, database: DatabaseDep, user: WebUser) -> Response:
    """Choose the item the summaries lead with (SPEC §4.1), best before looking."""
    return _main_item_page(request, database, user)


@router.post("/compare/main-item", response_class=HTMLResponse)
def save_main_item(
    request: Request,
    database: DatabaseDep,
    user: WebUser,
    key: Annotated[str, Form(alias="primary_item", max_length=64)] = "",
) -> Response:
    try:
        with database.write() as session:
            primary_item.save_primary_item(session, user=user, key=key)
    except primary_item.PrimaryItemRefused as problem:
        return _main_item_page(
            request, database, user, error=str(problem), asked=key, status_code=422
        )
    return RedirectResponse("/compare/main-item?saved=1", status_code=303)


@router.get("/compare", response_class=HTMLResponse)
def compare_page(
    request: Request,
    database: DatabaseDep,
    user: WebUser,
    settle: Annotated[str, Query(alias="settle_days")] = str(DEFAULT_SETTLE_DAYS),
    reference_text: Annotated[str, Query(alias="reference")] = "",
) -> Response:
    typed = form_numbers.count(settle)
    settle_days = DEFAULT_SETTLE_DAYS if typed is None else min(typed, 14)
    reference = form_numbers.count(reference_text)
    with database.read() as session:
        try:
            result, compared, _ = insight.compared_items(
                session, user=user, settle_days=settle_days, reference=reference
            )
        except insight.UnknownReference:
            # A stale or foreign step id in the address: compare with the baseline instead.
            reference = None
            result, compared, _ = insight.compared_items(
                session, user=user, settle_days=settle_days
            )
    against = result.reference
    baseline = result.baseline
    against_baseline = against is not None and against.is_baseline
    reference_name = (
        "baseline" if against is None or against_baseline else step_label(against, short=True)
    )
    current = insight.current_step(result)
    # The patient's own items by their own words in the sentences, not rebuilt from the key.
    labels = {item.key: item.label for item in compared}
    sections = []
    # The current dose first, then back in time: what the patient came to see leads.
    for step in reversed(result.steps):
        lines = [
            _item_line(
                item,
                step.items[item.key],
                against.items[item.key] if against else None,
                is_baseline=step.is_reference,
                reference_name=reference_name,
            )
            for item in compared
            if item.key in step.items
        ]
        sections.append(
            {
                "step": step,
                "label": step_label(step),
                "is_current": step is current,
                "summary": None
                if step.is_reference or against is None
                else insight.step_summary(
                    step,
                    label=step_label(step, short=True),
                    against=None if against_baseline else reference_name,
                    labels=labels,
                ),
                "cautions": [
                    line.caution
                    for line in lines
                    if line.caution and line.item.key in step.headline
                ],
                "lines": _with_bars(lines),
                "responder": _responder_words(step, baseline) if against_baseline else None,
            }
        )
    lead = None
    if current is not None and against is not None:
        primary = result.primary_item or "pain"
        stats = current.items.get(primary)
        lead = {
            "summary": insight.step_summary(
                current,
                label=step_label(current, short=True),
                against=None if against_baseline else reference_name,
                labels=labels,
            ),
            "cautions": [
                words
                for key in current.headline
                if (words := insight.caution_words(key, current.items[key], labels=labels))
            ],
            "detect": None
            if stats is None
            else insight.detect_words(primary, stats, labels=labels),
            "responder": _responder_words(current, baseline) if against_baseline else None,
        }
    return render(
        request,
        "insight/compare.html",
        {
            "sections": sections,
            "lead": lead,
            "has_baseline": baseline is not None,
            "against_baseline": against_baseline,
            "reference_name": reference_name,
            "reference": reference,
            "step_choices": [(step.step_id, step_label(step)) for step in result.steps],
            "comparisons": current.comparisons if current else 0,
            "settle_days": settle_days,
            "method": method_text(settle_days),
            "responder_rule": RESPONDER_RULE_TEXT,
            "primary_label": next(
                (item.label for item in compared if item.key == result.primary_item),
                insight.item_label(result.primary_item or "pain"),
            ),
        },
        block="comparison",
    )
