"""SVG charts drawn on the server from plain numbers (SPEC §5 trends, §6 doctor summary).

The same markup goes into the web pages and into the WeasyPrint PDF, so it keeps to plain
SVG 1.1 drawing: presentation attributes (``fill=``, ``stroke=``, ``font-size=``) and
``class=`` hooks for the page CSS, never ``style=`` (the Content-Security-Policy forbids inline
styles), no ``<script>``, no ``<foreignObject>``, no fonts or images from elsewhere. The only
links are the optional per-day ``<a href>`` (SVG 2 ``href``, understood by every current
browser; the PDF is drawn without them). They carry ``tabindex="-1"``: a range holds up to
hundreds of them, too many tab stops, and the page's data table under each chart gives
keyboard users the same days as ordinary links; pointer and screen-reader users keep them.

Why write the SVG by hand rather than use a chart library: no maintained Python library
produces small, accessible, static SVG with per-day links, dose bands and print-crisp output
without JavaScript and without inline styles. matplotlib's SVG is large (every glyph a path),
styled through ``style=`` attributes and has no title, description or link structure for
screen readers; pygal and the Plotly/Bokeh/Altair family need JavaScript or emit inline
styles. The charts here are a few rectangles, circles and paths, so the code stays short.
Every piece of text passes through ``xml.sax.saxutils.escape`` (element text) or
``html.escape(..., quote=True)`` (attribute values); numbers are rounded to one decimal to keep
a five-year chart well under 150 KB.

Accessibility: each chart has ``<title>`` and ``<desc>`` (what, which range, how many days,
latest value, mean) referenced by ``aria-labelledby``; decoration is ``aria-hidden``; each
per-day link carries an ``aria-label`` such as "12 Mar: pain 45". Colours come from the
Okabe–Ito palette, and every distinction that colour makes is also made by shape, dash or
lightness, so the charts read in black and white. The page shows the same numbers as a table.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property, lru_cache
from itertools import pairwise
from xml.sax.saxutils import escape

import numpy as np
from markupsafe import Markup
from numpy.typing import NDArray

from app.items import SEVERITY_LABELS, SIDE_EFFECTS, RatedItem, SideEffect

__all__ = [
    "DoseBand",
    "interval_bar",
    "interval_reach",
    "multi_item_chart",
    "rolling_mean",
    "side_effect_strip",
    "trend_chart",
]


@dataclass(frozen=True)
class DoseBand:
    """A dose step drawn behind the data, from ``start`` to ``end`` inclusive."""

    start: date
    end: date
    label: str  # e.g. "Baseline", "1.5 mg"
    is_baseline: bool


# --- look ---------------------------------------------------------------------------------

# Okabe–Ito: blue, vermillion, bluish green, reddish purple, orange, black.
BLUE = "#0072B2"
SKY = "#56B4E9"
VERMILLION = "#D55E00"
GREEN = "#009E73"
PURPLE = "#CC79A7"
ORANGE = "#E69F00"
BLACK = "#000000"

INK = "#222222"  # text: 16:1 on white
SOFT_INK = "#555555"  # secondary text: 7.5:1 on white
GRID = "#D4D4D4"
AXIS = "#767676"
BAND_FILLS = ("#E8F1F8", "#F5F5F5")  # alternating dose steps, both lighter than the data
BASELINE_HATCH = "#C8C8C8"

# Side-effect severities none → severe: one hue, falling lightness, so it prints in grey too.
SEVERITY_FILLS = ("#E6E6E6", "#FDBE85", "#E6550D", "#7F2704")

# How the items of the doctor's chart tell themselves apart without colour.
_MULTI_STYLES: tuple[tuple[str, str, str], ...] = (
    # colour, stroke-dasharray ("" = solid), marker shape
    (BLUE, "", "circle"),
    (VERMILLION, "7 3", "square"),
    (GREEN, "2 2.5", "triangle"),
    (PURPLE, "9 3 2 3", "diamond"),
    (ORANGE, "4 4", "circle"),
    (BLACK, "1 3", "square"),
)

FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
FONT_SIZE = 11
SMALL = 10
# Character widths in ems, rounded up from DejaVu Sans (wider than Arial or Helvetica), so
# that a label judged to fit does fit whichever of these fonts draws it.
_NARROW = frozenset("'ijlIJ ,./:;\\|f-()[]t!r·")
_WIDE = frozenset("mwMW%@#")

HIT_RECT_MAX_DAYS = 90  # up to here every day is a full-height link
LINKED_POINTS_MAX_DAYS = 400  # up to here each point is a link; beyond, points are too small
DAILY_STRIP_MAX_DAYS = 400  # beyond this the side-effect strip shows one cell per week

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CHART_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")

DayValues = Sequence[tuple[date, int | None]]


# --- public functions ---------------------------------------------------------------------


def rolling_mean(
    days: DayValues,
    *,
    window: int = 7,
    min_values: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[tuple[date, float | None]]:
    """Trailing mean over ``window`` calendar days, for every day from start to end.

    The mean on a day covers that day and the ``window - 1`` days before it; it is None when
    fewer than ``min_values`` of them have a value (default: more than half the window, so 4 of
    7). Days before ``start`` count, so pass six earlier days to start the line at the edge.
    """
    if window < 1:
        raise ValueError("window must be at least 1")
    needed = window // 2 + 1 if min_values is None else min_values
    if needed < 1 or needed > window:
        raise ValueError("min_values must be between 1 and window")
    dated = [day for day, _ in days]
    if start is None:
        if not dated:
            return []
        start = min(dated)
    if end is None:
        if not dated:
            return []
        end = max(dated)
    if end < start:
        return []
    means = _rolling_means(days, start, end, window, needed).tolist()
    return list(zip(_each_day(start, end), [None if m != m else m for m in means], strict=True))


def _rolling_means(
    days: DayValues, start: date, end: date, window: int = 7, needed: int = 4
) -> NDArray[np.float64]:
    """rolling_mean's values as an array over start..end, NaN where it has none.

    Whole-number scores summed in floating point are exact, so windowed sums taken as
    differences of one cumulative sum equal a sum day by day.
    """
    n_days = (end - start).days + 1
    origin = start.toordinal() - (window - 1)
    length = n_days + window - 1
    values = {day: value for day, value in days if value is not None}  # a later duplicate wins
    index = np.fromiter((day.toordinal() for day in values), dtype=np.int64, count=len(values))
    scores = np.fromiter(values.values(), dtype=np.float64, count=len(values))
    index -= origin
    inside = (index >= 0) & (index < length)
    totals = np.zeros(length + 1)
    counts = np.zeros(length + 1)
    totals[index[inside] + 1] = scores[inside]
    counts[index[inside] + 1] = 1.0
    np.cumsum(totals, out=totals)
    np.cumsum(counts, out=counts)
    total = totals[window:] - totals[:-window]
    count = counts[window:] - counts[:-window]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count >= needed, total / count, np.nan)


def trend_chart(
    *,
    item: RatedItem,
    days: DayValues,
    bands: Sequence[DoseBand],
    start: date,
    end: date,
    day_href: Callable[[date], str] | None = None,
    width: int = 640,
    height: int = 220,
    chart_id: str,
) -> Markup:
    """One rated item: daily points, 7-day mean line, dose bands, 0–100 axis with polarity."""
    _check(start, end, chart_id)
    name = item.label.lower()
    legend_y = 12
    frame = _Frame(width, height, start, end, left=46, right=10, top=34, bottom=22)
    values = _values_in_range(days, start, end)
    means = _rolling_means(days, start, end)
    n_days = frame.n_days
    with_year = start.year != end.year

    title = f"{item.label}, {_long(start)} to {_long(end)}"
    summary = _series_summary(item, values, n_days)
    desc = " ".join(filter(None, [summary, _bands_summary(bands, start, end)]))
    linked = day_href is not None and (
        n_days <= HIT_RECT_MAX_DAYS or (n_days <= LINKED_POINTS_MAX_DAYS and bool(values))
    )

    out = _open_svg(width, height, chart_id, "chart chart-trend", title, desc, linked)
    out += _bands_svg(frame, bands, chart_id, label_y=frame.top - 4)
    # Only the polarity: the heading above names the item, and longer text did not fit the
    # axis of a 360 px phone.
    out += _y_axis_svg(frame, axis_label=item.polarity_text)
    out += _x_axis_svg(frame)

    # Top row: the anchors of the scale on the left, the legend on the right.
    radius = _point_radius(n_days)
    mean_x = frame.right_x - _text_w("7-day mean", FONT_SIZE) - 22
    point_x = mean_x - 14 - _text_w("daily value", FONT_SIZE) - 12
    out += [
        f'<g class="legend" aria-hidden="true" fill="{INK}">',
        *_points_group(radius, "key"),
        _point_svg(point_x + 4, legend_y - 4, max(radius, 2.2), "pt-key"),
        "</g>",
        f'<text x="{_f(point_x + 12)}" y="{legend_y}">daily value</text>',
        f'<path d="M{_f(mean_x)} {legend_y - 4}h16" stroke="{VERMILLION}" '
        f'stroke-width="{_f(_mean_width(n_days))}" fill="none"/>',
        f'<text x="{_f(mean_x + 20)}" y="{legend_y}">7-day mean</text>',
        "</g>",
    ]
    anchors = f"0 = {item.low_anchor} · 100 = {item.high_anchor}"
    if frame.left + _text_w(anchors, SMALL) < point_x - 12:
        out.append(
            f'<text class="anchors" aria-hidden="true" x="{frame.left}" y="{legend_y}" '
            f'font-size="{SMALL}" fill="{SOFT_INK}">{escape(anchors)}</text>'
        )

    if not values:
        out.append(_empty_svg(frame, "Not rated in this range"))
    else:
        out += _points_svg(frame, values, name, radius, day_href, with_year)
        out.append(_mean_path_svg(frame, means, VERMILLION, "", "mean", _mean_width(n_days)))
    out.append("</svg>")
    return _finish(out)


def multi_item_chart(
    *,
    items: Sequence[RatedItem],
    series: Mapping[str, DayValues],
    bands: Sequence[DoseBand],
    start: date,
    end: date,
    width: int = 640,
    height: int = 260,
    chart_id: str,
    daily_points: bool | None = None,
) -> Markup:
    """Several items (pain, fatigue, sleep) on one 0–100 chart for the doctor's summary.

    Each item has its own colour, dash pattern and marker shape, so the chart reads in black
    and white; the legend gives each item's direction ("higher is worse"). `daily_points`:
    draw each day's value too (None: only while the range is short enough to tell them apart).
    """
    _check(start, end, chart_id)
    styles = [_MULTI_STYLES[i % len(_MULTI_STYLES)] for i in range(len(items))]

    # Lay the legend out first: it may need more than one row.
    probe = _Frame(width, height, start, end, left=46, right=10, top=0, bottom=22)
    entries: list[tuple[RatedItem, tuple[str, str, str], float, int]] = []
    x, row = float(probe.left), 0
    for item, style in zip(items, styles, strict=True):
        text = f"{item.label} ({item.polarity_text})"
        entry_w = 30 + _text_w(text, FONT_SIZE) + 14
        if x + entry_w > probe.right_x and x > probe.left:
            x, row = float(probe.left), row + 1
        entries.append((item, style, x, row))
        x += entry_w
    rows = (max(r for *_, r in entries) + 1) if entries else 1
    top = 16 * rows + 20
    frame = _Frame(width, height, start, end, left=46, right=10, top=top, bottom=22)
    n_days = frame.n_days

    per_item = {item.key: _values_in_range(series.get(item.key, ()), start, end) for item in items}
    names = ", ".join(item.label.lower() for item in items)
    title = f"{names[:1].upper()}{names[1:]}, {_long(start)} to {_long(end)}"
    summaries = [_series_summary(item, per_item[item.key], n_days) for item in items]
    desc = " ".join(filter(None, [*summaries, _bands_summary(bands, start, end)]))

    out = _open_svg(width, height, chart_id, "chart chart-multi", title, desc, linked=False)
    out += _bands_svg(frame, bands, chart_id, label_y=frame.top - 4)
    out += _y_axis_svg(frame, axis_label="score 0–100, see key")
    out += _x_axis_svg(frame)

    out.append(f'<g class="legend" aria-hidden="true" fill="{INK}">')
    for item, (colour, dash, shape), lx, lrow in entries:
        ly = 12 + 16 * lrow
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<path d="M{_f(lx)} {ly - 4}h24" stroke="{colour}" stroke-width="2" '
            f'fill="none"{dash_attr}/>'
        )
        out.append(_marker_svg(shape, lx + 12, ly - 4, 3.2, colour))
        out.append(
            f'<text x="{_f(lx + 30)}" y="{ly}">'
            f"{escape(item.label)} ({escape(item.polarity_text)})</text>"
        )
    out.append("</g>")

    if not any(per_item.values()):
        out.append(_empty_svg(frame))
        out.append("</svg>")
        return _finish(out)

    # Daily values as small open markers while they can be told apart; the mean lines always,
    # with a few markers on them so a grey print still says which line is which.
    show_daily = n_days <= 120 if daily_points is None else daily_points
    for index, (item, (colour, dash, shape)) in enumerate(zip(items, styles, strict=True)):
        values = per_item[item.key]
        means = _rolling_means(series.get(item.key, ()), start, end)
        key = _class_token(item.key)
        if show_daily:
            out.append(
                f'<g class="pts pts-{key}" fill="#FFFFFF" stroke="{colour}" stroke-width="1">'
            )
            out += [
                _marker_svg(shape, frame.x_mid(day), frame.y(value), 2.2, None, "pt")
                for day, value in values.items()
            ]
            out.append("</g>")
        out.append(_mean_path_svg(frame, means, colour, dash, f"mean mean-{key}", 2))
        step = max(3, n_days // 9)
        offset = (index * step) // max(1, len(items))
        marks = [
            _marker_svg(
                shape, frame.x_mid(start + timedelta(days=i)), frame.y(mean), 3.4, None, "mark"
            )
            for i in range(offset, n_days, step)
            if (mean := float(means[i])) == mean  # NaN: no mean that day
        ]
        out.append(
            f'<g class="marks" aria-hidden="true" fill="{colour}" stroke="#FFFFFF" '
            f'stroke-width="1">{"".join(marks)}</g>'
        )
    out.append("</svg>")
    return _finish(out)


def side_effect_strip(
    *,
    days: Sequence[tuple[date, Mapping[str, int | None]]],
    start: date,
    end: date,
    day_href: Callable[[date], str] | None = None,
    width: int = 640,
    chart_id: str,
    effects: Sequence[SideEffect] = SIDE_EFFECTS,
) -> Markup:
    """One row per side effect, one cell per day shaded by severity 0–3 (a week, if long)."""
    _check(start, end, chart_id)
    row_h, gap, label_w = 14, 3, 118
    bin_days = 1 if (end - start).days + 1 <= DAILY_STRIP_MAX_DAYS else 7
    legend, legend_lines = _strip_legend(width, weekly=bin_days == 7)
    top, bottom = 10 + 16 * legend_lines, 22
    height = top + len(effects) * (row_h + gap) - gap + bottom
    frame = _Frame(width, height, start, end, left=label_w, right=10, top=top, bottom=bottom)
    n_days = frame.n_days
    with_year = start.year != end.year

    by_day: dict[date, Mapping[str, int | None]] = {
        day: answers for day, answers in days if start <= day <= end
    }

    title = f"Side effects, {_long(start)} to {_long(end)}"
    desc_parts = [
        "Severity of each side effect per "
        + ("day" if bin_days == 1 else "week (the worst day of the week)")
        + ", shaded from none to severe; blank where not answered."
    ]
    # Each side effect's severity per day of the range, None where not answered.
    answers_by_index = [by_day.get(day) for day in _each_day(start, end)]
    rows = [[_answered(answers, effect.key) for answers in answers_by_index] for effect in effects]
    for effect, day_severities in zip(effects, rows, strict=True):
        severities = [s for s in day_severities if s is not None]
        reported = [s for s in severities if s > 0]
        if not severities:
            desc_parts.append(f"{effect.label}: not answered.")
        elif not reported:
            desc_parts.append(f"{effect.label}: none on {day_count(len(severities))} answered.")
        else:
            worst = SEVERITY_LABELS[max(reported)]
            desc_parts.append(
                f"{effect.label}: on {len(reported)} of {day_count(len(severities))} answered, "
                f"worst {worst}."
            )
    if not by_day:
        desc_parts.insert(0, "No entries in this range.")
    linked = day_href is not None and n_days <= HIT_RECT_MAX_DAYS
    out = _open_svg(
        width, height, chart_id, "chart chart-strip", title, " ".join(desc_parts), linked
    )

    out.append(legend)

    # Row labels and backgrounds.
    out.append(f'<g class="rows" aria-hidden="true" fill="{INK}" text-anchor="end">')
    for row, effect in enumerate(effects):
        y = top + row * (row_h + gap)
        out.append(
            f'<text x="{frame.left - 6}" y="{_f(y + row_h - 3)}">{escape(effect.label)}</text>'
        )
    out.append("</g>")
    out.append(
        f'<g class="row-bg" aria-hidden="true" fill="#FFFFFF" stroke="{GRID}" stroke-width="1">'
    )
    for row in range(len(effects)):
        y = top + row * (row_h + gap)
        out.append(f'<rect x="{frame.left}" y="{y}" width="{_f(frame.plot_w)}" height="{row_h}"/>')
    out.append("</g>")

    # Cells, grouped by severity so each rectangle carries only its geometry.
    cells: list[list[str]] = [[] for _ in SEVERITY_FILLS]
    inset = 0.4 if frame.day_w >= 4 else 0.0  # a hairline between days while they are wide
    for row, day_severities in enumerate(rows):
        y = top + row * (row_h + gap)
        for first, after, severity in _severity_runs(day_severities, bin_days):
            x0 = frame.left + first * frame.day_w + inset
            x1 = frame.left + after * frame.day_w - inset
            cells[severity].append(
                f'<rect x="{_f(x0)}" y="{y}" width="{_f(max(x1 - x0, 0.3))}" height="{row_h}"/>'
            )
    for severity, rects in enumerate(cells):
        if rects:
            out.append(
                f'<g class="sev sev-{severity}" fill="{SEVERITY_FILLS[severity]}">'
                + "".join(rects)
                + "</g>"
            )

    out += _x_axis_svg(frame, baseline_y=frame.bottom_y + 2)
    if not by_day:
        out.append(_empty_svg(frame))

    if day_href is not None and linked:
        out.append('<g class="hits" fill="#000000" fill-opacity="0">')
        for day in _each_day(start, end):
            answers = by_day.get(day)
            if answers is None:
                said = "no entry"
            else:
                reported_words = [
                    f"{effect.label} {SEVERITY_LABELS[level]}"
                    for effect in effects
                    if (level := _answered(answers, effect.key))
                ]
                answered_any = any(answers.get(effect.key) is not None for effect in effects)
                said = (
                    ", ".join(reported_words)
                    if reported_words
                    else ("no side effects" if answered_any else "not answered")
                )
            out.append(
                f'<a href="{_attr(day_href(day))}" tabindex="-1" '
                f'aria-label="{_attr(_short(day, with_year))}: {_attr(said)}">'
                f'<rect class="hit" x="{_f(frame.x_edge(day))}" y="{top}" '
                f'width="{_f(frame.day_w)}" height="{_f(frame.plot_h)}"/></a>'
            )
        out.append("</g>")
    out.append("</svg>")
    return _finish(out)


# --- geometry -------------------------------------------------------------------------------


class _Frame:
    """Maps dates and 0–100 scores to the plot area, one equal slot per calendar day."""

    def __init__(
        self,
        width: int,
        height: int,
        start: date,
        end: date,
        *,
        left: int,
        right: int,
        top: int,
        bottom: int,
    ) -> None:
        self.width = width
        self.height = height
        self.start = start
        self.end = end
        self.left = left
        self.top = top
        self.right_x = width - right
        self.bottom_y = height - bottom
        self.plot_w = float(self.right_x - left)
        self.plot_h = float(self.bottom_y - top)
        self.n_days = (end - start).days + 1
        self.day_w = self.plot_w / self.n_days

    def x_edge(self, day: date) -> float:
        """Left edge of a day's slot (the right edge of the previous day)."""
        return self.left + (day - self.start).days * self.day_w

    def x_mid(self, day: date) -> float:
        return self.left + ((day - self.start).days + 0.5) * self.day_w

    def y(self, score: float) -> float:
        score = min(max(score, 0.0), 100.0)
        return self.top + (100.0 - score) / 100.0 * self.plot_h

    # Years of daily points write thousands of coordinates: each distinct one is formatted once.
    @property
    def mid_x_text(self) -> tuple[str, ...]:
        """The middle of each day's slot as written in the markup, by day index."""
        return _mid_x_text(self.left, self.plot_w, self.n_days)

    @cached_property
    def score_y_text(self) -> list[str]:
        """The height of each whole score 0–100 as written in the markup."""
        scale = self.plot_h / 100.0
        return [_f(self.top + (100.0 - score) * scale) for score in range(101)]


