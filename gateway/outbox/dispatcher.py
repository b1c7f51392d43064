"""The dispatcher: ONE sender task per modem, claiming due parts from the durable queue.

A sender claims a part (committed as `sending`), encodes it from its message (the
message's concatenation reference, so parts sent after a crash join the ones sent before),
sends it with AT+CMGS and commits the TP-MR before it claims the next. A crash between the
claim and that commit leaves the part `sending`: on start it becomes `unknown` and is never
sent again (at most once). Transient errors put the part back with a backoff (other
messages go ahead meanwhile: claims skip parts that are not due) and move the message to
another healthy modem when none of its parts left yet; permanent errors fail the message
at once with the modem's reason; an unconfirmed send is `unknown`, never resent. A message
limited to some modems (a Twilio account's) is moved among those only, by failover and
by the rescue of stranded messages alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gateway import events
from gateway.config import Settings
from gateway.domain import (
    ClaimedPart,
    MessageOrigin,
    MessageRecord,
    PartOutcome,
    node_alive_since,
    utcnow,
)
from gateway.errors import Conflict
from gateway.logutil import mask_number
from gateway.outbox.choice import failover_target, least_busy
from gateway.outbox.pacing import TokenBucket
from gateway.outbox.retry import RetryPolicy
from gateway.outbox.service import OutboundService
from gateway.ports import ModemPort
from gateway.storage import queries, twilio_queries
from modem.at.commands import InvalidCommand
from modem.driver import ModemNotReady, SendUnconfirmed
from modem.errors import (
    AtError,
    AtParseError,
    AtTimeout,
    ModemError,
    PduEncodeError,
    PortClosed,
)
from modem.events import ModemState
from modem.pdu import encode_submit
from modem.pdu.types import EncodedPart

if TYPE_CHECKING:
    from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

# Timing, in seconds. Tests patch these.
IDLE_POLL_S = (
    1.0  # an idle sender looks at the queue this often (`smsgw send` from elsewhere)
)
SEND_BOUND_S = (
    180.0  # beyond the driver's own AT+CMGS deadline: a wedged send is `unknown`
)
SHUTDOWN_SEND_GRACE_S = 10.0  # on stop, an AT+CMGS under way gets this long to finish
HOUSEKEEPING_INTERVAL_S = 10.0  # expiry of old messages, rescue of stranded ones
MODEM_DOWN_GRACE_S = 60.0  # a modem unhealthy this long gives its waiting messages away
# A modem that just failed a send counts as unhealthy for a while: new messages and
# failovers go to other modems. It still sends (its own retries are paced by the backoff).
COOLDOWN_BASE_S = 1.0
COOLDOWN_MAX_S = 30.0


@dataclass(frozen=True, slots=True)
class SendFailure:
    """How a send went wrong, for the queue: retry later, give up, or never resend."""

    error: str
    transient: bool = False
    unknown: bool = False  # may have been sent: never again
    modem_fault: bool = False  # counts against the modem's health


class Sender:
    """The one task that talks AT+CMGS to one modem."""

    def __init__(self, dispatcher: Dispatcher, port: ModemPort, parts_per_minute: int):
        self.port = port
        self.name = port.name
        self._d = dispatcher
        loop = asyncio.get_running_loop()
        self._bucket = TokenBucket.for_parts_per_minute(parts_per_minute, loop.time())
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._failures = 0  # consecutive modem faults
        self._cooldown_until = 0.0
        self.unhealthy_since: float | None = None
        self.in_flight = False
        self.task: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- health

    def healthy(self, now: float) -> bool:
        """Registered and not cooling down after a failed send."""
        return self.port.state is ModemState.READY and now >= self._cooldown_until

    def wake(self) -> None:
        self._wakeup.set()

    def stop_claiming(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def _idle(self, timeout_s: float) -> None:
        """Wait for a wake-up, a stop, or `timeout_s`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout_s, 0.0)):
                await self._wakeup.wait()
        self._wakeup.clear()

    # ---------------------------------------------------------------- the loop

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            try:
                now = loop.time()
                if self.port.state is not ModemState.READY:
                    await self._idle(IDLE_POLL_S)
                    continue
                wait = self._bucket.wait_s(now)
                if wait > 0:
                    await self._idle(wait)
                    continue
                claimed = await self._d.store.run(
                    queries.claim_next_outbound, self.name, now=self._d.clock()
                )
                if claimed is None:
                    await self._idle(IDLE_POLL_S)
                    continue
                self._bucket.take(loop.time())
                self._d.publish_claim(claimed)
                self.in_flight = True
                try:
                    await self._send(claimed)
                finally:
                    self.in_flight = False
            except asyncio.CancelledError:
                raise
            except (
                Exception
            ):  # task boundary: a bug must not silence the modem for good
                _LOGGER.exception("modem %s: sender failed; going on", self.name)
                await self._idle(IDLE_POLL_S)

    async def _send(self, claimed: ClaimedPart) -> None:
        part, message = claimed.part, claimed.message
        try:
            encoded = self._d.encode(message, part.seq)
        except PduEncodeError as exc:
            await self._d.settle_failure(
                self, claimed, SendFailure(f"cannot encode: {exc}")
            )
            return
        failure: SendFailure | None = None
        reference = 0
        try:
            async with asyncio.timeout(SEND_BOUND_S):
                reference = await self.port.send_pdu(encoded)
        except SendUnconfirmed as exc:
            failure = SendFailure(str(exc), unknown=True, modem_fault=True)
        except (ModemNotReady, PortClosed) as exc:
            failure = SendFailure(f"modem {self.name}: {exc}", transient=True)
        except AtTimeout as exc:
            # the driver says the PDU never left (else it raises SendUnconfirmed)
            failure = SendFailure(
                f"modem {self.name}: {exc}", transient=True, modem_fault=True
            )
        except TimeoutError:
            failure = SendFailure(
                f"modem {self.name}: no answer within {SEND_BOUND_S:g} s; it may have "
                "been sent",
                unknown=True,
                modem_fault=True,
            )
        except InvalidCommand as exc:
            failure = SendFailure(f"cannot be sent: {exc}")
        except AtParseError as exc:
            # the modem said OK but its reference did not parse: it was sent
            failure = SendFailure(
                f"modem {self.name}: sent, reference unreadable ({exc})", unknown=True
            )
        except AtError as exc:
            failure = SendFailure(
                f"modem {self.name}: {exc.result}",
                transient=exc.transient,
                modem_fault=exc.transient,
            )
        except ModemError as exc:
            failure = SendFailure(
                f"modem {self.name}: {exc}", unknown=True, modem_fault=True
            )
        if failure is None:
            self._failures = 0
            outcome = await self._d.store.run(
                queries.mark_part_accepted,
                part.id,
                reference=reference,
                now=self._d.clock(),
                pdu_hex=encoded.hex,
                tpdu_length=encoded.tpdu_length,
            )
            self._d.publish_outcome(outcome)
            return
        if failure.modem_fault:
            self._cool_down()
        await self._d.settle_failure(self, claimed, failure)

    def _cool_down(self) -> None:
        self._failures += 1
        pause = min(COOLDOWN_BASE_S * 2 ** min(self._failures - 1, 16), COOLDOWN_MAX_S)
        self._cooldown_until = asyncio.get_running_loop().time() + pause


