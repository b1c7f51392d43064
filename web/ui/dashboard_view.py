"""PURE: the Dashboard page's view of a metrics report - headline figures, charts by day
and by week, and table rows - with every number already written as people read it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from gateway.metrics.definitions import Durations, Figures
from gateway.metrics.records import Grouping, Report, ReportOptions, Row
from web.ui.charts import Chart, Series, bar_chart

DASH = "–"
MINUTE, HOUR, DAY = 60, 3600, 86400


def duration(seconds: float | None) -> str:
    """42 s, 12 min, 3 h 5 min, 2 d 4 h; a dash for none."""
    if seconds is None:
        return DASH
    s = round(seconds)
    if s < MINUTE:
        return f"{s} s"
    if s < HOUR:
        return f"{round(seconds / MINUTE)} min"
    if s < DAY:
        h, m = divmod(round(seconds / MINUTE), 60)
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(round(seconds / HOUR), 24)
    return f"{d} d {h} h" if h else f"{d} d"


def percent(rate: float | None) -> str:
    """28.6 %, 50 %; a dash when there was nothing to divide by."""
    if rate is None:
        return DASH
    value = rate * 100
    return f"{value:.0f} %" if abs(value - round(value)) < 0.05 else f"{value:.1f} %"


@dataclass(frozen=True, slots=True)
class Headline:
    """One figure of the top row: the value, how it was counted, wall and business."""

    key: str
    label: str
    value: str
    detail: str
    business: str | None = None  # the same figure in business hours, when it has one


@dataclass(frozen=True, slots=True)
class TableRow:
    key: str
    label: str
    cells: tuple[str, ...]


COLUMNS = (
    "Resolved",
    "First response, median (wall / business)",
    "First response, p90 (wall / business)",
    "Resolution, median (wall / business)",
    "Reopen rate",
    "Deflection",
    "CSAT",
    "Survey response",
)


def _pair(wall: float | None, business: float | None) -> str:
    return f"{duration(wall)} / {duration(business)}"


def cells(f: Figures) -> tuple[str, ...]:
    """A table row's cells, in COLUMNS order."""
    frt, res = f.first_response, f.resolution
    return (
        str(f.resolutions),
        _pair(frt.wall.p50_s, frt.business.p50_s),
        _pair(frt.wall.p90_s, frt.business.p90_s),
        _pair(res.wall.p50_s, res.business.p50_s),
        percent(f.reopen_rate),
        percent(f.deflection_rate),
        percent(f.csat),
        percent(f.response_rate),
    )


def _timing(d: Durations, what: str) -> str:
    if d.count == 0:
        return f"no {what} yet"
    return f"p90 {duration(d.p90_s)} · {d.count} {what}"


def headlines(f: Figures) -> tuple[Headline, ...]:
    frt, res = f.first_response, f.resolution
    return (
        Headline(
            "frt",
            "First response, median",
            duration(frt.wall.p50_s),
            _timing(frt.wall, "first responses"),
            f"{duration(frt.business.p50_s)} (p90 {duration(frt.business.p90_s)})",
        ),
        Headline(
            "resolution",
            "Resolution time, median",
            duration(res.wall.p50_s),
            _timing(res.wall, "resolutions"),
            f"{duration(res.business.p50_s)} (p90 {duration(res.business.p90_s)})",
        ),
        Headline(
            "reopen",
            "Reopen rate",
            percent(f.reopen_rate),
            f"{f.reopenings} reopened of {f.resolutions} resolved",
        ),
        Headline(
            "deflection",
            "Deflection rate",
            percent(f.deflection_rate),
            f"{f.deflected} of {f.deflection_base} resolved with no human reply",
        ),
        Headline(
            "csat",
            "CSAT",
            percent(f.csat),
            f"{f.satisfied} of {f.ratings} ratings were 4 or 5",
        ),
        Headline(
            "response",
            "Survey response rate",
            percent(f.response_rate),
            f"{f.answered} of {f.surveys} surveys answered with a rating",
        ),
    )


def time_unit(values: Sequence[float | None]) -> tuple[float, str]:
    """(seconds per unit, its symbol) to draw these durations in: min, h or d."""
    longest = max((v for v in values if v is not None), default=0.0)
    if longest >= 3 * DAY:
        return DAY, "d"
    if longest >= 2 * HOUR:
        return HOUR, "h"
    return MINUTE, "min"


