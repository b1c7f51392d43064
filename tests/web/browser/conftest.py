"""The real daemon (embedded simulated modem and phones, the web console on a free port,
a temporary data directory) and Debian's Chromium driven by Playwright, shared by the
browser tests of one module; each test gets a fresh signed-in browser context."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from browserhelpers import (
    Box,
    eventually,
    new_page,
    sign_in,
)
from webhelpers import PASSWORD, cheap_argon2, web_settings

from gateway.daemon import Daemon
from gateway.services import Services
from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import require_tool

READY_WITHIN_S = 15.0
# The simulated network's status report comes this long after the phone got the text,
# so the thread shows "sent" before "delivered".
REPORT_DELAY_S = 1.5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _modem_ready(services: Services) -> Callable[[], Awaitable[bool]]:
    async def ready() -> bool:
        return any(m.state == "ready" for m in await services.overview.modems())

    return ready


@pytest.fixture(scope="module")
def _chromium() -> None:
    require_tool("chromium")
    pytest.importorskip("playwright.async_api", reason="needs the dev extras")


@pytest.fixture(scope="module")
def _cheap_passwords() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        cheap_argon2(patch)
        yield


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def box(
    tmp_path_factory: pytest.TempPathFactory, _chromium: None, _cheap_passwords: None
) -> AsyncIterator[Box]:
    tmp: Path = tmp_path_factory.mktemp("box")
    settings = web_settings(tmp, "[outbound]\nparts_per_minute = 600\n")
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
        network = daemon.simulator.network
        network.report_delay_s = REPORT_DELAY_S
        await services.auth.add_user(
            "admin", PASSWORD, role="admin", display_name="Ada Admin", actor="test"
        )
        await services.auth.add_user(
            "bob", PASSWORD, role="agent", display_name="Bob Agent", actor="test"
        )
        await eventually(_modem_ready(services), within=READY_WITHIN_S)
        yield Box(daemon.web_url, services, network, settings.simulator.number)
    finally:
        await daemon.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(_chromium: None) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Any, box: Box) -> AsyncIterator[Any]:
    """A signed-in admin's page at desk size."""
    box.dialogs.clear()
    page = await new_page(browser, box)
    await sign_in(page)
    try:
        yield page
    finally:
        await page.context.close()
