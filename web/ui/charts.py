"""PURE: bar charts as geometry for server-side SVG (web/templates/_chart.html draws them).

No JavaScript and no library: a chart is a viewBox of fixed units that the browser
scales to the page's width, so it reads the same at 360 px and on a desktop. Every bar
carries its own text (a <title> tooltip), and the chart a title and a description for
screen readers; the page's tables hold the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 560
HEIGHT = 240
LEFT = 56  # room for the y-axis labels
RIGHT = 8
TOP = 12
BOTTOM = 30  # room for the x-axis labels
MAX_X_LABELS = 6
TICKS = 4
BAR_GAP = 0.2  # of each slot left empty


@dataclass(frozen=True, slots=True)
class Series:
    """One set of values along the x-axis (None: nothing to show for that slot)."""

    name: str
    values: tuple[float | None, ...]
    css: str  # the class that colours it: s1, s2 ...


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    text: str  # what it means, for the tooltip and assistive technology


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class XLabel:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    id: str
    title: str
    description: str  # a sentence that says what the chart shows, with its totals
    width: int
    height: int
    plot_left: int
    plot_right: int
    baseline: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    x_labels: tuple[XLabel, ...]
    legend: tuple[tuple[str, str], ...]  # (series name, css class)
    empty: bool


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^n at or above `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = math.pow(10, math.floor(math.log10(value)))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    axis: Callable[[float], str],
    tooltip: Callable[[str, str, float], str],
    stacked: bool = False,
    maximum: float | None = None,
    whole: bool = False,
    description: str = "",
) -> Chart:
    """Bars for each label: side by side per series, or stacked. `axis` formats a
    value on the y-axis, `tooltip(label, series name, value)` says what a bar is; the
    axis runs to `maximum`, or in round steps past the tallest bar (whole numbers only
    when `whole`)."""
    n = max(len(labels), 1)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    baseline = float(TOP + plot_h)
    if stacked:
        highest = max(
            (sum(s.values[i] or 0.0 for s in series) for i in range(len(labels))),
            default=0.0,
        )
    else:
        highest = max(
            (v for s in series for v in s.values if v is not None), default=0.0
        )
    if maximum is None:
        step = nice_ceiling(highest / TICKS)
        top = (max(1.0, math.ceil(step)) if whole else step) * TICKS
    else:
        top = maximum
    slot = plot_w / n
    inner = slot * (1 - BAR_GAP)
    width = inner if stacked else inner / max(len(series), 1)
    bars: list[Bar] = []
    for i, label in enumerate(labels):
        left = LEFT + i * slot + (slot - inner) / 2
        stack = 0.0
        for k, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            height = plot_h * min(value, top) / top
            x = left if stacked else left + k * width
            y = baseline - height - (plot_h * stack / top if stacked else 0.0)
            if stacked:
                stack += value
            bars.append(
                Bar(
                    round(x, 2),
                    round(y, 2),
                    round(max(width, 0.5), 2),
                    round(height, 2),
                    s.css,
                    tooltip(label, s.name, value),
                )
            )
    ticks = tuple(
        Tick(round(baseline - plot_h * j / TICKS, 2), axis(top * j / TICKS))
        for j in range(TICKS + 1)
    )
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    x_labels = tuple(
        XLabel(round(LEFT + i * slot + slot / 2, 2), label)
        for i, label in enumerate(labels)
        if i % every == 0
    )
    return Chart(
        id=chart_id,
        title=title,
        description=description,
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        baseline=baseline,
        bars=tuple(bars),
        ticks=ticks,
        x_labels=x_labels,
        legend=tuple((s.name, s.css) for s in series),
        empty=not any(b.height > 0 for b in bars),
    )
