"""A driver under test: a real `Modem` on a simulated network, with its events recorded."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import pytest

from modem import driver
from modem.at import commands
from modem.driver import Modem, ModemOptions
from modem.events import ModemEvent, ModemState, SmsReceived
from modem.pdu import Reassembler
from modem.pdu.types import Message
from modem.sim.device import SimModem
from modem.sim.network import SimNetwork
from modem.sim.server import Manipulator, loopback_opener
from modem.transport import PortOpener

WAIT_S = 10.0
MODEM_NUMBER = "+447700900000"
PHONE = "+447700900123"

E = TypeVar("E")


def fast_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrink the driver's waits so recovery happens within a test's patience."""
    monkeypatch.setattr(driver, "RECONNECT_MIN_S", 0.01)
    monkeypatch.setattr(driver, "RECONNECT_MAX_S", 0.05)
    monkeypatch.setattr(driver, "WAKE_TIMEOUT_S", 0.2)
    monkeypatch.setattr(driver, "BOOT_TIMEOUT_S", 2.0)
    monkeypatch.setattr(driver, "POLL_INTERVAL_S", 0.05)
    monkeypatch.setattr(driver, "SIM_POLL_S", 0.01)
    monkeypatch.setattr(driver, "SIM_LOCKED_RETRY_S", 0.05)


@dataclass
class Rig:
    """The network, the simulated modem, and our driver talking to it."""

    network: SimNetwork
    sim: SimModem
    modem: Modem
    events: list[ModemEvent] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def on_event(self, event: ModemEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(
        self, predicate: Callable[[], bool], within: float = WAIT_S
    ) -> None:
        """Wait until `predicate()` holds, re-checking whenever an event arrives."""
        async with asyncio.timeout(within):
            while not predicate():
                self._changed.clear()
                try:
                    async with asyncio.timeout(0.05):  # sim-side changes emit no event
                        await self._changed.wait()
                except TimeoutError:
                    pass

    async def ready(self) -> None:
        await self.modem.wait_state(ModemState.READY, WAIT_S)

    async def received_parts(self, count: int) -> list[SmsReceived]:
        await self.wait_for(lambda: len(self.of(SmsReceived)) >= count)
        return self.of(SmsReceived)[:count]

    async def receive_and_release(self, count: int) -> list[Message]:
        """Wait for `count` parts, release each, and reassemble them."""
        parts = await self.received_parts(count)
        assembler = Reassembler(expiry_s=3600)
        messages = []
        for part in parts:
            await self.modem.release(part.handle)
            if (msg := assembler.add(part.deliver, 0.0)) is not None:
                messages.append(msg)
        return messages


@asynccontextmanager
async def rig(
    *,
    profile: str = "generic",
    options: ModemOptions | None = None,
    manipulator: Manipulator | None = None,
    opener: Callable[[SimModem], PortOpener] | None = None,
    pin: str | None = None,
    start: bool = True,
) -> AsyncIterator[Rig]:
    """A started driver on an in-memory port (or `opener`) to a fresh simulated modem."""
    network = SimNetwork()
    sim = network.add_modem(MODEM_NUMBER, profile, pin=pin)
    port = opener(sim) if opener is not None else loopback_opener(sim, manipulator)
    holder: list[Rig] = []
    modem = Modem("m1", port, on_event=lambda e: holder[0].on_event(e), options=options)
    the_rig = Rig(network, sim, modem)
    holder.append(the_rig)
    world = asyncio.create_task(network.run())  # the network's timers (acks, reports)
    try:
        if start:
            await modem.start()
        yield the_rig
    finally:
        await modem.stop()
        world.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await world


def short_command_timeouts(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Make every AT deadline short (builders read the constants when called)."""
    for name in dir(commands):
        if name.endswith("_TIMEOUT_S"):
            monkeypatch.setattr(commands, name, seconds)