@lru_cache(maxsize=16)
def _mid_x_text(left: int, plot_w: float, n_days: int) -> tuple[str, ...]:
    # Shared by every chart of a page: they all span the same days at the same width.
    day_w = plot_w / n_days
    x0 = left + day_w / 2
    return tuple(_f(x0 + index * day_w) for index in range(n_days))


# --- pieces ---------------------------------------------------------------------------------


def _open_svg(
    width: int, height: int, chart_id: str, css_class: str, title: str, desc: str, linked: bool
) -> list[str]:
    # A chart with links must not be role="img" (that would hide the links); without links it
    # is one picture, named by its title and description.
    role = "" if linked else ' role="img"'
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" class="{css_class}" '
        f'id="{chart_id}" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f'{role} aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="{FONT}" font-size="{FONT_SIZE}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _bands_svg(frame: _Frame, bands: Sequence[DoseBand], chart_id: str, label_y: int) -> list[str]:
    """Dose steps behind the data: alternating light fills, hatched baseline, labels on top."""
    visible = sorted(
        (band for band in bands if band.end >= frame.start and band.start <= frame.end),
        key=lambda band: band.start,
    )
    if not visible:
        return []
    band_top = label_y - SMALL - 2
    height = frame.bottom_y - band_top
    pattern_id = f"{chart_id}-baseline"
    out = ['<g class="bands" aria-hidden="true">']
    if any(band.is_baseline for band in visible):
        out.append(
            f'<defs><pattern id="{pattern_id}" width="6" height="6" '
            'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            '<rect width="6" height="6" fill="#FFFFFF"/>'
            f'<path d="M0 0V6" stroke="{BASELINE_HATCH}" stroke-width="1.5"/>'
            "</pattern></defs>"
        )
    fills, edges, labels = [], [], []
    step_index = 0
    for band in visible:
        first = max(band.start, frame.start)
        last = min(band.end, frame.end)
        x0 = frame.x_edge(first)
        x1 = frame.x_edge(last + timedelta(days=1))
        if band.is_baseline:
            fill = f"url(#{pattern_id})"
        else:
            fill = BAND_FILLS[step_index % 2]
            step_index += 1
        fills.append(
            f'<rect x="{_f(x0)}" y="{band_top}" width="{_f(x1 - x0)}" height="{height}" '
            f'fill="{fill}"/>'
        )
        if first > frame.start:
            edges.append(f"M{_f(x0)} {band_top}V{frame.bottom_y}")
        # The label starts 3 units in and may reach the next band's edge (the width estimate
        # runs a little wide); "1.5" still reads as a dose beside neighbours that say "mg".
        room = x1 - x0
        label = band.label
        if _text_w(label, SMALL) > room and label.endswith(" mg"):
            label = label[:-3]
        if _text_w(label, SMALL) <= room:
            labels.append(f'<text x="{_f(x0 + 3)}" y="{label_y}">{escape(label)}</text>')
    out += fills
    if edges:
        out.append(f'<path d="{"".join(edges)}" stroke="{AXIS}" stroke-width="1" fill="none"/>')
    if labels:
        out.append(f'<g fill="{INK}" font-size="{SMALL}">{"".join(labels)}</g>')
    out.append("</g>")
    return out


