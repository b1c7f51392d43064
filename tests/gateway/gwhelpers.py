"""Helpers for gateway service tests: settings, bounded waits, fake modems, and a rig that
runs the real daemon's services over real drivers joined to simulated modems in memory."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.config import ModemSettings, Settings, parse_settings
from gateway.daemon import Daemon
from gateway.domain import MessageRecord
from gateway.events import DomainEvent, EventBus
from gateway.services import Services
from gateway.storage import queries
from gateway.storage.db import Store
from modem.events import Handle, ModemState
from modem.pdu.types import EncodedPart
from modem.sim.device import SimModem
from modem.sim.network import SimNetwork
from modem.sim.server import loopback_opener
from modem.transport import PortOpener

WAIT_S = 10.0  # bound for anything that should happen within a few loop turns
POLL_S = 0.01

CUSTOMER = "+447700900123"
OTHER = "+447700900456"
MODEM_NUMBERS = ("+447700900001", "+447700900002", "+447700900003")


async def eventually(
    check: Callable[[], Any], *, within: float = WAIT_S, what: str = ""
) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; that value."""
    async with asyncio.timeout(within):
        while True:
            value = check()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(POLL_S)


def settings_for(tmp_path: Path, ini: str = "", *, modems: int = 0) -> Settings:
    """Settings from an ini fragment; `modems` adds [modem:usbN] sections (ports unused)."""
    text = textwrap.dedent(
        """
        [gateway]
        default_region = GB
        [web]
        enabled = no
        [simulator]
        enabled = no
        """
    )
    text += textwrap.dedent(ini)
    for i in range(modems):
        if f"[modem:usb{i}]" not in text:  # else the fragment has its own section
            text += f"\n[modem:usb{i}]\nport = socket://127.0.0.1:{9 + i}\n"
    return parse_settings(text, base_dir=tmp_path, source=str(tmp_path / "gateway.ini"))


class Recorder:
    """Every domain event published, in order."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[DomainEvent] = []
        self._sub = bus.subscribe()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self._sub:
            self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def close(self) -> None:
        self._sub.close()
        await self._task


@dataclass
class FakeModem:
    """A ModemPort that records what it is asked; `fail` decides each send's fate."""

    name: str
    state: ModemState = ModemState.READY
    sent: list[EncodedPart] = field(default_factory=list)
    released: list[Handle] = field(default_factory=list)
    fail: Callable[[EncodedPart], BaseException | None] = lambda part: None
    _refs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send_pdu(self, part: EncodedPart) -> int:
        error = self.fail(part)
        if error is not None:
            raise error
        self.sent.append(part)
        return next(self._refs) % 256

    async def release(self, handle: Handle) -> None:
        self.released.append(handle)


@dataclass
class Rig:
    """The daemon's services over real `Modem` drivers, each joined to a simulated modem."""

    network: SimNetwork
    daemon: Daemon
    services: Services
    store: Store
    sims: dict[str, SimModem]
    recorder: Recorder

    def sim(self, name: str = "usb0") -> SimModem:
        return self.sims[name]

    def number(self, name: str = "usb0") -> str:
        return self.sims[name].number

    def text(self, text: str, *, sender: str = CUSTOMER, to: str = "usb0") -> None:
        """A phone texts one of the box's modems."""
        self.network.send_text(sender, self.number(to), text)

    def inbox(self, number: str = CUSTOMER) -> list[Any]:
        return self.network.inbox(number)

    async def messages(self, number: str = CUSTOMER) -> list[MessageRecord]:
        """Every message with `number`, in order, from the database."""
        contact = await self.store.run(queries.find_contact, number)
        if contact is None:
            return []
        return await self.store.run(messages_of_contact, contact.id)

    async def settle(self) -> None:
        """Wait until inbound is drained and no part is queued and due or being sent."""
        await self.services.inbound.drain()
        await eventually(lambda: self.store.run(_nothing_due), what="queue settled")
        await self.services.inbound.drain()


def messages_of_contact(contact_id: int) -> list[MessageRecord]:
    """ON THE DB THREAD: every message of every conversation with the contact."""
    from gateway.storage.models import Conversation, Message

    rows = (
        Message.select()
        .join(Conversation)
        .where(Conversation.contact == contact_id)
        .order_by(Message.id)
    )
    return [queries._message(row) for row in rows]


def _nothing_due() -> bool:
    from gateway.domain import PartStatus, utcnow
    from gateway.storage.models import OutboundPart

    due = OutboundPart.select().where(
        (OutboundPart.status == PartStatus.SENDING)
        | (
            (OutboundPart.status == PartStatus.QUEUED)
            & (OutboundPart.next_attempt_at <= utcnow())
        )
    )
    return not due.exists()


@asynccontextmanager
async def rig(
    tmp_path: Path,
    ini: str = "",
    *,
    modems: int = 1,
    ready: bool = True,
    network: SimNetwork | None = None,
) -> AsyncIterator[Rig]:
    """Start the daemon's services over `modems` simulated modems (usb0, usb1...)."""
    settings = settings_for(tmp_path, ini, modems=modems)
    own = network is None
    network = network or SimNetwork()
    sims = {
        f"usb{i}": network.modems.get(MODEM_NUMBERS[i])
        or network.add_modem(MODEM_NUMBERS[i])
        for i in range(modems)
    }
    openers = {name: loopback_opener(sim) for name, sim in sims.items()}

    def opener_for(config: ModemSettings) -> PortOpener:
        return openers[config.name]

    timers = asyncio.create_task(network.run()) if own else None
    daemon = Daemon(settings, opener_for=opener_for)
    services = await daemon.start()
    assert daemon.store is not None
    recorder = Recorder(services.bus)
    try:
        if ready:
            for modem in services.modems:
                await modem.wait_state(ModemState.READY, WAIT_S)  # type: ignore[attr-defined]
        yield Rig(network, daemon, services, daemon.store, sims, recorder)
    finally:
        await recorder.close()
        await daemon.stop()
        if timers is not None:
            timers.cancel()
            await asyncio.gather(timers, return_exceptions=True)


async def wait_for(aw: Awaitable[Any], within: float = WAIT_S) -> Any:
    async with asyncio.timeout(within):
        return await aw


@dataclass
class FakeRig:
    """Outbound service and dispatcher over fake modems (no daemon, no driver)."""

    store: Store
    bus: EventBus
    outbound: Any
    dispatcher: Any
    modems: dict[str, FakeModem]


@asynccontextmanager
async def fake_rig(
    tmp_path: Path,
    ini: str = "",
    *,
    modems: tuple[FakeModem, ...] = (),
    clock: Callable[[], Any] | None = None,
    start: bool = True,
) -> AsyncIterator[FakeRig]:
    """A store on tmp_path, OutboundService and Dispatcher sending through `modems`."""
    from gateway.domain import utcnow
    from gateway.outbox.dispatcher import Dispatcher
    from gateway.outbox.service import OutboundService
    from gateway.storage.db import open_database

    settings = settings_for(tmp_path, ini)
    store = await open_database(settings)
    bus = EventBus()
    outbound = OutboundService(store, bus, settings=settings, clock=clock or utcnow)
    dispatcher = Dispatcher(
        store, bus, outbound, settings=settings, clock=clock or utcnow
    )
    for modem in modems:
        dispatcher.add_modem(modem, parts_per_minute=settings.outbound.parts_per_minute)
    try:
        if start:
            await dispatcher.start()
        yield FakeRig(store, bus, outbound, dispatcher, {m.name: m for m in modems})
    finally:
        if start:
            await dispatcher.stop()
        await store.close()
