"""GET /api/v1/metrics through the real route and services: the figures of a small desk
worked out by hand, the same ones the service gives the Dashboard, each breakdown and
filter, and bad input refused naming the parameter (every answer checked against the
OpenAPI document by CheckedClient).

The desk (report time zone UTC, no opening hours set: business seconds = wall):
  C1  Sun 1 Mar 09:00 the customer writes; the agent replies 09:10 (FRT 600 s) and
      resolves 09:30 (resolution 1800 s).
  C2  Mon 2 Mar 10:00 another customer writes; the agent resolves it 10:05 without a
      reply (resolution 300 s): deflected - resolved with no human reply.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from apihelpers import CUSTOMER, OTHER, CheckedClient, inbound
from webhelpers import T0, Clock, assert_error_shape

from gateway.domain import ConversationStatus, ThreadedMessage
from gateway.inbox.records import Actor
from gateway.services import Services
from gateway.storage import metrics_queries
from gateway.storage.db import Store
from web.api.metrics import figures_object

REPORT = "/api/v1/metrics?from=2026-03-01&to=2026-03-02"


async def _text(store: Store, sender: str, at: datetime) -> ThreadedMessage:
    threaded = await inbound(store, "help please", sender=sender, now=at)
    await store.run(lambda: metrics_queries.record_inbound(threaded, now=at))
    return threaded


@pytest.fixture
async def desk(services: Services, store: Store, clock: Clock) -> int:
    """The two conversations above; the agent's user id."""
    user = next(u for u in await services.auth.list_users() if u.username == "agent")
    who = Actor("user:agent", user.id)
    c1 = (await _text(store, CUSTOMER, T0)).conversation.id
    clock.now = T0 + timedelta(minutes=10)
    await services.inbox.reply(c1, "On it.", actor=who)
    clock.now = T0 + timedelta(minutes=30)
    await services.inbox.set_status(c1, ConversationStatus.RESOLVED, actor=who)
    day2 = T0 + timedelta(days=1, hours=1)
    c2 = (await _text(store, OTHER, day2)).conversation.id
    clock.now = day2 + timedelta(minutes=5)
    await services.inbox.set_status(c2, ConversationStatus.RESOLVED, actor=who)
    return user.id


def durations(body: dict[str, Any]) -> tuple[Any, ...]:
    return (body["count"], body["mean_s"], body["p50_s"], body["p90_s"])


async def test_the_report_matches_the_hand_figures_and_the_dashboard(
    agent: CheckedClient, services: Services, desk: int
) -> None:
    response = await agent.get(REPORT)
    assert response.status == 200
    body = await response.json()
    assert (body["object"], body["from"], body["to"], body["group"]) == (
        "metrics_report",
        "2026-03-01",
        "2026-03-02",
        "day",
    )
    assert (body["timezone"], body["queue"], body["agent"]) == ("UTC", None, None)
    total = body["total"]
    # one first response of 600 s, wall and business alike (no opening hours set)
    for clock in ("wall", "business"):
        assert durations(total["first_response"][clock]) == (1, 600, 600, 600)
    # resolutions 1800 s and 300 s: mean 1050, median 1050, p90 300 + 0.9 * 1500 = 1650
    assert durations(total["resolution"]["wall"]) == (2, 1050, 1050, 1650)
    assert (total["resolutions"], total["reopenings"], total["reopen_rate"]) == (
        2,
        0,
        0,
    )
    # C2 was resolved with no human reply: 1 of 2
    assert (total["deflection_base"], total["deflected"]) == (2, 1)
    assert total["deflection_rate"] == 0.5
    # nobody rated anything: the rates have nothing to divide by
    assert (total["surveys"], total["csat"], total["response_rate"]) == (0, None, None)
    assert total["rating_counts"] == [0, 0, 0, 0, 0]
    # by day: C1 on the 1st, C2 on the 2nd
    days = {g["key"]: g["figures"] for g in body["groups"]}
    assert list(days) == ["2026-03-01", "2026-03-02"]
    assert days["2026-03-01"]["first_response"]["wall"]["count"] == 1
    assert days["2026-03-02"]["deflected"] == 1
    # the dashboard's figures are the service's report: the same numbers
    query = services.metrics.build_query(first_day="2026-03-01", last_day="2026-03-02")
    report = await services.metrics.report(query)
    assert total == figures_object(report.total)
    assert [g["figures"] for g in body["groups"]] == [
        figures_object(row.figures) for row in report.by_day
    ]


async def test_each_grouping_and_filter(agent: CheckedClient, desk: int) -> None:
    weeks = await (await agent.get(f"{REPORT}&group=week")).json()
    # Sun 1 Mar closes ISO week 9; Mon 2 Mar opens week 10
    assert [(g["key"], g["label"]) for g in weeks["groups"]] == [
        ("2026-02-23", "2026-W09"),
        ("2026-03-02", "2026-W10"),
    ]
    queues = await (await agent.get(f"{REPORT}&group=queue")).json()
    assert [(g["key"], g["figures"]["resolutions"]) for g in queues["groups"]] == [
        ("", 2)
    ]
    agents = await (await agent.get(f"{REPORT}&group=agent")).json()
    mine = next(g for g in agents["groups"] if g["key"] == str(desk))
    assert mine["figures"]["first_response"]["wall"]["count"] == 1
    only = await (await agent.get(f"{REPORT}&agent={desk}")).json()
    assert only["agent"] == desk
    assert only["total"]["first_response"]["wall"]["count"] == 1
    nobody = await (await agent.get(f"{REPORT}&queue=billing")).json()
    assert nobody["queue"] == "billing"
    assert nobody["total"]["resolutions"] == 0
    one_day = await (
        await agent.get("/api/v1/metrics?from=2026-03-02&to=2026-03-02")
    ).json()
    assert one_day["total"]["resolutions"] == 1


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("from=2026-13-01", "from", "YYYY-MM-DD"),
        ("to=yesterday", "to", "YYYY-MM-DD"),
        ("from=2026-03-05&to=2026-03-01", "from", "after the end date"),
        ("from=2024-01-01&to=2026-03-01", "from", "at most 400 days"),
        ("group=month", "group", "one of day, week, queue, agent"),
        ("agent=0", "agent", "1 to"),
        ("agent=alice", "agent", "a whole number"),
        ("from=2026-03-01&from=2026-03-02", "from", "more than once"),
        ("colour=blue", "colour", ""),
    ],
)
async def test_bad_input_is_refused_naming_the_parameter(
    agent: CheckedClient, query: str, field: str, words: str
) -> None:
    response = await agent.get(f"/api/v1/metrics?{query}")
    body = await assert_error_shape(response, 400, "invalid_input", field)
    assert words in body["error"]


async def test_it_needs_a_caller(anonymous: CheckedClient) -> None:
    await assert_error_shape(await anonymous.get(REPORT), 401, "unauthorized")