def _y_axis_svg(frame: _Frame, *, axis_label: str) -> list[str]:
    """Gridlines at 0/25/50/75/100, their numbers, and the axis title written along it."""
    grid = "".join(f"M{frame.left} {_f(frame.y(v))}H{frame.right_x}" for v in (25, 50, 75, 100))
    numbers = "".join(
        f'<text x="{frame.left - 5}" y="{_f(frame.y(v) + 3.5)}">{v}</text>'
        for v in (0, 25, 50, 75, 100)
    )
    mid_y = (frame.top + frame.bottom_y) / 2
    return [
        '<g class="axis axis-y" aria-hidden="true" pointer-events="none">',
        f'<path d="{grid}" stroke="{GRID}" stroke-width="1" fill="none"/>',
        f'<path d="M{frame.left} {_f(frame.y(0))}H{frame.right_x}" stroke="{AXIS}" '
        'stroke-width="1" fill="none"/>',
        f'<g fill="{INK}" text-anchor="end" font-size="{SMALL}">{numbers}</g>',
        f'<text class="polarity" x="13" y="{_f(mid_y)}" text-anchor="middle" fill="{INK}" '
        f'font-size="{SMALL}" transform="rotate(-90 13 {_f(mid_y)})">{escape(axis_label)}</text>',
        "</g>",
    ]