def _short(row: Row, grouping: Grouping) -> str:
    if grouping is Grouping.DAY:
        return date.fromisoformat(row.key).strftime("%d %b")
    return row.label.split("-", 1)[-1]  # 2026-W14 -> W14


def charts(rows: Sequence[Row], grouping: Grouping, period: str) -> tuple[Chart, ...]:
    """Resolutions, the first response median and CSAT along days or weeks."""
    labels = [_short(r, grouping) for r in rows]
    full = {short: row.label for short, row in zip(labels, rows, strict=True)}
    prefix = f"chart-{grouping.value}"

    people = tuple(
        float(r.figures.resolutions - r.figures.bot_resolutions) for r in rows
    )
    bots = tuple(float(r.figures.bot_resolutions) for r in rows)
    wall = tuple(r.figures.first_response.wall.p50_s for r in rows)
    business = tuple(r.figures.first_response.business.p50_s for r in rows)
    scale, unit = time_unit(wall + business)

    def scaled(values: tuple[float | None, ...]) -> tuple[float | None, ...]:
        return tuple(None if v is None else v / scale for v in values)

    csat = tuple(r.figures.csat for r in rows)
    rated = sum(r.figures.ratings for r in rows)
    return (
        bar_chart(
            f"{prefix}-resolved",
            f"Conversations resolved, by {period}",
            labels,
            (
                Series("by people", people, "s1"),
                Series("by the automation", bots, "s2"),
            ),
            axis=lambda v: f"{v:g}",
            tooltip=lambda label, name, v: f"{full[label]}: {v:g} resolved {name}",
            stacked=True,
            whole=True,
            description=f"{int(sum(people))} resolved by people and {int(sum(bots))} "
            f"by the automation over {len(rows)} {period}s.",
        ),
        bar_chart(
            f"{prefix}-frt",
            f"First response time, median, by {period}",
            labels,
            (
                Series("wall clock", scaled(wall), "s1"),
                Series("business hours", scaled(business), "s3"),
            ),
            axis=lambda v: f"{v:g} {unit}",
            tooltip=lambda label, name, v: (
                f"{full[label]}: {duration(v * scale)} ({name})"
            ),
            description=f"The median time to the first human reply each {period}, "
            "in wall-clock time and in business hours; no bar where nobody was "
            "answered.",
        ),
        bar_chart(
            f"{prefix}-csat",
            f"CSAT, by {period}",
            labels,
            (Series("satisfied (4-5)", csat, "s4"),),
            axis=percent,
            tooltip=lambda label, name, v: f"{full[label]}: {percent(v)} {name}",
            maximum=1.0,
            description=f"The share of ratings of 4 or 5 each {period} ({rated} "
            "ratings in all); no bar where nobody rated.",
        ),
    )


@dataclass(frozen=True, slots=True)
class Filters:
    """What the form shows: the values as typed (kept after an error)."""

    first_day: str
    last_day: str
    queue: str
    agent: str
    group: str


@dataclass(frozen=True, slots=True)
class DashboardView:
    filters: Filters
    options: ReportOptions
    groupings: tuple[str, ...]
    timezone: str
    headlines: tuple[Headline, ...]
    day_charts: tuple[Chart, ...]
    week_charts: tuple[Chart, ...]
    columns: tuple[str, ...]
    breakdown: tuple[TableRow, ...]  # by the chosen day or week grouping
    by_queue: tuple[TableRow, ...]
    by_agent: tuple[TableRow, ...]
    total: tuple[str, ...]


def _rows(rows: Sequence[Row]) -> tuple[TableRow, ...]:
    return tuple(TableRow(r.key, r.label, cells(r.figures)) for r in rows)


def dashboard_view(
    report: Report, options: ReportOptions, filters: Filters, grouping: Grouping
) -> DashboardView:
    breakdown = (
        report.rows(grouping) if grouping in (Grouping.DAY, Grouping.WEEK) else ()
    )
    return DashboardView(
        filters=filters,
        options=options,
        groupings=tuple(g.value for g in Grouping),
        timezone=report.query.timezone.key,
        headlines=headlines(report.total),
        day_charts=charts(report.by_day, Grouping.DAY, "day"),
        week_charts=charts(report.by_week, Grouping.WEEK, "week"),
        columns=COLUMNS,
        breakdown=_rows(breakdown),
        by_queue=_rows(report.by_queue),
        by_agent=_rows(report.by_agent),
        total=cells(report.total),
    )
