"""The support metrics API's half of the OpenAPI document (web/api/openapi.py adds it):
the report's schemas and the Operation of GET /api/v1/metrics (web/api/metrics.py)."""

from __future__ import annotations

from gateway.metrics.records import Grouping
from web.api import metrics
from web.api.openapi import (
    JsonSchema,
    Operation,
    _enum,
    _int,
    _maybe,
    _object,
    _string,
    ref,
)


def _seconds(description: str) -> JsonSchema:
    return _maybe({"type": "number", "minimum": 0, "description": description})


def _rate(description: str) -> JsonSchema:
    return _maybe(
        {"type": "number", "minimum": 0, "maximum": 1, "description": description}
    )


DURATIONS = _object(
    None,
    "Durations in seconds: how many, their mean, median and 90th percentile (null "
    "when there are none).",
    {
        "count": _int("", 0),
        "mean_s": _seconds("Mean."),
        "p50_s": _seconds("Median."),
        "p90_s": _seconds("90th percentile (linear between closest ranks)."),
    },
)
TIMED = _object(
    None,
    "One time metric counted in wall-clock seconds and in business seconds (the "
    "queue's opening hours in its time zone, holidays excluded).",
    {"wall": ref("MetricsDurations"), "business": ref("MetricsDurations")},
)
FIGURES = _object(
    None,
    "Every support metric of a period or group (definitions: the README's Support "
    "metrics).",
    {
        "first_response": ref("MetricsTimed"),
        "reply": ref("MetricsTimed"),
        "resolution": ref("MetricsTimed"),
        "resolutions": _int("By people and by the automation.", 0),
        "bot_resolutions": _int("By the automation.", 0),
        "reopenings": _int("", 0),
        "reopen_rate": _rate("reopenings / resolutions."),
        "deflection_base": _int(
            "Resolutions of cycles in which the customer wrote.", 0
        ),
        "deflected": _int("Of those, with no human reply.", 0),
        "deflection_rate": _rate("deflected / deflection_base."),
        "handoffs": _int("Conversations the automation handed to a person.", 0),
        "surveys": _int("CSAT surveys sent.", 0),
        "answered": _int("Of those, answered with a rating.", 0),
        "response_rate": _rate("answered / surveys."),
        "ratings": _int("Ratings given.", 0),
        "satisfied": _int("Ratings of 4 or 5.", 0),
        "csat": _rate("satisfied / ratings."),
        "rating_counts": {
            "type": "array",
            "description": "How many ratings of 1, 2, 3, 4 and 5.",
            "items": {"type": "integer", "minimum": 0},
            "minItems": 5,
            "maxItems": 5,
        },
    },
)
GROUP = _object(
    None,
    "One line of the breakdown.",
    {
        "key": _string(
            "The day (YYYY-MM-DD), the week's Monday, the queue (empty: none) or the "
            "user id (none: the automation or nobody)."
        ),
        "label": _string("What people read."),
        "figures": ref("MetricsFigures"),
    },
)
REPORT = _object(
    "metrics_report",
    "The support metrics of a period, as the Dashboard shows them.",
    {
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "timezone": _string("The report's time zone ([metrics] timezone)."),
        "queue": _maybe(_string("The queue filter.")),
        "agent": _maybe(_int("The agent filter (a user id).", 1)),
        "group": _enum(tuple(g.value for g in Grouping)),
        "total": ref("MetricsFigures"),
        "groups": {"type": "array", "items": ref("MetricsGroup")},
    },
)

SCHEMAS: dict[str, JsonSchema] = {
    "MetricsReport": REPORT,
    "MetricsGroup": GROUP,
    "MetricsFigures": FIGURES,
    "MetricsTimed": TIMED,
    "MetricsDurations": DURATIONS,
}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "api.metrics",
        "GET",
        "/api/v1/metrics",
        "metrics",
        "Support metrics: first response, resolution, reopen, deflection, CSAT",
        {200: ("MetricsReport", "Totals and the breakdown by `group`.")},
        query=metrics.REPORT,
        description="The Dashboard's figures for days `from` to `to` in the report "
        "time zone (at most 400 days; default the last 30). Each time figure comes "
        "in wall-clock and in business seconds. 400 names the parameter at fault: "
        "a date that is not YYYY-MM-DD, `from` after `to`, an unknown `group`.",
    ),
)