def _x_axis_svg(frame: _Frame, baseline_y: float | None = None) -> list[str]:
    """A few date ticks chosen for the range: weeks, months or years."""
    y0 = frame.bottom_y if baseline_y is None else baseline_y
    max_ticks = max(2, int(frame.plot_w // 72))
    marks, labels = [], []
    for day, text in _date_ticks(frame.start, frame.end, max_ticks):
        x = frame.x_mid(day)
        anchor = "middle"
        half = _text_w(text, SMALL) / 2
        if x - half < frame.left - 6:
            anchor = "start"
        elif x + half > frame.width - 2:
            anchor = "end"
        marks.append(f"M{_f(x)} {_f(y0)}v4")
        anchor_attr = "" if anchor == "middle" else f' text-anchor="{anchor}"'
        labels.append(f'<text x="{_f(x)}" y="{_f(y0 + 15)}"{anchor_attr}>{escape(text)}</text>')
    return [
        '<g class="axis axis-x" aria-hidden="true" pointer-events="none">',
        f'<path d="{"".join(marks)}" stroke="{AXIS}" stroke-width="1" fill="none"/>',
        f'<g fill="{INK}" text-anchor="middle" font-size="{SMALL}">{"".join(labels)}</g>',
        "</g>",
    ]


def _points_svg(
    frame: _Frame,
    values: Mapping[date, int],
    name: str,
    radius: float,
    day_href: Callable[[date], str] | None,
    with_year: bool,
) -> list[str]:
    """Daily values as circles; links around each day (or each point) when asked for."""
    small = radius <= 1.5
    group = (
        f'<g class="pts" fill="{BLUE}" fill-opacity="0.6">'
        if small
        else f'<g class="pts" fill="{SKY}" stroke="{BLUE}" stroke-width="1">'
    )
    x0, day_w, start = frame.left + frame.day_w / 2, frame.day_w, frame.start
    top, scale = frame.top, frame.plot_h / 100.0
    if frame.n_days > LINKED_POINTS_MAX_DAYS:
        # Years of days: each point is a dot drawn by a round line cap, all in one path. The
        # same picture as a circle per day at a third of the markup, and fast to write out.
        xs, ys = frame.mid_x_text, frame.score_y_text
        dots = "".join(f"M{xs[(day - start).days]} {ys[value]}h0" for day, value in values.items())
        return [
            f'<path class="pts-path" d="{dots}" fill="none" stroke="{BLUE}" '
            f'stroke-opacity="0.6" stroke-width="{_f(2 * radius)}" stroke-linecap="round"/>'
        ]
    if day_href is None:
        r = _f(radius)
        points = [
            _point_at(x0 + (day - start).days * day_w, top + (100.0 - value) * scale, r)
            for day, value in values.items()
        ]
        return [group, *points, "</g>"]

    out = [group]
    if frame.n_days <= HIT_RECT_MAX_DAYS:
        # Every day is a full-height target, easy to tap on a phone; empty days open too, so
        # a missed day can be filled in.
        for day in _each_day(frame.start, frame.end):
            value = values.get(day)
            said = f"{name} {value}" if value is not None else f"{name} not recorded"
            dot = "" if value is None else _point_svg(frame.x_mid(day), frame.y(value), radius)
            out.append(
                f'<a href="{_attr(day_href(day))}" tabindex="-1" '
                f'aria-label="{_attr(_short(day, with_year))}: {_attr(said)}">'
                f'<rect class="hit" x="{_f(frame.x_edge(day))}" y="{frame.top}" '
                f'width="{_f(frame.day_w)}" height="{_f(frame.plot_h)}" fill="#000000" '
                f'fill-opacity="0" stroke="none"/>{dot}</a>'
            )
    else:
        for day, value in values.items():
            out.append(
                f'<a href="{_attr(day_href(day))}" tabindex="-1" '
                f'aria-label="{_attr(_short(day, with_year))}: {_attr(name)} {value}">'
                f"{_point_svg(frame.x_mid(day), frame.y(value), radius)}</a>"
            )
    out.append("</g>")
    return out


def _points_group(radius: float, css_class: str = "pts") -> list[str]:
    """Opens the group that paints daily points: outlined circles, or plain dots when tiny."""
    if radius <= 1.5:
        return [f'<g class="{css_class}" fill="{BLUE}" fill-opacity="0.55">']
    return [f'<g class="{css_class}" fill="{SKY}" stroke="{BLUE}" stroke-width="1">']


def _point_at(x: float, y: float, radius: str) -> str:
    return f'<circle class="pt" cx="{_f(x)}" cy="{_f(y)}" r="{radius}"/>'


def _point_svg(x: float, y: float, radius: float, css_class: str = "pt") -> str:
    return f'<circle class="{css_class}" cx="{_f(x)}" cy="{_f(y)}" r="{_f(radius)}"/>'


def _marker_svg(
    shape: str, x: float, y: float, size: float, fill: str | None, css_class: str = ""
) -> str:
    """A small marker centred on (x, y); the shape tells series apart in black and white."""
    cls = f' class="{css_class}"' if css_class else ""
    paint = f' fill="{fill}" stroke="#FFFFFF" stroke-width="1"' if fill else ""
    if shape == "square":
        s = size * 0.9
        return (
            f'<rect{cls} x="{_f(x - s)}" y="{_f(y - s)}" width="{_f(2 * s)}" '
            f'height="{_f(2 * s)}"{paint}/>'
        )
    if shape == "triangle":
        s = size * 1.2
        return (
            f'<path{cls} d="M{_f(x)} {_f(y - s)}L{_f(x + s)} {_f(y + s * 0.8)}'
            f'H{_f(x - s)}Z"{paint}/>'
        )
    if shape == "diamond":
        s = size * 1.25
        return (
            f'<path{cls} d="M{_f(x)} {_f(y - s)}L{_f(x + s)} {_f(y)}L{_f(x)} {_f(y + s)}'
            f'L{_f(x - s)} {_f(y)}Z"{paint}/>'
        )
    return f'<circle{cls} cx="{_f(x)}" cy="{_f(y)}" r="{_f(size)}"{paint}/>'


def _mean_path_svg(
    frame: _Frame,
    means: NDArray[np.float64],
    colour: str,
    dash: str,
    css_class: str,
    stroke_width: float,
) -> str:
    """The rolling mean (one value per day from frame.start, NaN for none) as one path, a new
    "M" segment after every gap."""
    present = ~np.isnan(means)
    if not present.any():
        return ""
    n = int(means.size)
    before = np.concatenate(([False], present[:-1]))
    after = np.concatenate((present[1:], [False]))
    first_of_run = present & ~before
    # Over years a day is a fraction of a unit wide: one vertex per half unit draws the same
    # line with a fraction of the markup. Every run keeps its first and last day.
    stride = max(1, int(0.5 / frame.day_w))
    kept = present.copy()
    if stride > 1:
        index = np.arange(n)
        kept &= first_of_run | ~after | (index % stride == 0) | (index == n - 1)
    where = np.flatnonzero(kept)
    scores = np.clip(means[where], 0.0, 100.0)
    heights = frame.top + (100.0 - scores) * (frame.plot_h / 100.0)
    xs = frame.mid_x_text
    ys = _tenths_text(np.rint(heights * 10.0).astype(np.int64).tolist())
    pairs = [f"{xs[day]} {y}" for day, y in zip(where.tolist(), ys, strict=True)]
    # One "M" segment per run of days with a mean; a lone day between gaps still shows, as a
    # dot drawn by the round cap.
    bounds = [*np.flatnonzero(first_of_run[where]).tolist(), len(pairs)]
    parts = ["M" + " ".join(pairs[a:b]) + ("h0" if b - a == 1 else "") for a, b in pairwise(bounds)]
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<path class="{css_class}" d="{"".join(parts)}" fill="none" stroke="{colour}" '
        f'stroke-width="{_f(stroke_width)}" stroke-linejoin="round" stroke-linecap="round"'
        f'{dash_attr} pointer-events="none"/>'
    )


def _strip_legend(width: int, *, weekly: bool) -> tuple[str, int]:
    """The side-effect strip's key, the four shades and a blank cell (and, on long ranges, what
    a cell is), wrapped onto as many lines as the width needs; returns the SVG and the lines."""
    entries: list[tuple[str | None, str]] = list(zip(SEVERITY_FILLS, SEVERITY_LABELS, strict=True))
    entries.append(("#FFFFFF", "not answered"))
    if weekly:
        entries.append((None, "(a cell is a week: its worst day)"))
    parts = [f'<g class="legend" aria-hidden="true" fill="{INK}" font-size="{SMALL}">']
    x, line = 4.0, 0
    for fill, word in entries:
        swatch = 16 if fill is not None else 0
        item_w = swatch + _text_w(word, SMALL)
        if x > 4 and x + item_w > width - 4:
            x, line = 4.0, line + 1
        y = 14 + 16 * line
        if fill is not None:
            parts.append(
                f'<rect x="{_f(x)}" y="{y - 9}" width="12" height="10" fill="{fill}" '
                f'stroke="{AXIS}" stroke-width="1"/>'
            )
        parts.append(f'<text x="{_f(x + swatch)}" y="{y}">{escape(word)}</text>')
        x += item_w + 14
    parts.append("</g>")
    return "".join(parts), line + 1


def _empty_svg(frame: _Frame, text: str = "No entries in this range") -> str:
    return (
        f'<text class="empty" x="{_f(frame.left + frame.plot_w / 2)}" '
        f'y="{_f(frame.y(62.5) + 4)}" text-anchor="middle" fill="{INK}" '
        f'font-size="{FONT_SIZE + 2}">{escape(text)}</text>'
    )


# --- words ----------------------------------------------------------------------------------


def _series_summary(item: RatedItem, values: Mapping[date, int], n_days: int) -> str:
    scale = (
        f"{item.label} from 0 ({item.low_anchor}) to 100 ({item.high_anchor}), "
        f"{item.polarity_text}."
    )
    if not values:
        return f"{scale} Not rated in this range."
    latest = max(values)
    mean = sum(values.values()) / len(values)
    return (
        f"{scale} {len(values)} of {day_count(n_days)} have a value; "
        f"latest {values[latest]} on {_long(latest)}; mean {mean:.0f}."
    )


def _bands_summary(bands: Sequence[DoseBand], start: date, end: date) -> str:
    shown = sorted(
        (band for band in bands if band.end >= start and band.start <= end),
        key=lambda band: band.start,
    )
    if not shown:
        return ""
    steps = "; ".join(
        f"{band.label} {_long(max(band.start, start))} to {_long(min(band.end, end))}"
        for band in shown
    )
    return f"Dose steps: {steps}."


@lru_cache(maxsize=64)
def _date_ticks(start: date, end: date, max_ticks: int) -> list[tuple[date, str]]:
    """The densest sensible set of date ticks (days, weeks, months, years) that fits."""
    candidates: list[list[tuple[date, str]]] = []
    for step in (1, 2, 7, 14):
        first = start
        if step >= 7:  # weeks start on Monday
            first = start + timedelta(days=(7 - start.weekday()) % 7)
        if first > end or (end - first).days // step + 1 > max_ticks:
            continue  # too dense to fit: skip building labels for every day
        candidates.append([(d, _short(d, False)) for d in _each_day(first, end, step)])
    for months in (1, 2, 3, 6):
        candidates.append(
            [(d, f"{MONTHS[d.month - 1]} {d.year}") for d in _month_starts(start, end, months)]
        )
    for years in (1, 2, 5, 10, 20, 50):
        candidates.append(
            [
                (date(y, 1, 1), str(y))
                for y in range(start.year, end.year + 1)
                if y % years == 0 and start <= date(y, 1, 1) <= end
            ]
        )
    for ticks in candidates:
        if 2 <= len(ticks) <= max_ticks:
            return ticks
    return [(start, _short(start, start.year != end.year))]


def _month_starts(start: date, end: date, every: int) -> list[date]:
    out: list[date] = []
    year, month = start.year, start.month
    while True:
        first = date(year, month, 1)
        if first > end:
            return out
        if first >= start and (month - 1) % every == 0:
            out.append(first)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _severity_runs(severities: Sequence[int | None], bin_days: int) -> list[tuple[int, int, int]]:
    """(first day index, index after the last, severity) for runs of equal severity.

    Unanswered days (None) are left out. With ``bin_days`` 7 each week takes its worst day.
    """
    runs: list[tuple[int, int, int]] = []
    n = len(severities)
    for first in range(0, n, bin_days):
        after = min(first + bin_days, n)
        answered = [s for s in severities[first:after] if s is not None]
        if not answered:
            continue
        worst = max(answered)
        if runs and runs[-1][2] == worst and runs[-1][1] == first:
            runs[-1] = (runs[-1][0], after, worst)
        else:
            runs.append((first, after, worst))
    return runs


# --- small helpers --------------------------------------------------------------------------


def _finish(parts: list[str]) -> Markup:
    # Safe: every piece of text and every attribute value above went through escape() or
    # _attr(), and numbers through _f(); Markup only stops Jinja escaping the SVG a second time.
    return Markup("".join(parts))  # noqa: S704


_TENTHS: dict[int, str] = {}


def _tenths_text(tenths: list[int]) -> list[str]:
    """Coordinates given in tenths as _f writes them ("123.4", "123"), each formatted once."""
    found = _TENTHS
    missing = [value for value in set(tenths) if value not in found]
    for value in missing:
        text = f"{value / 10:.1f}"
        found[value] = text[:-2] if text.endswith(".0") else text
    return [found[value] for value in tenths]


def _check(start: date, end: date, chart_id: str) -> None:
    if end < start:
        raise ValueError("end is before start")
    if not _CHART_ID.match(chart_id):
        raise ValueError("chart_id must be a letter followed by letters, digits, '-' or '_'")


def _values_in_range(days: DayValues, start: date, end: date) -> dict[date, int]:
    """Answered values inside the range, by date, in date order (a later duplicate wins)."""
    found = {day: value for day, value in days if value is not None and start <= day <= end}
    return dict(sorted(found.items()))


def _each_day(first: date, last: date, step: int = 1) -> list[date]:
    count = (last - first).days // step + 1 if last >= first else 0
    return [first + timedelta(days=i * step) for i in range(count)]


def _point_radius(n_days: int) -> float:
    if n_days <= 45:
        return 3.5
    if n_days <= 120:
        return 2.8
    if n_days <= LINKED_POINTS_MAX_DAYS:
        return 2.0
    return 1.1  # five years of days: small dots under the mean line


def _mean_width(n_days: int) -> float:
    return 2.5 if n_days <= 120 else 2.0 if n_days <= LINKED_POINTS_MAX_DAYS else 1.5


def _severity(value: int) -> int:
    return min(max(int(value), 0), 3)


def _answered(answers: Mapping[str, int | None] | None, key: str) -> int | None:
    """The severity of one side effect on one day, or None when not answered."""
    if answers is None:
        return None
    value = answers.get(key)
    if value is None or 0 <= value <= 3:
        return value
    return _severity(value)


def _short(day: date, with_year: bool) -> str:
    text = f"{day.day} {MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if with_year else text


def _long(day: date) -> str:
    return _short(day, True)


def day_count(n: int) -> str:
    """The words for n days: 1 day, 2 days."""
    return "1 day" if n == 1 else f"{n} days"


def _class_token(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", key)


def _text_w(text: str, size: float) -> float:
    """Width of a label in user units, a little over rather than under."""
    ems = 0.0
    for char in text:
        if char in _NARROW:
            ems += 0.38
        elif char in _WIDE:
            ems += 1.0
        elif char.isupper():
            ems += 0.76
        else:
            ems += 0.64
    return ems * size


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _f(value: float) -> str:
    """One decimal is finer than a print dot at chart size, and keeps the markup small."""
    text = "%.1f" % value  # noqa: UP031 (measurably faster than an f-string in this hot loop)
    return text[:-2] if text.endswith(".0") else text


def interval_reach(values: Iterable[float]) -> float:
    """Half-width of a shared interval-bar axis: the largest distance from 0, rounded up to a
    multiple of 10 and at least 20, so bars drawn with it are on one scale."""
    largest = max((abs(value) for value in values), default=0.0)
    return max(20.0, 10.0 * math.ceil(largest / 10.0 - 1e-9))


def whole_points(value: float) -> int:
    """A change shown in whole points or percent: the API's one decimal cut toward zero
    (9.7 → 9, −49.94 → −49.9 → −49, −13.96 → −14.0 → −14).

    Cut, not rounded: the rules behind the words (under 5 points, 30% and 10 points, the bands
    at 10, 30 and 50%) compare that one-decimal number with a whole threshold, so a cut number
    never crosses a threshold the rule did not ("50% better" beside "moderate").
    """
    return int(round(value, 1))


def whole_interval(low: float, high: float) -> tuple[float, float]:
    """An interval's ends (the API's one decimal) in whole points, rounded outward so it never
    claims more certainty than the interval.

    An end on one side of 0 that would round out to 0 keeps its one decimal instead: "−16 to
    0" beside "improved" says the interval reaches no change when it does not (−15.4 to −0.6).
    Rounded in, to −1, it would claim more certainty than it has."""
    low, high = round(low, 1), round(high, 1)
    low_end: float = math.floor(low)
    high_end: float = math.ceil(high)
    if low > 0 and low_end == 0:
        low_end = low
    if high < 0 and high_end == 0:
        high_end = high
    return low_end, high_end


def end_digits(end: float) -> int:
    """Decimals to print an end of `whole_interval` with: 0, or 1 for an end kept near 0."""
    return 0 if end == int(end) else 1


def change_words(diff: float, low: float, high: float) -> str:
    """A difference from baseline and its 95% interval in whole points, said as higher or
    lower: a bare "−15" beside "24% better" read as worse to patients (lower pain is better).
    The data do not carry tenths of a point, so none are printed, but for an end that would
    otherwise print as 0 (see `whole_interval`)."""
    ends = whole_interval(low, high)
    if ends[0] < 0 < ends[1]:
        interval = f"{-ends[0]} lower to {ends[1]} higher"
    elif ends[1] <= 0:
        interval = f"{-ends[1]} to {-ends[0]} lower"
    else:
        interval = f"{ends[0]} to {ends[1]} higher"
    way = "higher" if diff > 0 else "lower"
    points = abs(whole_points(diff))
    if diff == 0:
        return f"no change in points ({interval})"
    if points == 0:
        return f"under 1 point {way} ({interval})"
    return f"{points} point{'' if points == 1 else 's'} {way} ({interval})"


def interval_bar(
    *,
    diff: float,
    low: float,
    high: float,
    item: RatedItem,
    reach: float | None = None,
    width: int = 220,
    height: int = 34,
) -> Markup:
    """A difference from baseline and its 95% interval, drawn so that right is always better.

    For items where lower is better the axis is flipped (a fall in pain points right), so a
    row of bars reads the same way for every item; dream vividness, with no better direction,
    draws "higher" to the right. `reach` is the axis's half-width in points: pass one value
    (see `interval_reach`) to every bar that is read together, so their lengths compare. The
    ends of the axis are labelled with it, and "0" (no change) in the middle.
    """
    flip = item.better == "lower"
    shown = [(-value if flip else value) for value in (diff, low, high)]
    if reach is None:
        reach = interval_reach(shown)
    pad = 6.0

    def x(value: float) -> float:
        value = min(max(value, -reach), reach)
        return pad + (value + reach) / (2 * reach) * (width - 2 * pad)

    centre, lo, hi = shown[0], min(shown[1:]), max(shown[1:])
    left_word, right_word = ("worse", "better") if item.better != "neither" else ("lower", "higher")
    label = (
        f"{item.label} against baseline: {change_words(diff, low, high)}, "
        f"95% interval in brackets; to the right is {right_word}"
    )
    mid = 11.0
    text_y = height - 2
    reach_text = f"{reach:g}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="interval-bar" role="img" '
        f'aria-label="{_attr(label)}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" font-family="{_attr(FONT)}">',
        f'<line x1="{_f(pad)}" y1="{_f(mid)}" x2="{_f(width - pad)}" y2="{_f(mid)}" '
        f'stroke="{GRID}" stroke-width="1"/>',
        f'<path d="M{_f(pad)} {_f(mid - 4)}v8M{_f(width - pad)} {_f(mid - 4)}v8" '
        f'stroke="{AXIS}" stroke-width="1" fill="none"/>',
        f'<line x1="{_f(x(0))}" y1="1" x2="{_f(x(0))}" y2="{_f(mid + 8)}" stroke="{AXIS}" '
        'stroke-width="1.5"/>',
        f'<rect x="{_f(x(lo))}" y="{_f(mid - 5)}" width="{_f(max(1.0, x(hi) - x(lo)))}" '
        f'height="10" rx="3" fill="{SKY}" stroke="{BLUE}" stroke-width="1"/>',
        f'<circle cx="{_f(x(centre))}" cy="{_f(mid)}" r="4.5" fill="{BLACK}"/>',
        f'<g aria-hidden="true" font-size="{SMALL - 1}" fill="{SOFT_INK}">',
        f'<text class="scale-end" x="{_f(pad)}" y="{text_y}">'
        f"{escape(reach_text)} points {escape(left_word)}</text>",
        f'<text class="scale-zero" x="{_f(x(0))}" y="{text_y}" text-anchor="middle">0</text>',
        f'<text class="scale-end" x="{_f(width - pad)}" y="{text_y}" text-anchor="end">'
        f"{escape(reach_text)} points {escape(right_word)}</text>",
        "</g>",
        "</svg>",
    ]
    return Markup("".join(parts))  # noqa: S704 (every value above is escaped or a number)
