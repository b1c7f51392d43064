"""The Dashboard page (agents and admins): the support metrics of a period - headline
figures, charts by day and by week, per queue and per agent - with filters, and the
same report as CSV. The figures are MetricsService's, as GET /api/v1/metrics gives them."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiMapping

from gateway.errors import InvalidInput
from gateway.metrics.records import Grouping, ReportQuery
from web.render import render
from web.ui.common import services
from web.ui.dashboard_view import Filters, dashboard_view

MAX_AGENT_CHARS = 20


def _filters(query: MultiMapping[str]) -> Filters:
    """The filters as given (blank: the default)."""
    return Filters(
        first_day=query.get("from", "").strip()[:40],
        last_day=query.get("to", "").strip()[:40],
        queue=query.get("queue", "").strip()[:200],
        agent=query.get("agent", "").strip()[:40],
        group=query.get("group", "").strip()[:40] or Grouping.DAY.value,
    )


def _checked(request: web.Request, filters: Filters) -> tuple[ReportQuery, Grouping]:
    """The report query and grouping; InvalidInput naming the filter at fault."""
    agent = None
    if filters.agent:
        if not filters.agent.isdigit() or len(filters.agent) > MAX_AGENT_CHARS:
            raise InvalidInput("agent", f"a user from the list, not {filters.agent!r}")
        agent = int(filters.agent)
    try:
        grouping = Grouping(filters.group)
    except ValueError:
        choices = ", ".join(g.value for g in Grouping)
        raise InvalidInput(
            "group", f"one of {choices}, not {filters.group!r}"
        ) from None
    query = services(request).metrics.build_query(
        first_day=filters.first_day,
        last_day=filters.last_day,
        queue=filters.queue,
        user_id=agent,
    )
    return query, grouping


def _shown(query: ReportQuery, grouping: Grouping) -> Filters:
    """The filters of a report that ran (defaults filled in)."""
    return Filters(
        query.first_day.isoformat(),
        query.last_day.isoformat(),
        query.queue or "",
        "" if query.user_id is None else str(query.user_id),
        grouping.value,
    )


def _export_link(request: web.Request, filters: Filters) -> str:
    params = {
        "from": filters.first_day,
        "to": filters.last_day,
        "queue": filters.queue,
        "agent": filters.agent,
        "group": filters.group,
    }
    given = {k: v for k, v in params.items() if v}
    path = str(request.app.router["dashboard.export"].url_for())
    return f"{path}?{urlencode(given)}"


async def page(request: web.Request) -> web.Response:
    metrics = services(request).metrics
    typed = _filters(request.query)
    options = await metrics.options()
    try:
        query, grouping = _checked(request, typed)
    except InvalidInput as exc:  # the form again, what was typed kept, the error by it
        return render(
            request, "dashboard.html", status=400, view=None, filters=typed,
            options=options, error=exc, export=None,
        )  # fmt: skip
    filters = _shown(query, grouping)
    view = dashboard_view(await metrics.report(query), options, filters, grouping)
    return render(
        request, "dashboard.html", view=view, filters=filters, options=options,
        error=None, export=_export_link(request, filters),
    )  # fmt: skip


async def export_csv(request: web.Request) -> web.Response:
    query, grouping = _checked(request, _filters(request.query))
    text = await services(request).metrics.csv(query, grouping)
    name = f"smsgw-metrics-{query.first_day}-{query.last_day}-{grouping.value}.csv"
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
