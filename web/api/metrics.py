"""GET /api/v1/metrics: the support metrics report - the Dashboard's figures - as JSON.

One call to MetricsService.report (the dashboard makes the same one), rendered here:
totals and one breakdown (`group`: day, week, queue or agent), every time figure in
wall-clock and in business seconds. Documented in web/api/metrics_docs.py."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from multidict import MultiMapping

from gateway.metrics.definitions import Durations, Figures, Timed
from gateway.metrics.records import Grouping, Report, ReportQuery, Row
from gateway.metrics.service import DEFAULT_REPORT_DAYS, MAX_QUEUE_CHARS
from web.api.common import services
from web.api.fields import Integer, JsonDict, Query, Text
from web.api.objects import respond

DATE_CHARS = 10  # YYYY-MM-DD

REPORT = Query(
    (
        Text(
            name="from",
            description="The first day (YYYY-MM-DD, in [metrics] timezone), inclusive. "
            f"Default: {DEFAULT_REPORT_DAYS - 1} days before `to`.",
            max_length=DATE_CHARS,
            format="date",
            example="2026-03-01",
        ),
        Text(
            name="to",
            description="The last day (YYYY-MM-DD), inclusive. Default: today.",
            max_length=DATE_CHARS,
            format="date",
            example="2026-03-31",
        ),
        Text(
            name="queue",
            description="Only conversations in this queue.",
            max_length=MAX_QUEUE_CHARS,
        ),
        Integer(name="agent", description="Only what this user (id) did or was rated."),
        Text(
            name="group",
            description="The breakdown in `groups`: by day, by ISO week (Monday "
            "first), by queue or by agent.",
            max_length=5,
            values=tuple(g.value for g in Grouping),
            default=Grouping.DAY.value,
        ),
    )
)


@dataclass(frozen=True, slots=True)
class ReportRequest:
    query: ReportQuery
    group: Grouping

    @classmethod
    def parse(cls, request: web.Request, query: MultiMapping[str]) -> ReportRequest:
        values = REPORT.read(query)
        report_query = services(request).metrics.build_query(
            first_day=values.text_or_none("from"),
            last_day=values.text_or_none("to"),
            queue=values.text_or_none("queue"),
            user_id=values.integer_or_none("agent"),
        )
        return cls(report_query, Grouping(values.text("group")))


async def report(request: web.Request) -> web.Response:
    wanted = ReportRequest.parse(request, request.query)
    result = await services(request).metrics.report(wanted.query)
    return respond(report_object(result, wanted.group))


def report_object(report: Report, group: Grouping) -> JsonDict:
    query = report.query
    return {
        "object": "metrics_report",
        "from": query.first_day.isoformat(),
        "to": query.last_day.isoformat(),
        "timezone": query.timezone.key,
        "queue": query.queue,
        "agent": query.user_id,
        "group": group.value,
        "total": figures_object(report.total),
        "groups": [_row(row) for row in report.rows(group)],
    }


def _row(row: Row) -> JsonDict:
    return {"key": row.key, "label": row.label, "figures": figures_object(row.figures)}


def figures_object(f: Figures) -> JsonDict:
    """Every figure of one period or group; rates 0-1 (null when nothing to divide by)."""
    return {
        "first_response": _timed(f.first_response),
        "reply": _timed(f.reply),
        "resolution": _timed(f.resolution),
        "resolutions": f.resolutions,
        "bot_resolutions": f.bot_resolutions,
        "reopenings": f.reopenings,
        "reopen_rate": f.reopen_rate,
        "deflection_base": f.deflection_base,
        "deflected": f.deflected,
        "deflection_rate": f.deflection_rate,
        "handoffs": f.handoffs,
        "surveys": f.surveys,
        "answered": f.answered,
        "response_rate": f.response_rate,
        "ratings": f.ratings,
        "satisfied": f.satisfied,
        "csat": f.csat,
        "rating_counts": list(f.rating_counts),
    }


def _timed(t: Timed) -> JsonDict:
    return {"wall": _durations(t.wall), "business": _durations(t.business)}


def _durations(d: Durations) -> JsonDict:
    return {"count": d.count, "mean_s": d.mean_s, "p50_s": d.p50_s, "p90_s": d.p90_s}
