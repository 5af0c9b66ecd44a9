"""The SVG charts: parsed with ElementTree and checked element by element."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Set
from datetime import date, timedelta

import pytest
from markupsafe import Markup

from app.charts import (
    DoseBand,
    change_words,
    interval_bar,
    interval_reach,
    multi_item_chart,
    rolling_mean,
    side_effect_strip,
    trend_chart,
    whole_interval,
    whole_points,
)
from app.items import ITEMS_BY_KEY, SIDE_EFFECT_KEYS, SIDE_EFFECTS, RatedItem

SVG = "{http://www.w3.org/2000/svg}"
PAIN = ITEMS_BY_KEY["pain"]
SLEEP = ITEMS_BY_KEY["sleep_quality"]
START = date(2025, 3, 1)


def day(n: int) -> date:
    return START + timedelta(days=n)


def values(n_days: int, *, missing: Set[int] = frozenset()) -> list[tuple[date, int | None]]:
    return [(day(i), None if i in missing else (i * 37) % 101) for i in range(n_days)]


def parse(markup: Markup) -> ET.Element:
    return ET.fromstring(str(markup))


def by_class(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [el for el in root.iter() if css_class in (el.get("class") or "").split()]


def texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter(f"{SVG}text")]


def href(d: date) -> str:
    return f"/days/{d.isoformat()}"


BANDS = [
    DoseBand(start=day(0), end=day(13), label="Baseline", is_baseline=True),
    DoseBand(start=day(14), end=day(41), label="1.5 mg", is_baseline=False),
    DoseBand(start=day(42), end=day(400), label="3 mg", is_baseline=False),
]


def pain_chart(days=None, *, n_days=30, **kwargs) -> Markup:
    return trend_chart(
        item=kwargs.pop("item", PAIN),
        days=values(n_days) if days is None else days,
        bands=kwargs.pop("bands", BANDS),
        start=START,
        end=day(n_days - 1),
        chart_id=kwargs.pop("chart_id", "pain-chart"),
        **kwargs,
    )


# --- rolling mean ---------------------------------------------------------------------------


def test_rolling_mean_by_hand():
    days = [
        (day(0), 10),
        (day(1), 20),
        (day(2), None),
        (day(3), 30),
        (day(4), 40),
        # day 5 has no entry at all
        (day(6), 60),
        (day(7), 70),
    ]
    assert rolling_mean(days) == [
        (day(0), None),  # 1 value of the 4 needed
        (day(1), None),
        (day(2), None),
        (day(3), None),  # 3 values
        (day(4), 25.0),  # (10 + 20 + 30 + 40) / 4
        (day(5), 25.0),
        (day(6), 32.0),  # (10 + 20 + 30 + 40 + 60) / 5
        (day(7), 44.0),  # day 0 has left the window: (20 + 30 + 40 + 60 + 70) / 5
    ]


def test_rolling_mean_window_and_minimum():
    days = [(day(0), 10), (day(1), 20), (day(2), 60), (day(4), 40)]
    means = dict(rolling_mean(days, window=3, min_values=2))
    assert means == {
        day(0): None,
        day(1): 15.0,
        day(2): 30.0,
        day(3): 40.0,  # 20 and 60
        day(4): 50.0,  # 60 and 40
    }
    # The default minimum is more than half the window: 2 of 3.
    assert dict(rolling_mean(days, window=3)) == means


def test_rolling_mean_counts_days_before_start():
    days = [(day(i), 10 * i) for i in range(10)]
    means = rolling_mean(days, start=day(6), end=day(8))
    assert means == [(day(6), 30.0), (day(7), 40.0), (day(8), 50.0)]


def test_rolling_mean_empty_and_bad_arguments():
    assert rolling_mean([]) == []
    assert rolling_mean([], start=day(0), end=day(1)) == [(day(0), None), (day(1), None)]
    with pytest.raises(ValueError):
        rolling_mean([], window=0)
    with pytest.raises(ValueError):
        rolling_mean([], window=3, min_values=4)


# --- trend chart ----------------------------------------------------------------------------


def test_trend_chart_is_well_formed_with_title_and_description():
    root = parse(pain_chart())
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 640 220"
    assert root.get("width") == "640" and root.get("height") == "220"
    assert "chart" in root.get("class", "").split()
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "Pain, 1 Mar 2025 to 30 Mar 2025"
    assert desc.text is not None
    assert "Pain from 0 (no pain) to 100 (worst pain imaginable), higher is worse" in desc.text
    assert "30 of 30 days have a value" in desc.text
    assert "latest 63 on 30 Mar 2025" in desc.text  # 29 * 37 % 101
    assert "Dose steps: Baseline 1 Mar 2025 to 14 Mar 2025" in desc.text


def test_description_gives_count_latest_and_mean():
    days = [(day(0), 20), (day(1), None), (day(2), 40), (day(5), 90)]
    desc = parse(pain_chart(days, n_days=10)).find(f"{SVG}desc")
    assert desc is not None and desc.text is not None
    assert "3 of 10 days have a value; latest 90 on 6 Mar 2025; mean 50." in desc.text


@pytest.mark.parametrize(("n_days", "linked"), [(30, True), (200, True), (1826, False)])
def test_one_point_per_day_with_a_value(n_days, linked):
    missing = set(range(5, 12)) | {20, 150, 1000}
    days = values(n_days, missing=missing)
    root = parse(pain_chart(days, n_days=n_days, day_href=href if linked else None))
    expected = sum(1 for _, v in days if v is not None)
    if n_days > 400:  # years: every point is one dot ("M x yh0") of a single path
        (dots,) = by_class(root, "pts-path")
        assert dots.get("d", "").count("M") == expected
        return
    assert len(by_class(root, "pt")) == expected
    assert all(el.tag == f"{SVG}circle" for el in by_class(root, "pt"))


def test_points_outside_the_range_are_not_drawn():
    days = [(day(-3), 50), (day(0), 40), (day(29), 30), (day(30), 20)]
    root = parse(pain_chart(days, n_days=30))
    assert len(by_class(root, "pt")) == 2


def test_mean_line_breaks_around_missing_days():
    # Days 10-19 missing: the 7-day mean needs 4 values, so the line stops on day 13 and
    # starts again on day 23.
    days = values(30, missing=set(range(10, 20)))
    root = parse(pain_chart(days))
    (mean,) = by_class(root, "mean")
    d = mean.get("d", "")
    assert d.count("M") == 2
    segments = [s.split() for s in d.split("M")[1:]]
    assert [len(s) // 2 for s in segments] == [10, 7]  # days 3-12 and days 23-29
    assert mean.get("fill") == "none"


def test_mean_line_without_gaps_is_one_segment():
    (mean,) = by_class(parse(pain_chart(values(30))), "mean")
    assert mean.get("d", "").count("M") == 1


def test_a_lone_mean_between_gaps_still_shows_as_a_dot():
    # Four values in the window of day 6 only: days 0-6 hold 0, 2, 4, 6; days 1-7 three.
    days = [(day(i), 50) for i in (0, 2, 4, 6)]
    (mean,) = by_class(parse(pain_chart(days, n_days=20)), "mean")
    assert re.fullmatch(r"M[\d.]+ [\d.]+h0", mean.get("d", ""))


def test_dose_band_labels_and_baseline_pattern():
    root = parse(pain_chart(n_days=60))
    labels = texts(root)
    assert "Baseline" in labels and "1.5 mg" in labels and "3 mg" in labels
    bands = by_class(root, "bands")[0]
    fills = [rect.get("fill") for rect in bands.findall(f"{SVG}rect")]  # not the pattern's
    assert fills[0] == "url(#pain-chart-baseline)"
    assert fills[1] != fills[2]  # alternating fills for the dose steps
    assert root.find(f".//{SVG}pattern[@id='pain-chart-baseline']") is not None
    # The bands are drawn first, behind the data.
    children = [el.get("class") for el in root]
    assert children.index("bands") < children.index("pts")


def test_narrow_band_drops_mg_then_the_label():
    bands = [
        DoseBand(start=day(0), end=day(0), label="Baseline", is_baseline=True),
        DoseBand(start=day(1), end=day(360), label="4.5 mg", is_baseline=False),
    ]
    labels = texts(parse(pain_chart(n_days=365, bands=bands)))
    assert "Baseline" not in labels
    assert "4.5 mg" in labels


@pytest.mark.parametrize(
    ("chart", "needle"),
    [
        (lambda: pain_chart(day_href=href), "higher is worse"),
        (lambda: pain_chart(item=SLEEP), "higher is better"),
        (lambda: pain_chart(item=ITEMS_BY_KEY["dream_vividness"]), "neither direction"),
    ],
)
def test_polarity_is_written_on_the_axis(chart, needle):
    root = parse(chart())
    (polarity,) = by_class(root, "polarity")
    assert needle in "".join(polarity.itertext())
    assert polarity.get("transform", "").startswith("rotate(-90")


def test_y_axis_has_gridlines_and_numbers():
    labels = texts(parse(pain_chart()))
    for number in ("0", "25", "50", "75", "100"):
        assert number in labels


def test_links_open_each_day_for_short_ranges():
    root = parse(pain_chart(values(30, missing={4}), day_href=href))
    links = list(root.iter(f"{SVG}a"))
    assert [a.get("href") for a in links] == [href(day(i)) for i in range(30)]
    assert links[0].get("aria-label") == "1 Mar: pain 0"
    assert links[1].get("aria-label") == "2 Mar: pain 37"
    assert links[4].get("aria-label") == "5 Mar: pain not recorded"
    # Each link is a full-height target; the point sits inside it.
    assert len(links[1].findall(f"{SVG}rect")) == 1
    assert len(links[1].findall(f"{SVG}circle")) == 1
    assert links[4].find(f"{SVG}circle") is None
    assert root.get("role") is None  # role="img" would hide the links


@pytest.mark.parametrize("n_days", [30, 200])
def test_day_links_are_out_of_the_tab_order(n_days):
    # Hundreds of tab stops otherwise; the page's table under the chart has the same links.
    root = parse(pain_chart(values(n_days), n_days=n_days, day_href=href))
    links = list(root.iter(f"{SVG}a"))
    assert links and all(a.get("tabindex") == "-1" for a in links)
    assert all(a.get("aria-label") for a in links)


def test_links_wrap_points_for_longer_ranges():
    days = values(200, missing={3})
    root = parse(pain_chart(days, n_days=200, day_href=href))
    links = list(root.iter(f"{SVG}a"))
    assert len(links) == 199
    assert links[3].get("href") == href(day(4))
    assert all(a.find(f"{SVG}circle") is not None for a in links)


def test_no_links_without_day_href():
    root = parse(pain_chart())
    assert not list(root.iter(f"{SVG}a"))
    assert root.get("role") == "img"
    assert "href" not in str(pain_chart())


def test_link_labels_carry_the_year_across_new_year():
    start = date(2024, 12, 20)
    chart = trend_chart(
        item=PAIN,
        days=[(date(2025, 1, 2), 45)],
        bands=[],
        start=start,
        end=date(2025, 1, 20),
        day_href=href,
        chart_id="c",
    )
    labels = [a.get("aria-label") for a in parse(chart).iter(f"{SVG}a")]
    assert "2 Jan 2025: pain 45" in labels


def test_text_and_hrefs_are_escaped():
    odd = RatedItem("odd", 'A <b> & "c"', "q", "<low>", "high & mighty", "lower")
    bands = [DoseBand(start=day(0), end=day(29), label="<script>1 & 2</script>", is_baseline=False)]
    chart = trend_chart(
        item=odd,
        days=values(30),
        bands=bands,
        start=START,
        end=day(29),
        day_href=lambda d: f'/days?d={d}&x="y"',
        chart_id="odd",
    )
    root = parse(chart)
    title = root.find(f"{SVG}title")
    assert title is not None and title.text is not None
    assert title.text.startswith('A <b> & "c"')
    assert "<script>1 & 2</script>" in texts(root)
    assert next(root.iter(f"{SVG}a")).get("href") == '/days?d=2025-03-01&x="y"'
    assert "<script" not in str(chart) and "<b>" not in str(chart)


def test_empty_series_says_so():
    root = parse(pain_chart([], n_days=30))
    assert "Not rated in this range" in texts(root)  # other items may well have been
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text is not None
    assert "Not rated in this range" in desc.text
    assert not by_class(root, "pt") and not by_class(root, "mean")


def test_date_ticks_adapt_to_the_range():
    def labels(n_days: int) -> list[str]:
        root = parse(pain_chart(values(n_days), n_days=n_days, bands=[]))
        return ["".join(t.itertext()) for t in by_class(root, "axis-x")[0].iter(f"{SVG}text")]

    month = labels(30)
    assert month and all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", t) for t in month)
    assert "3 Mar" in month  # ticks fall on Mondays
    quarter = labels(90)
    assert 3 <= len(quarter) <= 8 and all(
        re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", t) for t in quarter
    )
    year = labels(365)
    assert 3 <= len(year) <= 8 and all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", t) for t in year)
    five_years = labels(1826)
    assert five_years == ["2026", "2027", "2028", "2029", "2030"]  # to 28 Feb 2030


def test_five_year_chart_stays_small():
    days = values(1826, missing=set(range(300, 340)))
    chart = pain_chart(days, n_days=1826, day_href=href)
    assert len(str(chart).encode()) < 150_000
    root = parse(chart)
    (dots,) = by_class(root, "pts-path")
    assert dots.get("d", "").count("M") == 1826 - 40
    assert not list(root.iter(f"{SVG}a"))  # points are too small to tap; the table links days
    (mean,) = by_class(root, "mean")
    assert mean.get("d", "").count("M") == 2


def test_coordinates_have_at_most_one_decimal():
    chart = str(pain_chart(values(90), n_days=90))
    assert not re.search(r"\d\.\d\d", chart)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        trend_chart(item=PAIN, days=[], bands=[], start=day(5), end=day(1), chart_id="a")
    with pytest.raises(ValueError):
        trend_chart(item=PAIN, days=[], bands=[], start=day(0), end=day(1), chart_id='x" y')


# --- every chart ----------------------------------------------------------------------------


def side_effect_days(n_days: int) -> list[tuple[date, dict[str, int | None]]]:
    return [
        (day(i), {key: (i + k) % 4 for k, key in enumerate(SIDE_EFFECT_KEYS)})
        for i in range(n_days)
    ]


def every_chart() -> list[Markup]:
    series = {"pain": values(90), "fatigue": values(90), "sleep_quality": values(90)}
    items = [PAIN, ITEMS_BY_KEY["fatigue"], SLEEP]
    return [
        pain_chart(day_href=href),
        pain_chart(values(200), n_days=200, day_href=href),
        pain_chart([], chart_id="empty"),
        side_effect_strip(
            days=side_effect_days(30), start=START, end=day(29), chart_id="s", day_href=href
        ),
        side_effect_strip(days=side_effect_days(800), start=START, end=day(799), chart_id="s"),
        multi_item_chart(
            items=items, series=series, bands=BANDS, start=START, end=day(89), chart_id="m"
        ),
        multi_item_chart(
            items=items, series=series, bands=BANDS, start=START, end=day(399), chart_id="m"
        ),
    ]


@pytest.mark.parametrize("index", range(7))
def test_no_inline_styles_scripts_or_outside_references(index):
    chart = every_chart()[index]
    markup = str(chart)
    root = parse(chart)
    assert isinstance(chart, Markup)
    assert "style=" not in markup and "<style" not in markup
    assert "<script" not in markup and "foreignObject" not in markup
    for el in root.iter():
        assert "style" not in el.attrib
        assert not any(name.startswith("on") for name in el.attrib)
        if el.tag != f"{SVG}a":
            assert "href" not in el.attrib
        for value in el.attrib.values():
            assert not value.startswith(("http:", "https:", "javascript:"))
            if value.startswith("url("):
                assert value.startswith("url(#")
    ids = [el.get("id", "") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    assert all(i.startswith(root.get("id", "?")) for i in ids)
    # Lines are at least 1 unit wide so they stay crisp in print.
    widths = [float(el.get("stroke-width", "1")) for el in root.iter()]
    assert min(widths) >= 1


# --- side-effect strip ----------------------------------------------------------------------


def test_side_effect_strip_rows_cells_and_legend():
    days: list[tuple[date, Mapping[str, int | None]]] = [
        (day(0), {"headache": 2, "nausea": 0}),
        (day(1), {"headache": 2, "nausea": None}),
        (day(3), {"headache": 3, "nausea": 1}),
    ]
    root = parse(
        side_effect_strip(days=days, start=START, end=day(9), chart_id="se", effects=SIDE_EFFECTS)
    )
    labels = texts(root)
    for word in ("none", "mild", "moderate", "severe", "not answered"):
        assert word in labels
    for effect in SIDE_EFFECTS:
        assert effect.label in labels

    def cells(severity: int) -> int:
        groups = by_class(root, f"sev-{severity}")
        return len(list(groups[0].iter(f"{SVG}rect"))) if groups else 0

    # Headache: moderate on days 0-1 (one run per day while days are wide), severe on day 3.
    # Nausea: none on day 0, not answered on day 1 (no cell), mild on day 3.
    assert (cells(0), cells(1), cells(2), cells(3)) == (1, 1, 1, 1)
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text is not None
    assert "Headache: on 3 of 3 days answered, worst severe." in desc.text
    assert "Nausea: on 1 of 2 days answered, worst mild." in desc.text
    assert "Dizziness: not answered." in desc.text
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Side effects, 1 Mar 2025 to 10 Mar 2025"


def test_side_effect_strip_shades_get_darker():
    root = parse(side_effect_strip(days=side_effect_days(8), start=START, end=day(7), chart_id="x"))
    fills = [by_class(root, f"sev-{s}")[0].get("fill", "") for s in range(4)]

    def lightness(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    assert [lightness(f) for f in fills] == sorted((lightness(f) for f in fills), reverse=True)


def test_side_effect_strip_links():
    days = [(day(0), {"headache": 2, "nausea": 1}), (day(1), {"headache": 0})]
    root = parse(
        side_effect_strip(days=days, start=START, end=day(2), day_href=href, chart_id="se")
    )
    links = list(root.iter(f"{SVG}a"))
    assert [a.get("href") for a in links] == [href(day(i)) for i in range(3)]
    assert [a.get("aria-label") for a in links] == [
        "1 Mar: Headache moderate, Nausea mild",
        "2 Mar: no side effects",
        "3 Mar: no entry",
    ]
    assert all(a.get("tabindex") == "-1" for a in links)
    plain = parse(side_effect_strip(days=days, start=START, end=day(2), chart_id="se"))
    assert not list(plain.iter(f"{SVG}a"))


def test_side_effect_strip_over_five_years_uses_weeks_and_stays_small():
    days = [
        (
            day(i),
            {
                key: (i * 7 + k * 3) % 5 if (i + k) % 6 else None
                for k, key in enumerate(SIDE_EFFECT_KEYS)
            },
        )
        for i in range(1826)
    ]
    chart = side_effect_strip(days=days, start=START, end=day(1825), chart_id="long", day_href=href)
    assert len(str(chart).encode()) < 150_000
    root = parse(chart)
    assert not list(root.iter(f"{SVG}a"))
    assert any("a cell is a week" in t for t in texts(root))


def test_side_effect_strip_empty():
    root = parse(side_effect_strip(days=[], start=START, end=day(29), chart_id="none"))
    assert "No entries in this range" in texts(root)


# --- doctor's chart -------------------------------------------------------------------------


def test_multi_item_chart_tells_items_apart_without_colour():
    items = [PAIN, ITEMS_BY_KEY["fatigue"], SLEEP]
    series = {
        "pain": values(60, missing={3}),
        "fatigue": values(60),
        "sleep_quality": values(60, missing=set(range(20, 30))),
    }
    root = parse(
        multi_item_chart(
            items=items, series=series, bands=BANDS, start=START, end=day(59), chart_id="doc"
        )
    )
    labels = texts(root)
    assert "Pain (higher is worse)" in labels
    assert "Fatigue (higher is worse)" in labels
    assert "Sleep (higher is better)" in labels
    assert "Baseline" in labels and "1.5 mg" in labels
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Pain, fatigue, sleep, 1 Mar 2025 to 29 Apr 2025"

    means = by_class(root, "mean")
    assert len(means) == 3
    dashes = {m.get("stroke-dasharray") for m in means}
    colours = {m.get("stroke") for m in means}
    assert len(dashes) == 3 and len(colours) == 3
    assert by_class(root, "mean-sleep_quality")[0].get("d", "").count("M") == 2

    shapes = {
        key: {el.tag for el in by_class(root, f"pts-{key}")[0] if "pt" in el.get("class", "")}
        for key in ("pain", "fatigue", "sleep_quality")
    }
    assert len({frozenset(s) | {k} for k, s in shapes.items()}) == 3
    assert shapes["pain"] == {f"{SVG}circle"} and shapes["fatigue"] == {f"{SVG}rect"}
    assert len(list(by_class(root, "pts-pain")[0])) == 59
    assert len(list(by_class(root, "pts-sleep_quality")[0])) == 50


def test_multi_item_chart_over_a_year_draws_means_with_markers():
    items = [PAIN, ITEMS_BY_KEY["fatigue"], SLEEP]
    series = {item.key: values(365) for item in items}
    chart = multi_item_chart(
        items=items, series=series, bands=BANDS, start=START, end=day(364), chart_id="year"
    )
    root = parse(chart)
    assert not by_class(root, "pt")
    assert len(by_class(root, "mean")) == 3
    assert len(by_class(root, "mark")) >= 3 * 8
    assert root.get("role") == "img"
    assert len(str(chart).encode()) < 150_000


def test_multi_item_chart_empty():
    root = parse(
        multi_item_chart(items=[PAIN], series={}, bands=[], start=START, end=day(29), chart_id="e")
    )
    assert "No entries in this range" in texts(root)


# --- interval bars --------------------------------------------------------------------------


def bar_geometry(markup: Markup) -> tuple[float, float, float, float]:
    """(x of the dot, x of the interval's left end, of its right end, x of no change)."""
    root = parse(markup)
    dot = root.find(f"{SVG}circle")
    box = root.find(f"{SVG}rect")
    zero = root.find(f"{SVG}line[@stroke-width='1.5']")
    assert dot is not None and box is not None and zero is not None
    left = float(box.get("x", "0"))
    return (
        float(dot.get("cx", "0")),
        left,
        left + float(box.get("width", "0")),
        float(zero.get("x1", "0")),
    )


def test_interval_reach_is_a_round_shared_scale():
    assert interval_reach([]) == 20.0
    assert interval_reach([-3.5, 12.0]) == 20.0
    assert interval_reach([-31.4, 4.0]) == 40.0
    assert interval_reach([30.0]) == 30.0
    assert interval_reach([30.05]) == 40.0


def test_interval_bars_of_one_scale_compare_and_label_their_ends():
    small = interval_bar(diff=-5.0, low=-8.0, high=-2.0, item=PAIN, reach=40)
    large = interval_bar(diff=-30.0, low=-36.0, high=-24.0, item=PAIN, reach=40)
    for markup in (small, large):
        ends = [t for t in texts(parse(markup)) if "points" in t]
        assert ends == ["40 points worse", "40 points better"]
        assert "0" in texts(parse(markup))
    dot_small, *_, zero = bar_geometry(small)
    dot_large, *_ = bar_geometry(large)
    # Same scale: six times the change is six times as far from no change.
    assert dot_large - zero == pytest.approx(6 * (dot_small - zero), abs=0.2)


def test_interval_bar_right_is_better_for_every_item_and_keeps_its_label():
    # Pain falls (better): drawn right of no change. Sleep rises (better): also right.
    pain = interval_bar(diff=-9.0, low=-15.0, high=-3.0, item=PAIN, reach=20)
    sleep = interval_bar(diff=9.0, low=3.0, high=15.0, item=SLEEP, reach=20)
    for markup in (pain, sleep):
        dot, left, right, zero = bar_geometry(markup)
        assert zero < left < dot < right
    assert parse(pain).get("aria-label") == (
        "Pain against baseline: 9 points lower (3 to 15 lower), 95% interval in brackets; "
        "to the right is better"
    )


def test_change_words_say_higher_or_lower_never_a_bare_minus():
    assert change_words(-9.04, -15.0, -3.0) == "9 points lower (3 to 15 lower)"
    assert change_words(2.0, -1.26, 5.0) == "2 points higher (2 lower to 5 higher)"
    assert change_words(0.0, -0.5, 3.0) == "no change in points (1 lower to 3 higher)"
    assert change_words(0.02, 0.0, 3.0) == "under 1 point higher (0 to 3 higher)"
    assert change_words(-1.0, -1.3, -0.7) == "1 point lower (0.7 to 2 lower)"


def test_an_interval_that_leaves_out_no_change_never_prints_an_end_at_0():
    # −15.4 to −0.6 is "improved" for pain: "16 to 0 lower" would say it reaches no change.
    assert whole_interval(-15.4, -0.6) == (-16, -0.6)
    assert whole_interval(0.3, 5.2) == (0.3, 6)
    assert change_words(-8.0, -15.4, -0.6) == "8 points lower (0.6 to 16 lower)"
    assert change_words(3.0, 0.3, 5.2) == "3 points higher (0.3 to 6 higher)"
    # An end at 0, or an interval across 0, stays in whole points.
    assert whole_interval(-12.4, 0.0) == (-13, 0)
    assert whole_interval(-0.6, 4.2) == (-1, 5)
    assert change_words(-8.0, -15.4, 0.0) == "8 points lower (0 to 16 lower)"


def test_change_words_print_whole_points_cut_so_no_rule_threshold_is_crossed():
    # 9.7 points is under the responder rule's 10: it must not print as "10".
    assert change_words(-9.7, -14.2, -5.1).startswith("9 points lower (5 to 15 lower)")
    assert whole_points(49.94) == 49 and whole_points(-4.94) == -4
    # The API shows −13.96 as −14.0, and the rules read that one decimal: so does the page.
    assert whole_points(-13.96) == -14
    assert whole_interval(-12.3, 4.1) == (-13, 5)
    for text in (change_words(-9.04, -15.33, -3.02), change_words(0.4, -0.61, 1.49)):
        assert not re.search(r"\d\.\d", text), text
    dreams = ITEMS_BY_KEY["dream_vividness"]
    ends = [t for t in texts(parse(interval_bar(diff=1, low=0, high=2, item=dreams))) if " " in t]
    assert ends == ["20 points lower", "20 points higher"]


def test_interval_bar_keeps_an_end_beyond_the_scale_inside_the_picture():
    markup = interval_bar(diff=-10.0, low=-70.0, high=50.0, item=SLEEP, reach=20)
    _, left, right, _ = bar_geometry(markup)
    assert left >= 0 and right <= 220
