"""/trends (charts of every item over a range) and /compare (each dose step against baseline)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from app.analysis import (
    DEFAULT_SETTLE_DAYS,
    MIN_DAYS_FOR_VERDICT,
    RESPONDER_RULE_TEXT,
    DayRecord,
    ItemStats,
    method_text,
)
from app.charts import interval_bar, rolling_mean, side_effect_strip, trend_chart
from app.db import SessionDep
from app.deps import WebUser
from app.items import RATED_ITEMS, RatedItem
from app.services import insight
from app.services.report import step_label
from app.web.templating import render

router = APIRouter()
WEEKLY_TABLE_AFTER_DAYS = 92
MONTHLY_TABLE_AFTER_DAYS = 366
# Drawn narrow so the chart's text stays legible when a phone scales it to 360 px.
PAGE_CHART_WIDTH = 420


def _day_href(day: date) -> str:
    return f"/entries/{day.isoformat()}"


@dataclass(frozen=True)
class TableRow:
    label: str
    href: str | None
    value: str
    mean: str


def _table_rows(
    item: RatedItem, days: Sequence[DayRecord], start: date, end: date
) -> tuple[str, list[TableRow]]:
    """Daily values (short ranges) or weekly means (long ranges), newest first."""
    series = [(record.day, record.values.get(item.key)) for record in days]
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
    by_day = {day: value for day, value in series if value is not None and day >= start}
    if (end - start).days < MONTHLY_TABLE_AFTER_DAYS:
        return "Weekly averages", _period_rows(by_day, _weeks(start, end))
    return "Monthly averages", _period_rows(by_day, _months(start, end))


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


def _period_rows(by_day: dict[date, int], periods: list[tuple[date, date]]) -> list[TableRow]:
    """One row per period, newest first: how many days were rated and their average."""
    totals: dict[date, list[int]] = {period_start: [] for period_start, _ in periods}
    starts = sorted(totals)
    for day, value in by_day.items():
        index = bisect_right(starts, day) - 1
        if index >= 0:
            totals[starts[index]].append(value)
    rows = []
    for period_start, period_end in periods:
        values = totals[period_start]
        length = (period_end - period_start).days + 1
        rows.append(
            TableRow(
                label=f"{period_start.day} {period_start:%b %Y} – {period_end.day} {period_end:%b}",
                href=None,
                value=f"{len(values)} of {length} days",
                mean="–" if not values else f"{sum(values) / len(values):.0f}",
            )
        )
    return rows


@router.get("/trends", response_class=HTMLResponse)
def trends_page(
    request: Request,
    session: SessionDep,
    user: WebUser,
    range_key: Annotated[str, Query(alias="range")] = "90",
) -> Response:
    if range_key not in insight.RANGES:
        range_key = "90"
    data = insight.trend_data(session, user=user, range_key=range_key)
    charts = []
    for item in RATED_ITEMS:
        series = [(record.day, record.values.get(item.key)) for record in data.days]
        caption, rows = _table_rows(item, data.days, data.start, data.end)
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
    baseline_mean: float | None
    summary: str
    change: str
    bar: Markup | None
    enough_data: str | None


def _pct(value: float) -> str:
    """A percentage as the analysis judged it (one decimal), without a trailing .0."""
    return f"{abs(value):.1f}".removesuffix(".0") + "%"


def _change_words(item: RatedItem, stats: ItemStats) -> str:
    if item.better == "neither":
        pct = stats.pct_change_vs_baseline
        if pct is None:
            return ""
        return f"{_pct(pct)} {'higher' if pct > 0 else 'lower'}" if round(pct, 1) else "no change"
    improvement = stats.improvement_pct
    if improvement is None:
        return ""
    if round(improvement, 1) == 0:
        return "no change"
    return f"{_pct(improvement)} {'better' if improvement > 0 else 'worse'}"


def _item_line(item: RatedItem, stats: ItemStats, baseline: ItemStats | None) -> ItemLine:
    baseline_mean = baseline.mean if baseline else None
    summary = f"{item.label} {stats.mean:.0f}" if stats.mean is not None else f"{item.label} –"
    if baseline_mean is not None:
        summary += f" (was {baseline_mean:.0f} at baseline)"
    enough = None
    if stats.verdict == "not enough data":
        if stats.n < MIN_DAYS_FOR_VERDICT:
            enough = f"not enough data yet — {stats.n} of {MIN_DAYS_FOR_VERDICT} days"
        elif baseline is not None:
            enough = f"not enough baseline data — {baseline.n} of {MIN_DAYS_FOR_VERDICT} days"
    bar = None
    if stats.diff_vs_baseline is not None and stats.diff_ci95 is not None:
        low, high = stats.diff_ci95
        bar = interval_bar(diff=stats.diff_vs_baseline, low=low, high=high, item=item)
    return ItemLine(item, stats, baseline_mean, summary, _change_words(item, stats), bar, enough)


@router.get("/compare", response_class=HTMLResponse)
def compare_page(
    request: Request,
    session: SessionDep,
    user: WebUser,
    settle: Annotated[str, Query(alias="settle_days")] = str(DEFAULT_SETTLE_DAYS),
) -> Response:
    settle_days = int(settle) if settle.isdigit() else DEFAULT_SETTLE_DAYS
    settle_days = min(settle_days, 14)
    result = insight.comparison_for(session, user=user, settle_days=settle_days)
    baseline = next((step for step in result.steps if step.is_baseline), None)
    sections = []
    for step in result.steps:
        lines = [
            _item_line(item, step.items[item.key], baseline.items[item.key] if baseline else None)
            for item in RATED_ITEMS
        ]
        sections.append({"step": step, "label": step_label(step), "lines": lines})
    return render(
        request,
        "insight/compare.html",
        {
            "sections": sections,
            "has_baseline": baseline is not None,
            "settle_days": settle_days,
            "method": method_text(settle_days),
            "responder_rule": RESPONDER_RULE_TEXT,
        },
        block="comparison",
    )
