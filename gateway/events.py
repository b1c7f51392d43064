"""Domain events and the in-process bus that live views (SSE) and automation listen on.

The bus is for things that happen *inside* the box. Anything that leaves it (webhooks)
is written to the durable outbox in the same transaction as the change it reports; a
subscriber that falls behind here loses its subscription, never a message. Boxes that
share one PostgreSQL database also hear each other's events (gateway.crossnode
publishes them here with `remote=True`), so an inbox open on one box shows what arrives
on another's modem.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

_LOGGER = logging.getLogger(__name__)

SUBSCRIBER_QUEUE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class MessageReceived:
    message_id: int
    conversation_id: int
    contact_id: int
    modem: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class MessageQueued:
    message_id: int
    conversation_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class MessageStatusChanged:
    message_id: int
    conversation_id: int | None
    status: str
    error: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ConversationCreated:
    conversation_id: int
    contact_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class ConversationStatusChanged:
    conversation_id: int
    status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ConversationAssigned:
    conversation_id: int
    assignee_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class PriorityChanged:
    conversation_id: int
    priority: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ConversationTagged:
    """Tags were added to or taken off a conversation; `tags` is what it has now."""

    conversation_id: int
    added: tuple[str, ...]
    removed: tuple[str, ...]
    tags: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class NoteAdded:
    conversation_id: int
    note_id: int
    author_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ConversationRead:
    """The conversation's (shared) read marker moved up to `message_id`."""

    conversation_id: int
    message_id: int
    user_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ContactChanged:
    """A contact was created, updated, deleted or imported (`change` says which)."""

    contact_id: int
    change: str  # created, updated, deleted
    at: datetime


@dataclass(frozen=True, slots=True)
class ConversationFlagged:
    """Something in a conversation needs an agent's judgement (e.g. free-text opt-out)."""

    conversation_id: int
    message_id: int | None
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ConsentChanged:
    number: str
    opted_out: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class ReplyOptionSelected:
    """A customer's reply picked option `key` of notification `notification_id`."""

    notification_id: int
    conversation_id: int
    message_id: int
    key: str
    at: datetime


@dataclass(frozen=True, slots=True)
class AutomationHandedOver:
    """The automation handed a conversation to a human; it asks nothing more there.
    `escalated`: a takeover word, HELP or frustration (priority raised, agents told)."""

    conversation_id: int
    reason: str
    escalated: bool
    queue: str | None
    assignee_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ModemStatus:
    modem: str
    state: str
    reason: str
    at: datetime


DomainEvent = (
    MessageReceived
    | MessageQueued
    | MessageStatusChanged
    | ConversationCreated
    | ConversationStatusChanged
    | ConversationAssigned
    | PriorityChanged
    | ConversationTagged
    | NoteAdded
    | ConversationRead
    | ContactChanged
    | ConversationFlagged
    | ConsentChanged
    | AutomationHandedOver
    | ReplyOptionSelected
    | ModemStatus
)


@dataclass(eq=False)
class Subscription:
    """A subscriber's queue; iterate it. Ends when closed or when it fell too far behind."""

    bus: EventBus
    types: tuple[type, ...] | None
    local_only: bool = False  # not the events other boxes published
    # a live view: ended when events may have been missed (see EventBus.missed), so that
    # its reader fetches its state again, as after falling behind
    resyncs: bool = False
    queue: asyncio.Queue[DomainEvent | None] = field(
        default_factory=lambda: asyncio.Queue(SUBSCRIBER_QUEUE_SIZE)
    )
    lagged: bool = False

    def wants(self, event: DomainEvent, *, remote: bool = False) -> bool:
        if remote and self.local_only:
            return False
        return self.types is None or isinstance(event, self.types)

    def close(self) -> None:
        """Stop receiving; the iterator ends after what is already queued."""
        self.bus.unsubscribe(self)
        self._end()

    def _end(self) -> None:
        try:
            self.queue.put_nowait(None)
        except asyncio.QueueFull:
            # make room for the end marker: the subscriber is finished anyway
            self.queue.get_nowait()
            self.queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[DomainEvent]:
        while (event := await self.queue.get()) is not None:
            yield event


class EventBus:
    """Publish/subscribe within the process; publish never blocks or raises."""

    def __init__(self) -> None:
        self._subscribers: list[Subscription] = []
        # Events published so far. A page rendered at N and a stream subscribed at M > N
        # missed the events in between: the page fetches itself again.
        self.published = 0

    def subscribe(
        self, *types: type, local_only: bool = False, resyncs: bool = False
    ) -> Subscription:
        """Events of the given types (all when none given) published from now on; with
        `local_only`, only those that happened on this box; with `resyncs`, ended by
        `missed()` (a live view that fetches its state again when it ends)."""
        sub = Subscription(self, types or None, local_only, resyncs=resyncs)
        self._subscribers.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def missed(self, reason: str) -> int:
        """Events may have been missed (`reason`: what happened, for the log): end every
        `resyncs` subscription, so each live view fetches its state again. How many."""
        ended = [sub for sub in self._subscribers if sub.resyncs]
        for sub in ended:
            sub.lagged = True
            sub.close()
        if ended:
            _LOGGER.info("%d live view(s) told to resync: %s", len(ended), reason)
        return len(ended)

    def publish(self, event: DomainEvent, *, remote: bool = False) -> None:
        """Hand the event to every interested subscriber; drop subscribers that lag.
        `remote`: it happened on another box (heard through the database)."""
        self.published += 1
        for sub in list(self._subscribers):
            if not sub.wants(event, remote=remote):
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                _LOGGER.warning(
                    "event subscriber fell %d events behind; dropping it (it must resync)",
                    SUBSCRIBER_QUEUE_SIZE,
                )
                sub.lagged = True
                self.unsubscribe(sub)
                sub._end()
