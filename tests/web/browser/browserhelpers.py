"""Helpers for the browser tests (imported by name: tests/ has no packages): the running
box as a test sees it, a fresh page, signing in, screenshots."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webhelpers import PASSWORD

from gateway.services import Services
from modem.sim.network import SimNetwork
from tests.conftest import ROOT

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
EXPECT_TIMEOUT_MS = 10_000
WITHIN_S = 10.0
POLL_S = 0.05
DESK = {"width": 1366, "height": 820}
PHONE = {"width": 360, "height": 740}


@dataclass
class Box:
    """The running gateway as a test sees it."""

    url: str
    services: Services
    network: SimNetwork
    modem_number: str
    dialogs: list[str] = field(default_factory=list)

    def text_from(self, phone: str, text: str) -> None:
        """A simulated phone texts the box (as POST /phones/{n}/send would)."""
        self.network.send_text(phone, self.modem_number, text)

    def phone_inbox(self, phone: str) -> list[str]:
        return [m.text for m in self.network.inbox(phone)]


async def eventually(
    check: Callable[[], Awaitable[bool] | bool], *, within: float = WITHIN_S
) -> None:
    """Poll `check` until it is true (the simulated world runs on its own clock)."""
    async with asyncio.timeout(within):
        while True:
            value = check()
            if not isinstance(value, bool):
                value = await value
            if value:
                return
            await asyncio.sleep(POLL_S)


async def new_page(browser: Any, box: Box, *, viewport: dict[str, int] = DESK) -> Any:
    """A fresh context and page; alert()/confirm() dialogs, script errors and CSP
    refusals are recorded in `box.dialogs` (tests assert it stays empty)."""
    from playwright.async_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    context = await browser.new_context(viewport=viewport, base_url=box.url)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    page = await context.new_page()

    async def on_dialog(dialog: Any) -> None:
        box.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: box.dialogs.append(f"page error: {error}"))
    page.on("console", lambda msg: _console(box, msg))
    return page


def _console(box: Box, msg: Any) -> None:
    """Script errors and CSP refusals count; an answer's HTTP status (a refused reply's
    409, which the page shows) is no error of the page's."""
    if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
        box.dialogs.append(f"console: {msg.text}")


async def sign_in(page: Any, username: str = "admin") -> None:
    await page.goto("/login")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/")


async def screenshot(page: Any, name: str) -> Path:
    """Kept under artifacts/screenshots/ (gitignored; CI keeps it as an artifact)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path
