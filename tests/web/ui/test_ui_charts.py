"""The dashboard's pure parts: bar chart geometry (every bar inside the plot, stacked
bars adding up, the axis reaching the tallest bar) and how figures are written."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from web.ui import charts
from web.ui.charts import Series, bar_chart, nice_ceiling
from web.ui.dashboard_view import duration, percent, time_unit


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (0.3, 0.5), (1, 1), (1.2, 2), (2.1, 2.5), (3, 5), (7, 10), (42000, 50000)],
)
def test_nice_ceiling(value: float, ceiling: float) -> None:
    assert nice_ceiling(value) == pytest.approx(ceiling)


values = st.lists(
    st.one_of(st.none(), st.floats(0, 1e7, allow_nan=False)), min_size=1, max_size=60
)


@given(values, st.booleans())
def test_every_bar_stays_inside_the_plot(
    data: list[float | None], stacked: bool
) -> None:
    labels = [f"d{i}" for i in range(len(data))]
    chart = bar_chart(
        "c",
        "t",
        labels,
        (Series("a", tuple(data), "s1"), Series("b", tuple(data), "s2")),
        axis=str,
        tooltip=lambda label, name, v: f"{label} {name} {v}",
        stacked=stacked,
    )
    for bar in chart.bars:
        assert bar.x >= charts.LEFT
        assert bar.x + bar.width <= charts.WIDTH - charts.RIGHT + 0.01
        assert bar.y >= charts.TOP - 0.01
        assert bar.y + bar.height <= chart.baseline + 0.01
    assert len(chart.bars) == 2 * sum(v is not None for v in data)
    assert len(chart.x_labels) <= charts.MAX_X_LABELS
    assert chart.ticks[0].y == chart.baseline


def test_stacked_bars_sit_on_each_other_and_the_axis_reaches_the_top() -> None:
    chart = bar_chart(
        "c",
        "t",
        ["Mon", "Tue"],
        (Series("people", (3.0, 1.0), "s1"), Series("bots", (1.0, 0.0), "s2")),
        axis=lambda v: f"{v:g}",
        tooltip=lambda label, name, v: f"{label}: {v:g} {name}",
        stacked=True,
        whole=True,
    )
    people, bots, *_ = chart.bars
    assert bots.y + bots.height == pytest.approx(people.y)  # on top of it
    assert people.y == pytest.approx(chart.baseline - people.height)
    assert [t.label for t in chart.ticks] == ["0", "1", "2", "3", "4"]
    assert people.y - bots.height == pytest.approx(charts.TOP)  # 4 of 4: full height
    assert bots.text == "Mon: 1 bots"
    assert not chart.empty


def test_nothing_to_draw_is_an_empty_chart() -> None:
    chart = bar_chart(
        "c", "t", ["a"], (Series("s", (None,), "s1"),), axis=str, tooltip=str.format
    )
    assert chart.bars == ()
    assert chart.empty


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "–"),
        (0, "0 s"),
        (42.4, "42 s"),
        (60, "1 min"),
        (2700, "45 min"),
        (3600, "1 h"),
        (42000, "11 h 40 min"),
        (86400, "1 d"),
        (320400, "3 d 17 h"),
    ],
)
def test_durations_as_people_read_them(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("rate", "text"),
    [(None, "–"), (0, "0 %"), (0.5, "50 %"), (2 / 7, "28.6 %"), (1, "100 %")],
)
def test_rates_as_people_read_them(rate: float | None, text: str) -> None:
    assert percent(rate) == text


def test_the_chart_unit_follows_the_longest_time() -> None:
    assert time_unit([None, 600]) == (60, "min")
    assert time_unit([7200, None]) == (3600, "h")
    assert time_unit([3 * 86400]) == (86400, "d")
