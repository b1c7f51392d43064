"""PURE: a report from events - totals and the breakdowns by day, week, queue and agent,
days and weeks in the report's time zone - and its CSV form."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from gateway.metrics.definitions import (
    EMPTY,
    Durations,
    Figures,
    MetricEvent,
    aggregate,
    day_bounds,
    days,
    local_day,
    week_label,
    week_start,
)
from gateway.metrics.records import Grouping, Report, ReportQuery, Row

TOTAL = "total"
NO_QUEUE = ""  # the key of conversations without a queue
NO_AGENT = "none"  # the key of events no person is attributed (the automation's)


def build_report(
    events: Sequence[MetricEvent], query: ReportQuery, names: Mapping[int, str]
) -> Report:
    """Every figure of the report over `events` (already filtered by queue and agent)."""
    tz = query.timezone
    start, end = day_bounds(tz, query.first_day, query.last_day)

    def by_day(event: MetricEvent, when: datetime) -> str:
        return local_day(when, tz).isoformat()

    def by_week(event: MetricEvent, when: datetime) -> str:
        return week_start(local_day(when, tz)).isoformat()

    def by_queue(event: MetricEvent, when: datetime) -> str:
        return event.queue or NO_QUEUE

    def by_agent(event: MetricEvent, when: datetime) -> str:
        return NO_AGENT if event.user_id is None else str(event.user_id)

    total = aggregate(events, lambda e, w: TOTAL, start=start, end=end).get(
        TOTAL, EMPTY
    )
    daily = aggregate(events, by_day, start=start, end=end)
    weekly = aggregate(events, by_week, start=start, end=end)
    queues = aggregate(events, by_queue, start=start, end=end)
    agents = aggregate(events, by_agent, start=start, end=end)
    span = days(query.first_day, query.last_day)
    mondays = sorted({week_start(d) for d in span})
    return Report(
        query=query,
        total=total,
        by_day=tuple(
            Row(d.isoformat(), _day_label(d), daily.get(d.isoformat(), EMPTY))
            for d in span
        ),
        by_week=tuple(
            Row(m.isoformat(), week_label(m), weekly.get(m.isoformat(), EMPTY))
            for m in mondays
        ),
        by_queue=tuple(
            Row(key, key or "(no queue)", queues[key]) for key in sorted(queues)
        ),
        by_agent=tuple(
            Row(key, _agent_label(key, names), agents[key])
            for key in sorted(
                agents, key=lambda k: (k == NO_AGENT, _agent_label(k, names))
            )
        ),
    )


def _day_label(day: date) -> str:
    return f"{day:%a} {day.isoformat()}"


def _agent_label(key: str, names: Mapping[int, str]) -> str:
    if key == NO_AGENT:
        return "(automation / nobody)"
    return names.get(int(key), f"user #{key}")


# ---------------------------------------------------------------------- CSV

CSV_COLUMNS = (
    "frt_count",
    "frt_mean_s",
    "frt_p50_s",
    "frt_p90_s",
    "frt_business_mean_s",
    "frt_business_p50_s",
    "frt_business_p90_s",
    "reply_count",
    "reply_mean_s",
    "reply_p50_s",
    "reply_p90_s",
    "reply_business_mean_s",
    "reply_business_p50_s",
    "reply_business_p90_s",
    "resolutions",
    "resolution_mean_s",
    "resolution_p50_s",
    "resolution_p90_s",
    "resolution_business_mean_s",
    "resolution_business_p50_s",
    "resolution_business_p90_s",
    "reopenings",
    "reopen_rate",
    "deflection_base",
    "deflected",
    "deflection_rate",
    "bot_resolutions",
    "handoffs",
    "surveys",
    "answered",
    "response_rate",
    "ratings",
    "satisfied",
    "csat",
)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}" if value % 1 else str(int(value))


def _durations(d: Durations) -> list[str]:
    return [_num(d.mean_s), _num(d.p50_s), _num(d.p90_s)]


def figures_cells(f: Figures) -> list[str]:
    """The CSV cells of one set of figures, in CSV_COLUMNS order."""
    return [
        str(f.first_response.wall.count),
        *_durations(f.first_response.wall),
        *_durations(f.first_response.business),
        str(f.reply.wall.count),
        *_durations(f.reply.wall),
        *_durations(f.reply.business),
        str(f.resolutions),
        *_durations(f.resolution.wall),
        *_durations(f.resolution.business),
        str(f.reopenings),
        _num(f.reopen_rate),
        str(f.deflection_base),
        str(f.deflected),
        _num(f.deflection_rate),
        str(f.bot_resolutions),
        str(f.handoffs),
        str(f.surveys),
        str(f.answered),
        _num(f.response_rate),
        str(f.ratings),
        str(f.satisfied),
        _num(f.csat),
    ]


def to_csv(report: Report, grouping: Grouping) -> str:
    """The breakdown as CSV (a total line last); times in seconds, rates 0-1. A cell that
    a spreadsheet would run as a formula gets a leading quote."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([grouping.value, "label", *CSV_COLUMNS])
    for row in report.rows(grouping):
        writer.writerow([_cell(row.key), _cell(row.label), *figures_cells(row.figures)])
    writer.writerow([TOTAL, "all", *figures_cells(report.total)])
    return out.getvalue()


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
