"""Frozen values of message reads: the list's filter, and a message with its parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.domain import Direction, MessageRecord, MessageStatus, OutboundPartRecord


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Which messages a list shows; None everywhere shows them all."""

    direction: Direction | None = None
    status: MessageStatus | None = None
    number: str | None = None  # E.164, as stored
    conversation_id: int | None = None
    since: datetime | None = None  # created at or after (aware)


@dataclass(frozen=True, slots=True)
class MessageDetail:
    """A message with each outbound part's delivery state (none for inbound)."""

    message: MessageRecord
    parts: tuple[OutboundPartRecord, ...]
