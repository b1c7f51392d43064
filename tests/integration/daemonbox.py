"""The real daemon over one simulated modem and a simulated phone network, for the
scenario tests of issues 5 and 6: `box(...)` starts it (its web server on a free port
when asked), `Box` drives the customer's phone and waits for what the daemon commits,
`api_client`/`post_json` talk to its REST API as an integration would, and the
`fast_daemon` fixture makes passwords cheap and polls short."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway import daemon as daemon_module
from gateway.auth import passwords
from gateway.config import ModemSettings, parse_settings
from gateway.daemon import Daemon
from gateway.domain import Direction, MessageRecord, MessageStatus, utcnow
from gateway.inbox.records import Actor
from gateway.outbox import dispatcher as dispatcher_module
from gateway.services import Services
from gateway.storage import queries
from gateway.storage.db import Store
from gateway.webhooks import relay as relay_module
from gateway.webhooks.relay import WebhookRelay
from modem.events import ModemState
from modem.sim.network import SimNetwork
from modem.sim.server import loopback_opener
from modem.transport import PortOpener
from tests.gateway.gwhelpers import (
    CUSTOMER,
    MODEM_NUMBERS,
    WAIT_S,
    Recorder,
    eventually,
    messages_of_contact,
)
from tests.gateway.webhooks.receiver import free_port
from tests.gateway.webhooks.test_webhook_relay import FAST

PASSWORD = "correct horse battery staple"


@pytest.fixture
def fast_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap passwords, short idle polls (a fixed clock moves only when told) and the
    relay's short test timings."""
    monkeypatch.setattr(passwords, "TIME_COST", 1)
    monkeypatch.setattr(passwords, "MEMORY_COST_KIB", 8)
    monkeypatch.setattr(passwords, "PARALLELISM", 1)
    monkeypatch.setattr(dispatcher_module, "IDLE_POLL_S", 0.05)
    monkeypatch.setattr(relay_module, "POLL_INTERVAL_S", 0.02)
    monkeypatch.setattr(relay_module, "SHUTDOWN_GRACE_S", 0.2)

    def fast(store: Any, bus: Any, settings: Any, **kwargs: Any) -> WebhookRelay:
        return WebhookRelay(store, bus, FAST, **kwargs)

    monkeypatch.setattr(daemon_module, "WebhookRelay", fast)


class Clock:
    """A clock moved by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when


@dataclass
class Box:
    network: SimNetwork
    daemon: Daemon
    services: Services
    store: Store
    recorder: Recorder
    url: str  # the web server ("" when it is off)

    def text(self, text: str, number: str = CUSTOMER) -> None:
        self.network.send_text(number, MODEM_NUMBERS[0], text)

    def phone(self, number: str = CUSTOMER) -> list[str]:
        return [m.text for m in self.network.inbox(number)]

    async def phone_gets(self, n: int, number: str = CUSTOMER) -> list[str]:
        await eventually(
            lambda: len(self.phone(number)) >= n, what=f"{n} texts on {number}"
        )
        return self.phone(number)

    async def messages(self, number: str = CUSTOMER) -> list[MessageRecord]:
        contact = await self.store.run(queries.find_contact, number)
        if contact is None:
            return []
        return await self.store.run(messages_of_contact, contact.id)

    async def inbound(self, n: int, number: str = CUSTOMER) -> list[MessageRecord]:
        """Wait until the n-th text from `number` is committed (and the automation ran
        on it: it runs in the same unit); that number's texts."""

        async def found() -> list[MessageRecord] | None:
            mine = [
                m
                for m in await self.messages(number)
                if m.direction is Direction.INBOUND
            ]
            return mine if len(mine) >= n else None

        result: list[MessageRecord] = await eventually(found, what=f"message {n}")
        return result

    async def settle(self) -> None:
        """Everything received handled, everything queued sent."""
        await self.services.inbound.drain()

        async def nothing_queued() -> bool:
            outbound = (await self.store.run(queries.message_counts)).outbound
            return not any(
                outbound.get(status)
                for status in (MessageStatus.QUEUED, MessageStatus.SENDING)
            )

        await eventually(nothing_queued, what="the queue settled")

    async def agent(self, username: str, *, online: bool = True) -> Actor:
        """An agent; `online`: signed in (a console session is what makes them so)."""
        user = await self.services.auth.add_user(
            username,
            PASSWORD,
            role="agent",
            display_name=username.title(),
            actor="test",
        )
        if online:
            await self.services.auth.login(username, PASSWORD, address="127.0.0.1")
        return Actor(f"user:{username}", user.id)


@asynccontextmanager
async def box(
    tmp_path: Path,
    ini: str = "",
    *,
    web: bool = False,
    clock: Callable[[], datetime] = utcnow,
) -> AsyncIterator[Box]:
    """The daemon over one simulated modem, its web server on a free port when `web`."""
    text = textwrap.dedent(
        f"""
        [gateway]
        default_region = GB
        timezone = Europe/London
        [web]
        enabled = {"yes" if web else "no"}
        host = 127.0.0.1
        port = {free_port()}
        [simulator]
        enabled = no
        [outbound]
        parts_per_minute = 600
        [modem:usb0]
        port = socket://127.0.0.1:9
        """
    ) + textwrap.dedent(ini)
    settings = parse_settings(text, base_dir=tmp_path, source="gateway.ini")
    network = SimNetwork()
    sim = network.add_modem(MODEM_NUMBERS[0])

    def opener_for(config: ModemSettings) -> PortOpener:
        return loopback_opener(sim)

    timers = asyncio.create_task(network.run())
    daemon = Daemon(settings, clock=clock, opener_for=opener_for)
    services = await daemon.start()
    assert daemon.store is not None
    recorder = Recorder(services.bus)
    try:
        for modem in services.modems:
            await modem.wait_state(ModemState.READY, WAIT_S)  # type: ignore[attr-defined]
        yield Box(
            network, daemon, services, daemon.store, recorder, daemon.web_url or ""
        )
    finally:
        await recorder.close()
        await daemon.stop()
        timers.cancel()
        await asyncio.gather(timers, return_exceptions=True)


@asynccontextmanager
async def api_client(b: Box, username: str = "crm") -> AsyncIterator[Any]:
    """An HTTP client of the box's API with a bearer token of an agent `username`."""
    await b.services.auth.add_user(username, PASSWORD, role="agent", actor="test")
    made = await b.services.auth.create_token(username, "crm", actor="test")
    headers = {"Authorization": f"Bearer {made.token}"}
    async with aiohttp.ClientSession(base_url=b.url, headers=headers) as session:
        yield session


async def post_json(session: Any, path: str, body: dict[str, Any]) -> Any:
    async with session.post(path, json=body) as response:
        data = await response.json()
        assert response.status in (200, 201, 202), (response.status, data)
        return data
