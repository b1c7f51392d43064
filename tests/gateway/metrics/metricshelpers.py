"""A support desk for metrics tests: the real inbound unit (InboundService, compliance, the
automation runner with the CSAT step), InboxService, OutboundService and MetricsService on
a real SQLite file, driven by a clock the test sets - customers' texts arrive as the
driver hands them over (SmsReceived at a chosen time), agents act through InboxService."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.auth.records import UserRecord
from gateway.automation.runner import AutomationRunner
from gateway.compliance import ComplianceService
from gateway.domain import ConversationRecord, ConversationStatus, UserRole
from gateway.events import EventBus
from gateway.inbound import InboundService
from gateway.inbox.records import Actor
from gateway.inbox.service import InboxService
from gateway.metrics.csat_step import CSAT_HOOK, CsatStep
from gateway.metrics.hours import BusinessHours
from gateway.metrics.service import MetricsService
from gateway.outbox.service import OutboundService
from gateway.storage import auth_queries, metrics_queries, queries
from gateway.storage.db import Store, open_database
from modem import pdu
from modem.events import SmsReceived, StoredLocation
from modem.pdu import SmsDeliver, encode_deliver
from tests.gateway.gwhelpers import FakeModem, settings_for

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_SLOTS = itertools.count(1)  # SIM slots of the received texts


class Clock:
    """The time the test says it is (it never moves by itself)."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Desk:
    store: Store
    bus: EventBus
    clock: Clock
    outbound: OutboundService
    inbound: InboundService
    inbox: InboxService
    metrics: MetricsService
    modem: FakeModem

    async def agent(self, username: str) -> Actor:
        user: UserRecord = await self.store.run(
            auth_queries.create_user,
            username,
            display_name=username.title(),
            role=UserRole.AGENT,
            password_hash="x",
            now=self.clock.now,
        )
        return Actor(f"user:{username}", user.id)

    async def text(self, number: str, body: str, at: datetime) -> int:
        """The customer at `number` texts `body`, received at `at`; its conversation."""
        self.clock.now = at
        (data,) = encode_deliver(number, body, timestamp=at)
        value = pdu.decode(data)
        assert isinstance(value, SmsDeliver)
        slot = StoredLocation("SM", next(_SLOTS))
        await self.inbound.handle(SmsReceived("usb0", data, value, slot, at))
        contact = await self.store.run(queries.find_contact, number)
        assert contact is not None
        return await self.store.run(_newest_conversation, contact.id)

    async def reply(self, cid: int, body: str, at: datetime, who: Actor) -> None:
        self.clock.now = at
        await self.inbox.reply(cid, body, actor=who)

    async def assign(self, cid: int, who: Actor, at: datetime) -> None:
        self.clock.now = at
        await self.inbox.assign(cid, who.user_id, actor=who)

    async def resolve(self, cid: int, at: datetime, who: Actor) -> None:
        self.clock.now = at
        await self.inbox.set_status(cid, ConversationStatus.RESOLVED, actor=who)

    async def reopen(self, cid: int, at: datetime, who: Actor) -> None:
        self.clock.now = at
        await self.inbox.set_status(cid, ConversationStatus.OPEN, actor=who)

    async def route(self, cid: int, queue: str) -> None:
        """Routing put the conversation in `queue` (as the automation does)."""
        await self.store.run(_set_queue, cid, queue)

    async def hand_over(self, cid: int, at: datetime) -> None:
        """The automation handed the conversation to a person (its own unit)."""
        self.clock.now = at
        await self.store.run(lambda: metrics_queries.record_handoff(cid, now=at))

    async def bot_resolve(self, cid: int, at: datetime) -> None:
        """The automation resolved the conversation (its own unit)."""
        self.clock.now = at
        await self.store.run(_bot_resolve, cid, at)

    async def send_surveys(self, at: datetime) -> int:
        self.clock.now = at
        return await self.metrics.send_due_surveys()

    async def conversation(self, cid: int) -> ConversationRecord:
        return await self.store.run(queries.get_conversation, cid)


def _newest_conversation(contact_id: int) -> int:
    from gateway.storage.models import Conversation

    row = (
        Conversation.select(Conversation.id)
        .where(Conversation.contact == contact_id)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .first()
    )
    assert row is not None
    return int(row.id)


def _set_queue(cid: int, queue: str) -> None:
    from gateway.storage.models import Conversation

    Conversation.update(queue=queue).where(Conversation.id == cid).execute()


def _bot_resolve(cid: int, at: datetime) -> None:
    queries.set_conversation_status(cid, ConversationStatus.RESOLVED, now=at)
    metrics_queries.record_bot_resolved(cid, now=at)


@asynccontextmanager
async def desk(
    tmp_path: Path, ini: str = "", *, hours: BusinessHours | None = None
) -> AsyncIterator[Desk]:
    settings = settings_for(tmp_path, ini)
    store = await open_database(settings)
    bus = EventBus()
    clock = Clock()
    outbound = OutboundService(
        store, bus, settings=settings, health=lambda: ["usb0"], clock=clock
    )
    compliance = ComplianceService(
        store,
        bus,
        outbound,
        settings=settings.compliance,
        clock=clock,
        source=settings.source,
    )
    runner = AutomationRunner(outbound)
    runner.register(CSAT_HOOK, CsatStep(bus, settings.csat).step)
    inbound = InboundService(
        store,
        bus,
        compliance,
        outbound,
        settings=settings,
        clock=clock,
        pipeline=runner,
    )
    modem = FakeModem("usb0")
    inbound.attach(modem)
    inbox = InboxService(store, bus, outbound, settings=settings, clock=clock)
    metrics = MetricsService(
        store, outbound, settings=settings, hours=hours, clock=clock
    )
    try:
        yield Desk(store, bus, clock, outbound, inbound, inbox, metrics, modem)
    finally:
        await inbound.stop()
        await store.close()
