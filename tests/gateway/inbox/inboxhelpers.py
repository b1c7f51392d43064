"""Helpers for inbox tests (imported by name: tests/ has no packages): a clock moved by
hand, and customers, agents and messages made through the storage layer's own paths."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.auth.records import UserRecord
from gateway.contacts import ContactService
from gateway.domain import (
    ContactRecord,
    MessageOrigin,
    MessageRecord,
    NumberKind,
    ThreadedMessage,
    UserRole,
)
from gateway.events import DomainEvent, EventBus, Subscription
from gateway.inbox.contacts import ContactsService
from gateway.inbox.records import Actor
from gateway.inbox.service import InboxService
from gateway.outbox.service import OutboundService
from gateway.storage import auth_queries, queries
from gateway.storage.db import Store

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CUSTOMER = "+447700900123"
OTHER = "+447700900456"
THIRD = "+447700900789"
_PDUS = itertools.count(1)


class Clock:
    """A clock the test moves by hand; each reading is a second after the last, so
    every change has its own instant unless a test pins one."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@dataclass
class Inbox:
    """The inbox services over a real SQLite file, and what they published."""

    store: Store
    bus: EventBus
    outbox: OutboundService
    inbox: InboxService
    contacts: ContactsService
    clock: Clock
    subscription: Subscription
    seen: list[DomainEvent] = field(default_factory=list)

    @property
    def events(self) -> list[DomainEvent]:
        """Every event published so far (publish is synchronous: nothing to wait for)."""
        while not self.subscription.queue.empty():
            event = self.subscription.queue.get_nowait()
            if event is not None:
                self.seen.append(event)
        return self.seen

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def user(
        self,
        username: str = "alice",
        *,
        active: bool = True,
        role: UserRole = UserRole.AGENT,
    ) -> UserRecord:
        return await self.store.run(_user_unit, username, active, role, self.clock())

    async def actor(self, username: str = "alice") -> Actor:
        user = await self.user(username)
        return Actor(f"user:{username}", user.id)

    async def inbound(
        self, text: str, *, sender: str = CUSTOMER, modem: str = "usb0"
    ) -> ThreadedMessage:
        """A customer's text arrives (the inbound path's own unit of work)."""
        return await self.store.run(_inbound_unit, sender, text, modem, self.clock())

    async def outbound(
        self,
        text: str,
        *,
        to: str = CUSTOMER,
        context: dict[str, Any] | None = None,
        origin: MessageOrigin = MessageOrigin.API,
        user_id: int | None = None,
        conversation_id: int | None = None,
    ) -> MessageRecord:
        """A text queued to a customer (through OutboundService, like the API)."""
        return await self.outbound_service_send(
            text, to, context, origin, user_id, conversation_id
        )

    async def outbound_service_send(
        self,
        text: str,
        to: str,
        context: dict[str, Any] | None,
        origin: MessageOrigin,
        user_id: int | None,
        conversation_id: int | None,
    ) -> MessageRecord:
        return await self.outbox.send(
            to,
            text,
            context=context,
            origin=origin,
            user=user_id,
            conversation_id=conversation_id,
        )

    async def contact(self, number: str = CUSTOMER, **fields: Any) -> ContactRecord:
        return await ContactService.upsert(self.contacts, number, **fields)


def _user_unit(
    username: str, active: bool, role: UserRole, now: datetime
) -> UserRecord:
    user = auth_queries.create_user(
        username,
        display_name=username.title(),
        role=role,
        password_hash="x",
        now=now,
    )
    if not active:
        from gateway.storage.models import User

        User.update(active=False).where(User.id == user.id).execute()
    return user


def _inbound_unit(sender: str, text: str, modem: str, now: datetime) -> ThreadedMessage:
    kind = (
        NumberKind.ALPHANUMERIC if any(c.isalpha() for c in sender) else NumberKind.E164
    )
    _, threaded = queries.receive_inbound_part(
        modem=modem,
        sender=sender,
        sender_kind=kind,
        pdu=f"pdu-{next(_PDUS)}".encode(),
        text=text,
        encoding="gsm7",
        concat=None,
        network_at=now,
        received_at=now,
        reopen_window_s=0,
    )
    assert threaded is not None
    return threaded
