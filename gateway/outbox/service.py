"""OutboundService: every text the box sends enters here, whoever asked for it.

`send()` normalises the number, counts the parts, picks the modem and commits the message
as queued before it returns; the consent rule (invariant 3) is enforced in that same
transaction by `queries.enqueue_outbound`, and again by the claim at the radio. Compliance
replies use `enqueue_in_unit` inside the transaction that commits the inbound keyword, so
every path goes through this one class.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from gateway import events
from gateway.config import Settings
from gateway.contacts import normalize_number
from gateway.domain import (
    Enqueued,
    JsonObject,
    MessageOrigin,
    MessageRecord,
    OutboundPartRecord,
    node_alive_since,
    utcnow,
)
from gateway.errors import InvalidInput, ModemUnavailable
from gateway.logutil import mask_number
from gateway.outbox.choice import choose_modem, least_busy
from gateway.storage import metrics_queries, queries
from modem.errors import PduEncodeError
from modem.pdu import encode_submit, segment_info
from modem.pdu.types import Encoding

if TYPE_CHECKING:
    from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY_CHARS = 200
# The text of a modem test when the caller gives none.
TEST_MESSAGE = "Test message from smsgw, sent through modem {modem}."
# a concatenation reference for checking that a draft encodes; the real one is allocated
# when the message is committed
_PROBE_CONCAT_REF = 0
_PROBE_NUMBER = "+447700900000"

# The names of the modems that can send now; None: read the modems table (another process).
HealthSource = Callable[[], Collection[str]]
# Told when a message is queued for a modem (None: for whichever is free first).
WakeListener = Callable[[str | None], None]


@dataclass(frozen=True, slots=True)
class Draft:
    """A text ready to queue: the recipient in E.164 and what it costs on the air."""

    number: str
    body: str
    parts: int
    encoding: Encoding


@dataclass(frozen=True, slots=True)
class SegmentCount:
    """What a draft costs on the air (the composer's live counter), and whether it may go."""

    encoding: str  # "gsm7" or "ucs2"
    parts: int
    units: int  # septets (GSM-7, extension characters count 2) or UTF-16 code units
    units_per_part: int
    units_left: int  # left in the last part before another part is needed
    non_gsm_chars: tuple[str, ...]  # the characters that forced UCS-2
    max_parts: int  # [outbound] max_parts: more parts than this are refused
    sendable: bool  # not blank and within max_parts


def prepare(to: str, body: str, *, region: str, max_parts: int) -> Draft:
    """Check and measure a text; InvalidInput naming `to` or `body` when it cannot be sent."""
    number = normalize_number(to, region, field="to")
    return Draft(number, body, *measure(body, max_parts=max_parts))


def measure(body: str, *, max_parts: int) -> tuple[int, Encoding]:
    """(parts, encoding) of a text; InvalidInput naming `body` when it cannot be sent."""
    if not body.strip():
        raise InvalidInput("body", "the text is empty")
    info = segment_info(body)
    if info.parts > max_parts:
        raise InvalidInput(
            "body",
            f"the text needs {info.parts} SMS parts ({info.units} "
            f"{info.encoding.value} units); at most {max_parts} are allowed "
            "([outbound] max_parts)",
        )
    try:
        # the probe catches what counting cannot (lone surrogates from a JSON body)
        encode_submit(_PROBE_NUMBER, body, concat_ref=_PROBE_CONCAT_REF)
    except PduEncodeError as exc:
        raise InvalidInput("body", f"cannot be sent as SMS: {exc}") from exc
    return info.parts, info.encoding


class OutboundService:
    """The durable outbound queue's front door: API, agents, automation, compliance, CLI."""

    def __init__(
        self,
        store: Store,
        bus: events.EventBus,
        *,
        settings: Settings,
        health: HealthSource | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._bus = bus
        self._region = settings.gateway.default_region
        self._max_parts = settings.outbound.max_parts
        self._node = settings.gateway.node_name
        self._node_timeout_s = settings.gateway.node_timeout_s
        self._health = health
        self._clock = clock
        self._listeners: list[WakeListener] = []

    # -------------------------------------------------------------- wiring

    def set_health(self, health: HealthSource | None) -> None:
        """Where the healthy modems come from (the dispatcher, once it runs)."""
        self._health = health

    def on_queued(self, listener: WakeListener) -> None:
        """Call `listener(modem)` after each commit of a new message (the dispatcher's wake)."""
        self._listeners.append(listener)

    def healthy_now(self) -> frozenset[str] | None:
        """The modems that can send now, or None when only the modems table knows."""
        return None if self._health is None else frozenset(self._health())

    # -------------------------------------------------------------- the API

    def normalize(self, number: str, *, field: str = "number") -> str:
        """E.164 of `number` read in this box's region; InvalidInput naming `field`."""
        return normalize_number(number, self._region, field=field)

    def prepare(self, to: str, body: str) -> Draft:
        """`prepare` with this box's region and part limit."""
        return prepare(to, body, region=self._region, max_parts=self._max_parts)

    def measure(self, body: str) -> tuple[int, Encoding]:
        """`measure` with this box's part limit."""
        return measure(body, max_parts=self._max_parts)

    def count(self, text: str) -> SegmentCount:
        """The live counter of a draft: encoding, parts and units left; never refuses."""
        info = segment_info(text)
        return SegmentCount(
            encoding=info.encoding.value,
            parts=info.parts,
            units=info.units,
            units_per_part=info.units_per_part,
            units_left=info.units_left,
            non_gsm_chars=info.non_gsm_chars,
            max_parts=self._max_parts,
            sendable=bool(text.strip()) and info.parts <= self._max_parts,
        )

    async def send(
        self,
        to: str,
        body: str,
        *,
        context: JsonObject | None = None,
        idempotency_key: str | None = None,
        origin: MessageOrigin = MessageOrigin.API,
        conversation_id: int | None = None,
        user: int | None = None,
    ) -> MessageRecord:
        """Queue a text and return it once committed (status `queued`).

        Raises InvalidInput (naming the field), OptedOut, Conflict (an idempotency key
        reused for another text) or NotFound (no such conversation). The same
        idempotency key again returns the first message and queues nothing.
        """
        enqueued = await self.queue(
            to,
            body,
            context=context,
            idempotency_key=idempotency_key,
            origin=origin,
            conversation_id=conversation_id,
            user=user,
        )
        return enqueued.message

    async def queue(
        self,
        to: str,
        body: str,
        *,
        context: JsonObject | None = None,
        idempotency_key: str | None = None,
        origin: MessageOrigin = MessageOrigin.API,
        conversation_id: int | None = None,
        user: int | None = None,
        pin: str | None = None,
    ) -> Enqueued:
        """`send`, answering with the parts and whether this call queued the message
        (`created` False: the idempotency key was known). `pin` sends through that modem
        only (origin TEST: never failed over, never rescued); NotFound if it is unknown."""
        draft = self.prepare(to, body)
        if idempotency_key is not None and not (
            0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_CHARS
        ):
            raise InvalidInput(
                "idempotency_key",
                f"must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters",
            )
        healthy = self.healthy_now()
        enqueued = await self._store.run(
            self.enqueue_in_unit,
            draft,
            now=self._clock(),
            healthy=healthy,
            origin=MessageOrigin.TEST if pin is not None else origin,
            context=context,
            idempotency_key=idempotency_key,
            conversation_id=conversation_id,
            user_id=user,
            pin=pin,
        )
        self.announce(enqueued)
        return enqueued

    async def send_test(
        self, modem: str, to: str, body: str | None = None, *, user: int | None = None
    ) -> Enqueued:
        """Queue a test text through `modem` only (TEST_MESSAGE when `body` is None)."""
        text = TEST_MESSAGE.format(modem=modem) if body is None else body
        return await self.queue(to, text, user=user, pin=modem)

    def enqueue_in_unit(
        self,
        draft: Draft,
        *,
        now: datetime,
        healthy: Collection[str] | None,
        origin: MessageOrigin,
        context: JsonObject | None = None,
        idempotency_key: str | None = None,
        conversation_id: int | None = None,
        user_id: int | None = None,
        consent_exempt: bool = False,
        pin: str | None = None,
        modems: Collection[str] | None = None,
    ) -> Enqueued:
        """Runs ON THE DB THREAD, inside a unit: choose the modem and commit the message.

        `modems` limits the choice to those (a Twilio account's): one of them is chosen
        even when none is healthy now, never another. Raises OptedOut unless
        `consent_exempt` (only the opt-out confirmation is), and NotFound when `pin`
        names a modem the daemon never recorded.
        """
        if pin is not None:
            modem: str | None = queries.get_modem(pin).name
        else:
            alive_since = node_alive_since(now, self._node_timeout_s)
            if healthy is None:  # no dispatcher here: the table knows
                ready = queries.ready_modems(alive_since=alive_since)
            else:  # ours as the dispatcher sees them, the live other boxes' as they say
                ready = [
                    *healthy,
                    *queries.ready_modems(
                        alive_since=alive_since, other_than=self._node
                    ),
                ]
            sticky = queries.sticky_modem(draft.number, conversation_id)
            depths = queries.outbound_queue_depths()
            if modems is None:
                modem = choose_modem(sticky, ready, depths)
            else:
                if not modems:
                    raise ModemUnavailable("no modem to send this message from")
                allowed = [name for name in ready if name in modems]
                sticky = sticky if sticky in modems else None
                modem = choose_modem(sticky, allowed, depths) or least_busy(
                    modems, depths
                )
        enqueued = queries.enqueue_outbound(
            number=draft.number,
            body=draft.body,
            parts_count=draft.parts,
            encoding=draft.encoding.value,
            now=now,
            idempotency_key=idempotency_key,
            context=context,
            modem=modem,
            origin=origin,
            user_id=user_id,
            conversation_id=conversation_id,
            consent_exempt=consent_exempt,
        )
        # a human reply stops the support metrics' clocks, in this same unit
        metrics_queries.record_outbound(enqueued, now=now)
        return enqueued

    def announce(self, enqueued: Enqueued) -> None:
        """After the commit: tell subscribers and wake the message's sender."""
        if not enqueued.created:
            return
        message = enqueued.message
        _LOGGER.debug(
            "message %s to %s queued for %s",
            message.id,
            mask_number(message.number),
            message.modem or "any modem",
        )
        self._bus.publish(
            events.MessageQueued(
                message.id, message.conversation_id, message.created_at
            )
        )
        for listener in self._listeners:
            listener(message.modem)

    async def get(self, message_id: int) -> MessageRecord:
        """The message; NotFound if there is none."""
        return await self._store.run(queries.get_message, message_id)

    async def parts(self, message_id: int) -> list[OutboundPartRecord]:
        """An outbound message's parts, in order."""
        return await self._store.run(queries.outbound_parts, message_id)
