"""InboundService: a modem's received PDUs -> committed parts -> messages in conversations.

Events come from the driver through a synchronous callback; `submit` only queues them (one
queue and one task per modem, so a modem's events are handled in order and the driver
never waits on the disk). For each part: ONE unit of work stores it, and when it completes
its message, joins the parts, threads the message into the customer's conversation and
applies compliance (opt-out, its confirmation) - then, only after that commit, the part
is deleted from the modem (invariant 1). A part read again after a crash is a duplicate:
dropped, and deleted. A failed commit deletes nothing: the SIM keeps the part and the
driver offers it again. Multipart messages whose other parts never come are delivered,
marked incomplete, after [inbound] reassembly_timeout_s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from gateway import events
from gateway.compliance import ComplianceOutcome, ComplianceService
from gateway.config import Settings
from gateway.contacts import SenderNumber, classify_sender
from gateway.domain import (
    RecordedPart,
    ThreadedMessage,
    ThreadOutcome,
    storable_text,
    utcnow,
)
from gateway.outbox.service import OutboundService
from gateway.ports import ModemPort
from gateway.storage import metrics_queries, queries, webhook_queries
from modem.errors import ModemError
from modem.events import (
    Handle,
    SmsReceived,
    StatusReportReceived,
    StoredLocation,
    UndecodablePdu,
)

if TYPE_CHECKING:
    from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

# Timing, in seconds. Tests patch these.
EXPIRY_CHECK_INTERVAL_S = 30.0  # how often incomplete multipart messages are looked for
RELEASE_TIMEOUT_S = 30.0  # deleting one message from the SIM
SHUTDOWN_DRAIN_S = 5.0  # on stop, events already queued get this long to be committed

MessageEvent = SmsReceived | StatusReportReceived | UndecodablePdu


class InboundPipeline(Protocol):
    """What runs after compliance in the unit committing a message (the automation
    runner: gateway.automation.runner); it answers what to run after the commit."""

    def in_unit(
        self,
        threaded: ThreadedMessage,
        compliance: ComplianceOutcome,
        *,
        now: datetime,
        healthy: Collection[str] | None,
    ) -> Callable[[], None]: ...


@dataclass(frozen=True, slots=True)
class _Received:
    recorded: RecordedPart
    threaded: ThreadedMessage | None
    compliance: ComplianceOutcome | None
    after: Callable[[], None] | None = None  # the pipeline's announcements


@dataclass(slots=True)
class InboundStats:
    """Counters for status pages and tests."""

    parts: int = 0  # parts committed (new)
    duplicates: int = 0  # parts read again and dropped
    messages: int = 0  # messages delivered to conversations
    incomplete: int = 0  # of which incomplete
    reports: int = 0
    undecodable: int = 0
    failures: int = 0  # events whose commit failed (left on the modem)
    release_failures: int = 0
    by_modem: dict[str, int] = field(default_factory=dict)


class InboundService:
    """Takes a modem's message events; commits, then releases, then tells everyone."""

    def __init__(
        self,
        store: Store,
        bus: events.EventBus,
        compliance: ComplianceService,
        outbound: OutboundService,
        *,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        pipeline: InboundPipeline | None = None,
    ) -> None:
        self._store = store
        self._bus = bus
        self._compliance = compliance
        self._outbound = outbound
        self._pipeline = pipeline
        self._region = settings.gateway.default_region
        self._timeout_s = settings.inbound.reassembly_timeout_s
        self._reopen_window_s = settings.inbound.reopen_window_s
        self._clock = clock
        self._ports: dict[str, ModemPort] = {}
        self._queues: dict[str, asyncio.Queue[MessageEvent]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._expiry: asyncio.Task[None] | None = None
        self._closed = False
        # Stored PDUs queued or being handled, per modem. The driver offers a PDU again
        # when it stays on the modem for long; a second copy queued behind the first
        # would, once the first freed the slot, delete whatever the modem stored there
        # next - so it is not queued at all.
        self._in_hand: dict[str, set[tuple[StoredLocation, bytes]]] = {}
        self.stats = InboundStats()

    # -------------------------------------------------------------- wiring

    def attach(self, port: ModemPort) -> None:
        """A modem whose events come here (its parts are released on it)."""
        self._ports[port.name] = port

    def submit(self, event: MessageEvent) -> None:
        """From the driver's callback: queue the event for its modem's task; never blocks."""
        if self._closed:
            # still on the modem: read again at the next start
            _LOGGER.debug(
                "modem %s: %s ignored while stopping", event.modem, type(event)
            )
            return
        if isinstance(event.handle, StoredLocation):
            in_hand = self._in_hand.setdefault(event.modem, set())
            slot = (event.handle, event.pdu)
            if slot in in_hand:
                _LOGGER.debug(
                    "modem %s: %s offered again; in hand", event.modem, slot[0]
                )
                return
            in_hand.add(slot)
        queue = self._queues.get(event.modem)
        if queue is None:
            queue = self._queues[event.modem] = asyncio.Queue()
            self._workers[event.modem] = asyncio.create_task(
                self._work(event.modem, queue), name=f"inbound-{event.modem}"
            )
        queue.put_nowait(event)

    async def start(self) -> None:
        """Start the reassembly-timeout task."""
        self._expiry = asyncio.create_task(
            self._expire_forever(), name="inbound-expiry"
        )

    async def drain(self) -> None:
        """Wait until every event queued so far has been handled."""
        for queue in list(self._queues.values()):
            await queue.join()

    async def stop(self) -> None:
        """Take no more events; commit the queued ones (bounded); stop the tasks."""
        self._closed = True
        if self._expiry is not None:
            self._expiry.cancel()
            await asyncio.gather(self._expiry, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_DRAIN_S):
                await self.drain()
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)

    # -------------------------------------------------------------- the work

    async def _work(self, modem: str, queue: asyncio.Queue[MessageEvent]) -> None:
        while True:
            event = await queue.get()
            try:
                await self.handle(event)
            except asyncio.CancelledError:
                raise
            except Exception:  # task boundary: the next message must still get in
                self.stats.failures += 1
                _LOGGER.exception(
                    "modem %s: could not commit a received %s; it stays on the modem "
                    "and will be read again",
                    modem,
                    type(event).__name__,
                )
            finally:
                if isinstance(event.handle, StoredLocation):
                    self._in_hand[modem].discard((event.handle, event.pdu))
                queue.task_done()

    async def handle(self, event: MessageEvent) -> None:
        """Commit one event, release it on its modem, then publish what it changed."""
        if isinstance(event, SmsReceived):
            await self._sms(event)
        elif isinstance(event, StatusReportReceived):
            await self._report(event)
        else:
            await self._undecodable(event)

    async def _sms(self, event: SmsReceived) -> None:
        address = event.deliver.sender
        sender = classify_sender(
            address.number, self._region, alphanumeric=address.alphanumeric
        )
        received = await self._store.run(
            self._receive_unit,
            event,
            sender,
            self._clock(),
            self._outbound.healthy_now(),
        )
        if received.recorded.new:
            self.stats.parts += 1
            self.stats.by_modem[event.modem] = (
                self.stats.by_modem.get(event.modem, 0) + 1
            )
        else:
            self.stats.duplicates += 1
            _LOGGER.info(
                "modem %s: part %s read again; dropped as a duplicate",
                event.modem,
                received.recorded.part.id,
            )
        await self._release(event.modem, event.handle)
        if received.threaded is not None:
            self._announce(received.threaded, received.compliance, received.after)

    def _receive_unit(
        self,
        event: SmsReceived,
        sender: SenderNumber,
        now: datetime,
        healthy: Collection[str] | None,
    ) -> _Received:
        """ON THE DB THREAD: the part, its message and what compliance does, one commit."""
        deliver = event.deliver
        recorded, threaded = queries.receive_inbound_part(
            modem=event.modem,
            sender=sender.value,
            sender_kind=sender.kind,
            pdu=event.pdu,
            text=storable_text(deliver.text),
            encoding=deliver.encoding.value,
            concat=deliver.concat,
            network_at=deliver.timestamp,
            received_at=event.received_at,
            reopen_window_s=self._reopen_window_s,
        )
        outcome = after = None
        if threaded is not None:
            _record_received(threaded, now)
            outcome = self._compliance.apply_inbound(threaded, now=now, healthy=healthy)
            after = self._after_compliance(threaded, outcome, now, healthy)
            metrics_queries.record_inbound(threaded, now=now)
        return _Received(recorded, threaded, outcome, after)

    def _after_compliance(
        self,
        threaded: ThreadedMessage,
        outcome: ComplianceOutcome,
        now: datetime,
        healthy: Collection[str] | None,
    ) -> Callable[[], None] | None:
        """ON THE DB THREAD: the automation pipeline, in the unit committing the message."""
        if self._pipeline is None:
            return None
        return self._pipeline.in_unit(threaded, outcome, now=now, healthy=healthy)

    async def _report(self, event: StatusReportReceived) -> None:
        report = event.report
        outcome = await self._store.run(
            queries.apply_status_report,
            event.modem,
            report.reference,
            status=report.status,
            now=self._clock(),
        )
        self.stats.reports += 1
        await self._release(event.modem, event.handle)
        if outcome is None:
            _LOGGER.debug(
                "modem %s: status report for TP-MR %d matches no part",
                event.modem,
                report.reference,
            )
        elif outcome.status_changed:
            message = outcome.message
            self._bus.publish(
                events.MessageStatusChanged(
                    message.id,
                    message.conversation_id,
                    message.status.value,
                    message.error,
                    message.updated_at,
                )
            )

    async def _undecodable(self, event: UndecodablePdu) -> None:
        record, new = await self._store.run(
            queries.record_undecodable,
            modem=event.modem,
            pdu=event.pdu,
            error=event.error,
            received_at=event.received_at,
        )
        if new:
            self.stats.undecodable += 1
            _LOGGER.warning(
                "modem %s: a PDU that does not decode was kept as undecodable %s (%s)",
                event.modem,
                record.id,
                event.error,
            )
        await self._release(event.modem, event.handle)

    async def _release(self, modem: str, handle: Handle) -> None:
        port = self._ports.get(modem)
        if port is None:
            _LOGGER.warning("no modem %s to release %s on", modem, handle)
            return
        try:
            async with asyncio.timeout(RELEASE_TIMEOUT_S):
                await port.release(handle)
        except (ModemError, TimeoutError) as exc:
            # committed already: when it is read again it is dropped as a duplicate
            self.stats.release_failures += 1
            _LOGGER.warning(
                "modem %s: could not delete %s after its commit (%s); it will be read "
                "again and dropped",
                modem,
                handle,
                exc,
            )

    def _announce(
        self,
        threaded: ThreadedMessage,
        outcome: ComplianceOutcome | None,
        after: Callable[[], None] | None = None,
    ) -> None:
        message, conversation = threaded.message, threaded.conversation
        self.stats.messages += 1
        if message.error is not None:
            self.stats.incomplete += 1
        at = message.created_at
        if threaded.outcome is ThreadOutcome.CREATED:
            self._bus.publish(
                events.ConversationCreated(conversation.id, conversation.contact_id, at)
            )
        elif threaded.outcome is ThreadOutcome.REOPENED:
            self._bus.publish(
                events.ConversationStatusChanged(
                    conversation.id, conversation.status.value, at
                )
            )
        self._bus.publish(
            events.MessageReceived(
                message.id, conversation.id, threaded.contact.id, message.modem, at
            )
        )
        if outcome is not None:
            self._compliance.announce(threaded, outcome)
        if after is not None:
            after()

    # -------------------------------------------------------------- reassembly timeout

    async def _expire_forever(self) -> None:
        interval = min(EXPIRY_CHECK_INTERVAL_S, self._timeout_s / 2)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.expire_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # task boundary: keep delivering incomplete messages
                _LOGGER.exception("delivering incomplete messages failed; going on")

    async def expire_once(self) -> list[ThreadedMessage]:
        """Deliver, marked incomplete, the messages whose parts stopped coming in time."""
        now = self._clock()
        results = await self._store.run(
            self._expire_unit,
            now - timedelta(seconds=self._timeout_s),
            now,
            self._outbound.healthy_now(),
        )
        for threaded, outcome, after in results:
            _LOGGER.warning(
                "message %s delivered incomplete: %s",
                threaded.message.id,
                threaded.message.error,
            )
            self._announce(threaded, outcome, after)
        return [threaded for threaded, _, _ in results]

    def _expire_unit(
        self, older_than: datetime, now: datetime, healthy: Collection[str] | None
    ) -> list[tuple[ThreadedMessage, ComplianceOutcome, Callable[[], None] | None]]:
        """ON THE DB THREAD: incomplete messages out, with compliance, in one commit."""
        delivered = queries.expire_incomplete(
            older_than=older_than, now=now, reopen_window_s=self._reopen_window_s
        )
        results = []
        for threaded in delivered:
            _record_received(threaded, now)
            outcome = self._compliance.apply_inbound(threaded, now=now, healthy=healthy)
            after = self._after_compliance(threaded, outcome, now, healthy)
            metrics_queries.record_inbound(threaded, now=now)
            results.append((threaded, outcome, after))
        return results


def _record_received(threaded: ThreadedMessage, now: datetime) -> None:
    """ON THE DB THREAD: the message.received webhook, in the unit that threads it."""
    webhook_queries.message_received(
        threaded.message, threaded.conversation, threaded.contact, now=now
    )
