"""MUST SHOW (issue 6): the Dashboard in real Chromium after the metrics must-show's desk
(tests/gateway/metrics/metrics_scenario.py: DST changes, Easter holidays, ratings) was
played into the daemon's database - a hand-computed figure on screen, the SVG charts with
their titles, filters and CSV export, 360 px wide, and the screenshot
artifacts/screenshots/dashboard.png."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from browserhelpers import (
    PHONE,
    SCREENSHOTS,
    Box,
    eventually,
    new_page,
    screenshot,
    sign_in,
)
from webhelpers import PASSWORD, web_settings

from gateway.daemon import Daemon
from gateway.services import Services
from tests.gateway.metrics.metrics_scenario import FIRST_DAY, INI, LAST_DAY, hours, play
from tests.gateway.metrics.metricshelpers import desk

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="module"),
]

READY_WITHIN_S = 15.0
WHOLE = f"/dashboard?from={FIRST_DAY}&to={LAST_DAY}&group=week"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _modem_ready(services: Services) -> bool:
    return any(m.state == "ready" for m in await services.overview.modems())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def box(
    tmp_path_factory: pytest.TempPathFactory, _chromium: None, _cheap_passwords: None
) -> AsyncIterator[Box]:
    """The desk played and measured with its schedules, then the daemon on its file."""
    tmp: Path = tmp_path_factory.mktemp("dashboard")
    async with desk(tmp, INI, hours=hours()) as d:
        await play(d)
        await d.metrics.measure()
    settings = web_settings(tmp, INI)
    settings = dataclasses.replace(
        settings,
        web=dataclasses.replace(settings.web, enabled=True, port=0),
        simulator=dataclasses.replace(
            settings.simulator, enabled=True, control_port=_free_port()
        ),
    )
    daemon = Daemon(settings)
    services = await daemon.start()
    try:
        assert daemon.simulator is not None
        assert daemon.web_url is not None
        await services.auth.add_user(
            "admin", PASSWORD, role="admin", display_name="Ada Admin", actor="test"
        )
        await eventually(lambda: _modem_ready(services), within=READY_WITHIN_S)
        yield Box(
            daemon.web_url,
            services,
            daemon.simulator.network,
            settings.simulator.number,
        )
    finally:
        await daemon.stop()


async def test_the_dashboard_shows_the_scenario(page: Any, box: Box) -> None:
    from playwright.async_api import expect

    await page.goto("/")
    await page.get_by_role("link", name="Dashboard").click()
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    # the filters, as a support lead uses them
    await page.get_by_label("From", exact=True).fill(FIRST_DAY)
    await page.get_by_label("To", exact=True).fill(LAST_DAY)
    await page.get_by_label("Group by").select_option("week")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url(re.compile(r"/dashboard\?from=2026-03-23&to=2026-10-31"))

    # FRT median (1800 + 82200) / 2 = 42000 s; business (1800 + 3600) / 2 = 2700 s;
    # CSAT 2 of 3; reopen 2 / 7; deflection 1 / 7 (the scenario test's arithmetic)
    frt = page.locator('[data-metric="frt"]')
    await expect(frt.locator(".tile-value")).to_have_text("11 h 40 min")
    await expect(frt.locator(".tile-business")).to_have_text(
        "Business hours: 45 min (p90 7 h)"
    )
    await expect(page.locator('[data-metric="csat"] .tile-value')).to_have_text(
        "66.7 %"
    )
    await expect(page.locator('[data-metric="reopen"] .tile-value')).to_have_text(
        "28.6 %"
    )
    await expect(page.locator('[data-metric="deflection"] .tile-value')).to_have_text(
        "14.3 %"
    )
    # six charts, each an image with its own name for assistive technology
    charts = page.get_by_role("img")
    await expect(charts).to_have_count(6)
    await expect(
        page.get_by_role("img", name=re.compile(r"^CSAT, by week"))
    ).to_be_visible()
    week14 = page.locator("#by-week tr[data-key='2026-03-30'] th")
    await expect(week14).to_have_text("2026-W14")
    agents = page.locator("#by-agent tbody th")
    await expect(agents).to_have_text(["Alice", "Bob", "(automation / nobody)"])
    # the whole page: headline, charts and tables (artifacts/screenshots/dashboard.png)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    # the CSV of the same report
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Export CSV").click()
    download = await info.value
    assert download.suggested_filename == (
        f"smsgw-metrics-{FIRST_DAY}-{LAST_DAY}-week.csv"
    )
    saved = Path(await download.path())
    text = await asyncio.to_thread(saved.read_text, encoding="utf-8")
    assert text.splitlines()[-1].startswith("total,all,6,")  # six first responses

    # a bad range is refused by the form, naming the filter
    await page.get_by_label("From", exact=True).fill("2026-11-01")
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "from: 2026-11-01 is after the end date 2026-10-31"
    )
    assert box.dialogs == []


async def test_the_dashboard_at_360_px(browser: Any, box: Box) -> None:
    from playwright.async_api import expect

    page = await new_page(browser, box, viewport=PHONE)
    try:
        await sign_in(page)
        await page.goto(WHOLE)
        await expect(page.locator('[data-metric="frt"] .tile-value')).to_have_text(
            "11 h 40 min"
        )
        # the page never scrolls sideways; wide tables scroll inside their frame
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        box_of = await page.get_by_role("img").first.bounding_box()
        assert box_of is not None
        assert box_of["width"] <= PHONE["width"]
        await screenshot(page, "dashboard-360")
        assert box.dialogs == []
    finally:
        await page.context.close()