class Dispatcher:
    """The senders of every modem, plus housekeeping: expiry and stranded messages."""

    def __init__(
        self,
        store: Store,
        bus: events.EventBus,
        outbound: OutboundService,
        *,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock
        self._outbound = outbound
        self._settings = settings
        self._retry = RetryPolicy.from_settings(settings.outbound)
        self._senders: dict[str, Sender] = {}
        self._pending: list[tuple[ModemPort, int]] = []
        self._housekeeping: asyncio.Task[None] | None = None
        self._encoded: tuple[int, list[EncodedPart]] | None = None
        self._started = False
        self._silent_nodes: set[str] = set()  # other boxes taken as gone (logged once)
        outbound.on_queued(self.wake)

    # ---------------------------------------------------------------- wiring

    def add_modem(self, port: ModemPort, *, parts_per_minute: int) -> None:
        """A modem to send through (before `start`)."""
        if self._started:
            raise RuntimeError("add modems before start()")
        self._pending.append((port, parts_per_minute))

    def healthy(self) -> frozenset[str]:
        """The modems that can take work now."""
        now = asyncio.get_running_loop().time()
        return frozenset(n for n, s in self._senders.items() if s.healthy(now))

    def wake(self, modem: str | None = None) -> None:
        """Work was queued for `modem` (None: for any)."""
        if modem is not None and modem in self._senders:
            self._senders[modem].wake()
            return
        for sender in self._senders.values():
            sender.wake()

    @property
    def in_flight(self) -> int:
        """Parts handed to a modem right now."""
        return sum(s.in_flight for s in self._senders.values())

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Settle sends a crash interrupted, then start one sender per modem."""
        self._started = True
        names = {port.name for port, _ in self._pending}
        names |= set(
            await self.store.run(
                queries.modems_with_sending_parts, self._settings.gateway.node_name
            )
        )
        for name in sorted(names):
            for outcome in await self.store.run(
                queries.recover_interrupted_sends, name, now=self.clock()
            ):
                self.publish_outcome(outcome)
        for port, ppm in self._pending:
            sender = Sender(self, port, ppm)
            self._senders[port.name] = sender
            sender.task = asyncio.create_task(sender.run(), name=f"sender-{port.name}")
        self._pending.clear()
        self._outbound.set_health(self.healthy)
        self._housekeeping = asyncio.create_task(
            self._housekeep_forever(), name="outbound-housekeeping"
        )

    async def stop(self) -> None:
        """Stop claiming; give a send under way a bounded time to finish; stop the senders."""
        self._outbound.set_health(None)
        for sender in self._senders.values():
            sender.stop_claiming()
        tasks = [s.task for s in self._senders.values() if s.task is not None]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_SEND_GRACE_S)
            if pending:
                _LOGGER.warning(
                    "%d send(s) still under way after %g s; stopping them (their parts "
                    "become unknown, never resent)",
                    len(pending),
                    SHUTDOWN_SEND_GRACE_S,
                )
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            await asyncio.gather(self._housekeeping, return_exceptions=True)
        # a send cut short may have reached the phone: record it as such now
        for name in self._senders:
            for outcome in await self.store.run(
                queries.recover_interrupted_sends, name, now=self.clock()
            ):
                self.publish_outcome(outcome)

    # ---------------------------------------------------------------- for the senders

    def encode(self, message: MessageRecord, seq: int) -> EncodedPart:
        """Part `seq` of `message`, encoded as on its first attempt (same concat reference)."""
        if self._encoded is None or self._encoded[0] != message.id:
            validity = int(self._settings.outbound.validity_s)
            parts = encode_submit(
                message.number,
                message.body,
                concat_ref=message.concat_ref,
                request_status_report=self._settings.outbound.status_reports,
                validity_s=validity or None,
            )
            self._encoded = (message.id, parts)
        parts = self._encoded[1]
        if len(parts) != message.parts_count:
            raise PduEncodeError(
                "text", f"encodes to {len(parts)} parts, not {message.parts_count}"
            )
        return parts[seq - 1]

    def publish_claim(self, claimed: ClaimedPart) -> None:
        if claimed.status_changed:
            self._publish_status(claimed.message)

    def publish_outcome(self, outcome: PartOutcome) -> None:
        if outcome.status_changed:
            self._publish_status(outcome.message)

    def _publish_status(self, message: MessageRecord) -> None:
        self.bus.publish(
            events.MessageStatusChanged(
                message.id,
                message.conversation_id,
                message.status.value,
                message.error,
                message.updated_at,
            )
        )

    async def settle_failure(
        self, sender: Sender, claimed: ClaimedPart, failure: SendFailure
    ) -> None:
        """Record a failed send: unknown, retry later (maybe elsewhere), or failed."""
        part, message = claimed.part, claimed.message
        now = self.clock()
        if failure.unknown:
            _LOGGER.warning(
                "message %s part %d: %s; never resent",
                message.id,
                part.seq,
                failure.error,
            )
            outcome = await self.store.run(
                queries.mark_part_unknown, part.id, error=failure.error, now=now
            )
            self.publish_outcome(outcome)
            return
        retry_at: datetime | None = None
        target: str | None = None
        error = failure.error
        if failure.transient:
            decision = self._retry.decide(
                attempts=part.attempts, queued_at=message.created_at, now=now
            )
            retry_at = decision.retry_at
            if retry_at is None:
                error = f"{failure.error}; {decision.reason}"
            elif (
                self._settings.outbound.failover
                and part.seq == 1
                and message.origin is not MessageOrigin.TEST  # a test names its modem
            ):
                # only while no part left: the phone joins parts from one sender only
                depths, allowed = await self.store.run(_failover_facts, message.id)
                healthy = self.healthy()
                if allowed is not None:
                    healthy = healthy & allowed
                target = failover_target(sender.name, healthy, depths)
                if target is not None:
                    retry_at = now  # a fresh path: no reason to wait
        if retry_at is None:
            _LOGGER.warning(
                "message %s to %s failed: %s",
                message.id,
                mask_number(message.number),
                error,
            )
        else:
            _LOGGER.info(
                "message %s part %d: %s; retry %s",
                message.id,
                part.seq,
                error,
                f"now on modem {target}" if target else f"at {retry_at:%H:%M:%S}",
            )
        outcome = await self.store.run(
            _fail_and_move, part.id, error=error, now=now, retry_at=retry_at, to=target
        )
        self.publish_outcome(outcome)
        if target is not None:
            self.wake(target)

    # ---------------------------------------------------------------- housekeeping

    async def _housekeep_forever(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)
            try:
                await self.housekeep()
            except asyncio.CancelledError:
                raise
            except Exception:  # task boundary: keep expiring and rescuing
                _LOGGER.exception("outbound housekeeping failed; going on")

    async def housekeep(self) -> None:
        """Fail messages past [outbound] max_age_s; free the ones stuck on a down modem."""
        now = self.clock()
        max_age = timedelta(seconds=self._settings.outbound.max_age_s)
        for message in await self.store.run(
            queries.expire_outbound, queued_before=now - max_age, now=now
        ):
            _LOGGER.warning("message %s expired unsent", message.id)
            self._publish_status(message)
        silent = await self._settle_silent_nodes(now)
        stranded = await self._stranded(silent)
        if stranded:
            moved = await self.store.run(
                _rescue, stranded, now=now, healthy=self.healthy()
            )
            if moved:
                _LOGGER.warning(
                    "%d message(s) waiting on %s moved to any healthy modem",
                    len(moved),
                    ", ".join(sorted(stranded)),
                )
                self.wake()

    async def _settle_silent_nodes(self, now: datetime) -> set[str]:
        """The modems of boxes that stopped beating over [gateway] node_timeout_s ago.

        Their parts caught mid-send become `unknown` (never resent: they may have reached
        the phone); the texts waiting on them are then stranded like a dead modem's.
        """
        gateway = self._settings.gateway
        silent = await self.store.run(
            queries.silent_node_modems,
            gateway.node_name,
            alive_since=node_alive_since(now, gateway.node_timeout_s),
        )
        for node in sorted(set(silent) - self._silent_nodes):
            _LOGGER.warning(
                "node %s has not beaten for over %s s: taken as gone; texts waiting on "
                "its modems (%s) go out through healthy modems",
                node,
                f"{gateway.node_timeout_s:g}",
                ", ".join(silent[node]),
            )
        for node in sorted(self._silent_nodes - set(silent)):
            _LOGGER.info("node %s is beating again", node)
        self._silent_nodes = set(silent)
        modems = {modem for names in silent.values() for modem in names}
        for modem in sorted(modems):
            for outcome in await self.store.run(
                queries.recover_interrupted_sends,
                modem,
                now=now,
                error="its box stopped mid-send: outcome unknown, not sent again",
            ):
                self.publish_outcome(outcome)
        return modems

    async def _stranded(self, silent: Collection[str] = ()) -> set[str]:
        """Modems whose waiting texts should go elsewhere: ours that have been down for
        MODEM_DOWN_GRACE_S, ones no box has any more, and `silent` boxes' (gone)."""
        loop_now = asyncio.get_running_loop().time()
        stranded = set()
        for name, sender in self._senders.items():
            if sender.healthy(loop_now):
                sender.unhealthy_since = None
                continue
            if sender.unhealthy_since is None:
                sender.unhealthy_since = loop_now
            if loop_now - sender.unhealthy_since >= MODEM_DOWN_GRACE_S:
                stranded.add(name)
        if not self._settings.outbound.failover or not self.healthy():
            return set()
        depths = await self.store.run(queries.outbound_queue_depths)
        # a modem no longer configured never comes back for its messages (one of another
        # box sharing the database does, through that box)
        node = self._settings.gateway.node_name
        elsewhere = {
            m.name
            for m in await self.store.run(queries.list_modems)
            if m.node not in (None, node) and m.name not in silent
        }
        gone = {
            n
            for n in depths
            if n is not None and n not in self._senders and n not in elsewhere
        }
        return stranded | gone


def _failover_facts(
    message_id: int,
) -> tuple[dict[str | None, int], frozenset[str] | None]:
    """ON THE DB THREAD: queue depths, and the modems the message may leave from."""
    return queries.outbound_queue_depths(), twilio_queries.allowed_modems(message_id)


def _rescue(
    stranded: Collection[str], *, now: datetime, healthy: Collection[str]
) -> list[MessageRecord]:
    """One unit: free the messages stranded on `stranded` for any modem; one limited to
    some modems goes to the least busy healthy one of them (else any of them) instead."""
    moved = queries.reassign_stranded(stranded, now=now)
    depths: dict[str | None, int] | None = None
    rescued = []
    for message in moved:
        allowed = twilio_queries.allowed_modems(message.id)
        if allowed is not None:
            depths = queries.outbound_queue_depths() if depths is None else depths
            usable = [m for m in healthy if m in allowed and m not in stranded]
            target = least_busy(usable, depths) or least_busy(allowed, depths)
            message = queries.reassign_outbound(message.id, target, now=now)
        rescued.append(message)
    return rescued


def _fail_and_move(
    part_id: int,
    *,
    error: str,
    now: datetime,
    retry_at: datetime | None,
    to: str | None,
) -> PartOutcome:
    """One unit: record the failure and, when it has a target, move the message there."""
    outcome = queries.mark_part_failed(part_id, error=error, now=now, retry_at=retry_at)
    if to is not None and retry_at is not None:
        with contextlib.suppress(
            Conflict
        ):  # a part already left: the rest must follow it
            message = queries.reassign_outbound(outcome.message.id, to, now=now)
            outcome = PartOutcome(outcome.part, message, outcome.previous_status)
    return outcome
