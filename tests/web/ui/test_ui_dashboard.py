"""The Dashboard page over the real app and services, after the metrics must-show's desk
(tests/gateway/metrics/metrics_scenario.py) was played into the same database: the
headline figures are the hand-computed ones, written as people read them; charts are
SVG with a title and a description; per queue and per agent tables; filters; CSV export;
bad filters refused naming the filter; hostile names escaped."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from webhelpers import Clock, sign_in, web_settings

from gateway.config import Settings
from gateway.daemon import Daemon
from gateway.services import Services
from tests.gateway.metrics.metrics_scenario import (
    FIRST_DAY,
    INI,
    LAST_DAY,
    hours,
    play,
    z,
)
from tests.gateway.metrics.metricshelpers import desk

RANGE = f"from={FIRST_DAY}&to={LAST_DAY}"
HOSTILE_QUEUE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return web_settings(tmp_path, INI)


@pytest.fixture
async def services(
    tmp_path: Path, settings: Settings, clock: Clock
) -> AsyncIterator[Services]:
    """The desk played (and measured with its schedules), then the daemon on its file."""
    async with desk(tmp_path, INI, hours=hours()) as d:
        await play(d)
        # one more conversation, in a queue whose name is markup
        cid = await d.text("+447700900077", "Hi", z(5, 5, 12))
        await d.route(cid, HOSTILE_QUEUE)
        await d.bot_resolve(cid, z(5, 5, 12, 30))
        await d.metrics.measure()
    daemon = Daemon(settings, clock=clock)
    yield await daemon.start()
    await daemon.stop()


@pytest.fixture
async def agent(client: TestClient[Any, Any]) -> TestClient[Any, Any]:
    await sign_in(client, "agent")
    return client


def tile(page: str, key: str) -> str:
    """The text of one headline tile, tags dropped, spaces squeezed."""
    match = re.search(rf'data-metric="{key}">(.*?)</li>', page, re.S)
    assert match is not None, key
    return " ".join(re.sub(r"<[^>]+>", " ", match[1]).split())


async def test_the_headline_figures_are_the_hand_computed_ones(
    agent: TestClient[Any, Any],
) -> None:
    response = await agent.get(f"/dashboard?{RANGE}&group=week")
    assert response.status == 200
    page = await response.text()
    assert '<a href="/dashboard" aria-current="page">Dashboard</a>' in page
    # FRT wall p50 (1800 + 82200) / 2 = 42000 s = 11 h 40 min; p90 320400 s = 89 h =
    # 3 d 17 h; business p50 2700 s = 45 min, p90 25200 s = 7 h (metrics scenario test)
    assert tile(page, "frt") == (
        "First response, median 11 h 40 min Business hours: 45 min (p90 7 h) "
        "p90 3 d 17 h · 6 first responses"
    )
    # resolution wall p50 41400 s = 11 h 30 min (the hostile-queue one adds 1800 s:
    # 8 values now, p50 = (3600 + 41400) / 2 = 22500 s = 6 h 15 min)
    assert tile(page, "resolution").startswith("Resolution time, median 6 h 15 min")
    # 2 reopenings / 8 resolutions; 2 deflected (D, the hostile one) of 8
    assert tile(page, "reopen") == "Reopen rate 25 % 2 reopened of 8 resolved"
    assert tile(page, "deflection") == (
        "Deflection rate 25 % 2 of 8 resolved with no human reply"
    )
    # CSAT 2 of 3 ratings 4-5; response 3 of 4 surveys
    assert tile(page, "csat") == "CSAT 66.7 % 2 of 3 ratings were 4 or 5"
    assert tile(page, "response") == (
        "Survey response rate 75 % 3 of 4 surveys answered with a rating"
    )


async def test_charts_and_tables(agent: TestClient[Any, Any]) -> None:
    page = await (await agent.get(f"/dashboard?{RANGE}&group=week")).text()
    charts = re.findall(r'<svg [^>]*role="img"[^>]*>.*?</svg>', page, re.S)
    assert len(charts) == 6  # resolved, FRT and CSAT; by day and by week
    for chart in charts:
        assert re.search(r"<title id=\"[^\"]+\">[^<]+</title>", chart)
        assert re.search(r"<desc id=\"[^\"]+\">[^<]+</desc>", chart)
    assert "<script" not in page.split("</head>", 1)[1]  # no script draws them
    # a bar says what it is: W14's resolutions by people (A, E twice)
    assert "<title>2026-W14: 3 resolved by people</title>" in page
    assert "<title>Sun 2026-03-29: 1 resolved by the automation</title>" in page
    # the breakdown by week, and the per-queue and per-agent tables
    week14 = r'<tr data-key="2026-03-30"><th scope="row" title="2026-W14">2026-W14<'
    assert re.search(week14, page)
    queues = page.split('id="by-queue"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<th scope="row"[^>]*>([^<]*)</th>', queues) == [
        "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;",
        "support",
        "weekend",
        "All",
    ]
    agents = page.split('id="by-agent"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<th scope="row"[^>]*>([^<]*)</th>', agents) == [
        "Alice",
        "Bob",
        "(automation / nobody)",
        "All",
    ]
    assert HOSTILE_QUEUE not in page
    # CSV export keeps the filters
    assert (
        f'href="/dashboard/export.csv?from={FIRST_DAY}&amp;to={LAST_DAY}&amp;group=week"'
        in page
    )


async def test_filters_narrow_the_figures(agent: TestClient[Any, Any]) -> None:
    page = await (
        await agent.get(f"/dashboard?{RANGE}&queue=weekend&group=queue")
    ).text()
    # C and D only: C's FRT 22 h 50 min (12 h business); 1 of 2 deflected
    assert tile(page, "frt").startswith(
        "First response, median 22 h 50 min Business hours: 12 h (p90 12 h)"
    )
    assert tile(page, "deflection").startswith("Deflection rate 50 %")
    assert 'id="by-queue"' in page
    assert 'id="by-week"' not in page  # grouped by queue: the queue table is it
    assert '<option value="weekend" selected>weekend</option>' in page


async def test_csv_export(agent: TestClient[Any, Any]) -> None:
    response = await agent.get(f"/dashboard/export.csv?{RANGE}&group=queue")
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="smsgw-metrics-{FIRST_DAY}-{LAST_DAY}-queue.csv"'
    )
    lines = (await response.text()).splitlines()
    assert lines[0].startswith("queue,label,frt_count,frt_mean_s")
    assert [line.split(",", 1)[0] for line in lines[1:]] == [
        '"<img src=x onerror=""alert(1)"">"',
        "support",
        "weekend",
        "total",
    ]
    # support: FRTs of A, B twice, E twice
    assert lines[2].split(",")[2] == "5"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13-01", "from: a date as YYYY-MM-DD, not &#39;2026-13-01&#39;"),
        ("from=2026-04-02&to=2026-04-01", "from: 2026-04-02 is after the end date"),
        ("group=month", "group: one of day, week, queue, agent, not &#39;month&#39;"),
        ("agent=abc", "agent: a user from the list, not &#39;abc&#39;"),
        ("from=2020-01-01&to=2026-01-01", "from: at most 400 days in one report"),
    ],
)
async def test_bad_filters_are_refused_naming_the_filter(
    agent: TestClient[Any, Any], query: str, message: str
) -> None:
    response = await agent.get(f"/dashboard?{query}")
    assert response.status == 400
    page = await response.text()
    assert f'<p class="alert" role="alert" id="filter-error">{message}' in page
    assert 'aria-invalid="true"' in page
    assert 'data-metric="frt"' not in page
    response = await agent.get(f"/dashboard/export.csv?{query}")
    assert response.status == 400
